//! DAM assets: `dam:Asset` folders whose `jcr:content` (`dam:AssetContent`) holds
//! metadata and an `nt:folder` of renditions, each rendition an `nt:file`. The
//! binary budget is split over the assets by skewed weights, so that a few assets
//! are large and most are small, as in a real DAM.

use super::binary::{self, Kind};
use super::output::{node, string, typed, with, Output};
use super::plan::Plan;
use super::rng::Rng;
use super::text;
use crate::value::PropertyType;
use rayon::prelude::*;
use std::io;

/// Asset folders below each site's DAM root.
const FOLDERS: &[&str] = &[
    "2019",
    "2020",
    "2021",
    "2022",
    "2023",
    "2024",
    "campaigns",
    "brand assets",
    "people",
];

/// The repository path of the DAM root of site `site`.
pub fn dam_root(plan: &Plan, site: usize) -> String {
    format!("/content/dam/{}", plan.site_names[site])
}

/// The weight of an asset in the binary budget: mostly 1–16, one in twenty 64.
fn weight(seed: u64, unit: u64) -> u64 {
    let mut rng = Rng::derive(seed, "asset-weight", unit);
    if rng.chance(5) {
        64
    } else {
        rng.range(1, 16)
    }
}

/// Writes every site's DAM: folders and assets.
pub fn write_assets(out: &Output, plan: &Plan) -> io::Result<()> {
    let sites = plan.site_names.len() as u64;
    let total = sites * plan.assets_per_site;
    let weights: Vec<u64> = (0..total)
        .into_par_iter()
        .map(|u| weight(plan.seed, u))
        .collect();
    let sum: u64 = weights.iter().sum::<u64>().max(1);
    for site in 0..plan.site_names.len() {
        let root = dam_root(plan, site);
        let el = with(
            node("", "sling:OrderedFolder"),
            vec![string(
                "jcr:title",
                &format!("{} assets", plan.site_names[site]),
            )],
        );
        out.docview(&root, el, false)?;
        for (k, f) in FOLDERS.iter().enumerate() {
            let mut rng = Rng::derive(plan.seed, "dam-folder", (site * FOLDERS.len() + k) as u64);
            let el = with(
                node("", "sling:Folder"),
                vec![string("jcr:title", &text::title(&mut rng, 0))],
            );
            out.docview(&format!("{root}/{f}"), el, false)?;
        }
    }
    (0..total).into_par_iter().try_for_each(|unit| {
        let share = (u128::from(plan.binary_bytes) * u128::from(weights[unit as usize])
            / u128::from(sum)) as u64;
        write_asset(
            out,
            plan,
            (unit / plan.assets_per_site) as usize,
            unit,
            share,
        )
    })
}

fn write_asset(out: &Output, plan: &Plan, site: usize, unit: u64, bytes: u64) -> io::Result<()> {
    let mut rng = Rng::derive(plan.seed, "asset", unit);
    let kind = Kind::draw(&mut rng);
    let stem = match rng.below(20) {
        0 => format!("Team Photo {unit}"),
        1 => format!("100% cotton ({unit})"),
        2 => format!("Übersicht-{unit}"),
        _ => format!("{}-{unit}", rng.pick(text::SLUGS)),
    };
    let name = format!("{stem}.{}", kind.extension());
    let path = format!("{}/{}/{name}", dam_root(plan, site), rng.pick(FOLDERS));
    let lang = rng.below(text::LANGUAGES.len() as u64) as usize;
    let (width, height) = (rng.range(320, 6000), rng.range(240, 4000));
    let original = bytes * 70 / 100;
    let web = bytes * 22 / 100;
    let thumb = (bytes - original - web) / 2;
    let mut metadata = with(
        node("metadata", "nt:unstructured"),
        vec![
            string("dc:format", kind.mime()),
            string("dc:title", &text::title(&mut rng, lang)),
            typed(
                "dc:subject",
                PropertyType::String,
                &[
                    &text::words(&mut rng, lang, 1),
                    &text::words(&mut rng, lang, 1),
                ],
                true,
            ),
            typed(
                "dam:size",
                PropertyType::Long,
                &[&original.to_string()],
                false,
            ),
            typed(
                "tiff:ImageWidth",
                PropertyType::Long,
                &[&width.to_string()],
                false,
            ),
            typed(
                "tiff:ImageLength",
                PropertyType::Long,
                &[&height.to_string()],
                false,
            ),
            string(
                "dam:sha1",
                &format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64()),
            ),
        ],
    );
    if rng.chance(50) {
        let tag = format!(
            "{}:{}/t{}",
            plan.site_names[site],
            rng.pick(text::TOPICS),
            rng.below(plan.tags.max(1))
        );
        metadata
            .properties
            .push(typed("cq:tags", PropertyType::String, &[&tag], true));
    }
    let mut content = with(
        node("jcr:content", "dam:AssetContent"),
        vec![
            string("dam:assetState", "processed"),
            typed(
                "jcr:lastModified",
                PropertyType::Date,
                &[&text::date(&mut rng)],
                false,
            ),
            string("jcr:lastModifiedBy", &text::user(&mut rng)),
            typed(
                "cq:lastReplicated",
                PropertyType::Date,
                &[&text::date(&mut rng)],
                false,
            ),
        ],
    );
    content.children.push(metadata);
    content.children.push(node("related", "nt:unstructured"));
    let mut asset = with(
        node("", "dam:Asset"),
        vec![
            typed(
                "jcr:mixinTypes",
                PropertyType::Name,
                &["mix:referenceable"],
                true,
            ),
            string("jcr:uuid", &text::uuid(&mut rng)),
            typed(
                "jcr:created",
                PropertyType::Date,
                &[&text::date(&mut rng)],
                false,
            ),
            string("jcr:createdBy", &text::user(&mut rng)),
        ],
    );
    asset.children.push(content);
    out.docview(&path, asset, false)?;

    let renditions = format!("{path}/jcr:content/renditions");
    out.docview(&renditions, node("", "nt:folder"), false)?;
    // `original` has no extension: its MIME type comes from a `.dir` DocView.
    let bytes = binary::content(&mut rng, kind, original as usize);
    let mut file = node("", "nt:file");
    file.children.push(with(
        node("jcr:content", "nt:resource"),
        vec![string("jcr:mimeType", kind.mime())],
    ));
    out.file_with_docview(&format!("{renditions}/original"), &bytes, file)?;
    let web_kind = if kind == Kind::Png {
        Kind::Png
    } else {
        Kind::Jpeg
    };
    let ext = if web_kind == Kind::Png { "png" } else { "jpeg" };
    out.file(
        &format!("{renditions}/cq5dam.web.1280.1280.{ext}"),
        &binary::content(&mut rng, web_kind, web as usize),
    )?;
    out.file(
        &format!("{renditions}/cq5dam.thumbnail.140.100.png"),
        &binary::content(&mut rng, Kind::Png, thumb as usize),
    )?;
    out.file(
        &format!("{renditions}/cq5dam.thumbnail.319.319.png"),
        &binary::content(&mut rng, Kind::Png, thumb as usize),
    )?;
    Ok(())
}
