//! Sites and pages: `cq:Page` nodes whose `jcr:content` (`cq:PageContent`) holds a
//! responsive grid of components with typed, multi-valued, dated and multilingual
//! properties, same-name siblings, ISO 9075-escaped element names, and file names
//! that need `%xx` escapes.

use super::output::{node, placeholder, string, typed, with, Output};
use super::plan::Plan;
use super::rng::Rng;
use super::text;
use crate::docview::DocViewElement;
use crate::value::PropertyType;
use rayon::prelude::*;
use std::io;

/// Child pages per page (the page tree is a heap-shaped tree with this fan-out).
pub const FANOUT: u64 = 8;

/// Page names that need escapes on disk or in XML (`%`, `?`, `<`, `"`, a colon after
/// the first character, spaces, non-ASCII, a leading digit).
const ODD_NAMES: &[&str] = &[
    "100%-natural",
    "faq?",
    "q&a",
    "über-uns",
    "日本語",
    "a<b>c",
    "say \"hi\"",
    "2024-review",
    "back\\slash",
    "café crème",
];

/// The repository path of site `site`.
pub fn site_path(plan: &Plan, site: usize) -> String {
    format!("/content/{}", plan.site_names[site])
}

/// The name of page `i` (> 0) of a language tree.
fn page_name(seed: u64, site: usize, lang: usize, i: u64) -> String {
    let mut rng = Rng::derive(
        seed,
        "page-name",
        ((site as u64) << 40) ^ ((lang as u64) << 32) ^ i,
    );
    if i % 23 == 1 {
        // Every 23rd page, so that even small sizes hold each odd name.
        format!("{}-{i}", ODD_NAMES[(i / 23) as usize % ODD_NAMES.len()])
    } else {
        format!("{}-{i}", rng.pick(text::SLUGS))
    }
}

/// The repository path of page `i` of language `lang` of site `site` (0 is the
/// language root).
pub fn page_path(plan: &Plan, site: usize, lang: usize, i: u64) -> String {
    let mut names = Vec::new();
    let mut k = i;
    while k > 0 {
        names.push(page_name(plan.seed, site, lang, k));
        k = (k - 1) / FANOUT;
    }
    let mut p = format!("{}/{}", site_path(plan, site), text::LANGUAGES[lang].0);
    for n in names.iter().rev() {
        p.push('/');
        p.push_str(n);
    }
    p
}

/// Writes every site: the site page, its language roots, their page trees and one
/// deep chain of pages.
pub fn write_sites(out: &Output, plan: &Plan) -> io::Result<()> {
    for site in 0..plan.site_names.len() {
        let mut rng = Rng::derive(plan.seed, "site", site as u64);
        let mut root = page_node(&mut rng, plan, site, 0, 0, 0);
        for (code, _) in text::LANGUAGES.iter().take(plan.languages) {
            root.children.push(placeholder(code));
        }
        out.docview(&site_path(plan, site), root, false)?;
    }
    let units: Vec<(usize, usize)> = (0..plan.site_names.len())
        .flat_map(|s| (0..plan.languages).map(move |l| (s, l)))
        .collect();
    units.par_iter().try_for_each(|&(site, lang)| {
        (0..plan.pages_per_language)
            .into_par_iter()
            .try_for_each(|i| write_page(out, plan, site, lang, i))
    })?;
    write_deep_chain(out, plan)
}

fn write_page(out: &Output, plan: &Plan, site: usize, lang: usize, i: u64) -> io::Result<()> {
    let unit = ((site as u64) << 40) ^ ((lang as u64) << 32) ^ i;
    let mut rng = Rng::derive(plan.seed, "page", unit);
    let mut page = page_node(&mut rng, plan, site, lang, i, plan.components_per_page);
    for c in (i * FANOUT + 1)..=(i * FANOUT + FANOUT) {
        if c < plan.pages_per_language {
            page.children
                .push(placeholder(&page_name(plan.seed, site, lang, c)));
        }
    }
    out.docview(&page_path(plan, site, lang, i), page, false)
}

/// A chain of `plan.deep_levels` nested pages below the first language root of the
/// first site: the deepest paths of the content.
fn write_deep_chain(out: &Output, plan: &Plan) -> io::Result<()> {
    let mut path = format!("{}/{}/archive", site_path(plan, 0), text::LANGUAGES[0].0);
    for level in 0..plan.deep_levels {
        let mut rng = Rng::derive(plan.seed, "deep", level);
        let mut page = page_node(&mut rng, plan, 0, 0, level, 2);
        if level + 1 < plan.deep_levels {
            page.children
                .push(placeholder(&format!("level-{:02}", level + 1)));
        }
        if level == 0 {
            out.docview(&path, page, false)?;
        } else {
            path.push_str(&format!("/level-{level:02}"));
            out.docview(&path, page, false)?;
        }
    }
    Ok(())
}

/// A `cq:Page` element with its `jcr:content` and about `components` components.
fn page_node(
    rng: &mut Rng,
    plan: &Plan,
    site: usize,
    lang: usize,
    i: u64,
    components: u64,
) -> DocViewElement {
    let site_name = &plan.site_names[site];
    let mut content = with(
        node("jcr:content", "cq:PageContent"),
        vec![
            string("jcr:title", &text::title(rng, lang)),
            string(
                "sling:resourceType",
                &format!("{site_name}/components/page"),
            ),
            string(
                "cq:template",
                &format!("/conf/{site_name}/settings/wcm/templates/page-content"),
            ),
            typed(
                "cq:lastModified",
                PropertyType::Date,
                &[&text::date(rng)],
                false,
            ),
            string("cq:lastModifiedBy", &text::user(rng)),
            typed(
                "cq:lastReplicated",
                PropertyType::Date,
                &[&text::date(rng)],
                false,
            ),
            string("cq:lastReplicationAction", "Activate"),
        ],
    );
    if rng.chance(60) {
        let n = rng_len(rng, 6, 20);
        content
            .properties
            .push(string("jcr:description", &text::words(rng, lang, n)));
    }
    if rng.chance(70) {
        let tags: Vec<String> = (0..rng.range(1, 4))
            .map(|_| {
                format!(
                    "{site_name}:{}/t{}",
                    rng.pick(text::TOPICS),
                    rng.below(plan.tags.max(1))
                )
            })
            .collect();
        let refs: Vec<&str> = tags.iter().map(String::as_str).collect();
        content
            .properties
            .push(typed("cq:tags", PropertyType::String, &refs, true));
    }
    if rng.chance(20) {
        content
            .properties
            .push(typed("hideInNav", PropertyType::Boolean, &["true"], false));
    }
    if rng.chance(30) {
        content
            .properties
            .push(string("navTitle", &text::title(rng, lang)));
    }
    if rng.chance(10) {
        content.properties.push(typed(
            "cq:redirectTarget",
            PropertyType::Path,
            &[&format!("/content/{site_name}/en")],
            false,
        ));
    }
    if components > 0 {
        let mut grid = with(
            node("root", "nt:unstructured"),
            vec![string(
                "sling:resourceType",
                "wcm/foundation/components/responsivegrid",
            )],
        );
        let mut left = components;
        let mut n = 0u64;
        while left > 0 {
            let (c, used) = component(rng, plan, site, lang, n, 0);
            grid.children.push(c);
            left = left.saturating_sub(used);
            n += 1;
        }
        content.children.push(grid);
    }
    let page = node("", "cq:Page");
    let _ = i;
    let mut page = page;
    page.children.push(content);
    page
}

fn rng_len(rng: &mut Rng, lo: u64, hi: u64) -> usize {
    rng.range(lo, hi) as usize
}

/// One component (and its nodes); returns it with the number of nodes it holds.
fn component(
    rng: &mut Rng,
    plan: &Plan,
    site: usize,
    lang: usize,
    n: u64,
    depth: u32,
) -> (DocViewElement, u64) {
    let site_name = &plan.site_names[site];
    let kind = rng.below(if depth < 8 { 9 } else { 7 });
    let name = match rng.below(12) {
        0 => format!("{n}col"),
        1 => format!("my component {n}"),
        _ => format!(
            "{}_{}",
            [
                "text",
                "title",
                "image",
                "teaser",
                "list",
                "button",
                "table",
                "carousel",
                "container"
            ][kind as usize],
            1_000_000 + rng.below(9_000_000)
        ),
    };
    let rt = |k: &str| string("sling:resourceType", &format!("{site_name}/components/{k}"));
    match kind {
        0 => (
            with(
                node(&name, "nt:unstructured"),
                vec![
                    rt("text"),
                    string("text", &text::rich_text(rng, lang)),
                    typed("textIsRich", PropertyType::Boolean, &["true"], false),
                ],
            ),
            1,
        ),
        1 => (
            with(
                node(&name, "nt:unstructured"),
                vec![
                    rt("title"),
                    string("jcr:title", &text::title(rng, lang)),
                    string("type", rng.pick(&["h1", "h2", "h3"])),
                ],
            ),
            1,
        ),
        2 => {
            let asset = format!(
                "/content/dam/{site_name}/2024/asset-{}.jpg",
                rng.below(1000)
            );
            (
                with(
                    node(&name, "nt:unstructured"),
                    vec![
                        rt("image"),
                        string("fileReference", &asset),
                        string("alt", &text::words(rng, lang, 4)),
                        typed(
                            "width",
                            PropertyType::Long,
                            &[&rng.range(100, 4000).to_string()],
                            false,
                        ),
                        typed(
                            "isDecorative",
                            PropertyType::Boolean,
                            &[if rng.chance(10) { "true" } else { "false" }],
                            false,
                        ),
                        typed(
                            "jcr:lastModified",
                            PropertyType::Date,
                            &[&text::date(rng)],
                            false,
                        ),
                    ],
                ),
                1,
            )
        }
        3 => (
            with(
                node(&name, "nt:unstructured"),
                vec![
                    rt("teaser"),
                    string("jcr:title", &text::title(rng, lang)),
                    string(
                        "linkURL",
                        &format!(
                            "/content/{site_name}/en/page-{}.html?ref=teaser&x=\"1\"",
                            rng.below(100)
                        ),
                    ),
                    typed("titleFromPage", PropertyType::Boolean, &["false"], false),
                    typed(
                        "rating",
                        PropertyType::Double,
                        &[&format!("{}.{}", rng.below(5), rng.below(10))],
                        false,
                    ),
                ],
            ),
            1,
        ),
        4 => {
            let pages: Vec<String> = (0..rng.range(2, 6))
                .map(|k| format!("/content/{site_name}/en/item-{k},x"))
                .collect();
            let refs: Vec<&str> = pages.iter().map(String::as_str).collect();
            (
                with(
                    node(&name, "nt:unstructured"),
                    vec![
                        rt("list"),
                        typed("pages", PropertyType::String, &refs, true),
                        typed(
                            "limit",
                            PropertyType::Long,
                            &[&rng.range(1, 50).to_string()],
                            false,
                        ),
                        typed("orderBy", PropertyType::String, &["modified"], false),
                        typed("emptyList", PropertyType::String, &[], true),
                    ],
                ),
                1,
            )
        }
        5 => (
            with(
                node(&name, "nt:unstructured"),
                vec![
                    rt("button"),
                    string("text", &text::words(rng, lang, 2)),
                    string("icon", "arrow-right"),
                    string("accessibilityLabel", "{not a type hint}"),
                ],
            ),
            1,
        ),
        6 => (
            with(
                node(&name, "nt:unstructured"),
                vec![
                    rt("table"),
                    typed(
                        "price",
                        PropertyType::Decimal,
                        &[&format!("{}.{:02}", rng.below(10_000), rng.below(100))],
                        false,
                    ),
                    typed(
                        "counts",
                        PropertyType::Long,
                        &[&rng.below(99).to_string(), &rng.below(99).to_string(), "-1"],
                        true,
                    ),
                    typed("ratios", PropertyType::Double, &["0.5", "1.0E-3"], true),
                ],
            ),
            1,
        ),
        7 => {
            // Same-name siblings: item, item[2], item[3] (nt:unstructured allows them).
            let mut el = with(
                node(&name, "nt:unstructured"),
                vec![
                    rt("carousel"),
                    typed("delay", PropertyType::Long, &["5000"], false),
                ],
            );
            let items = rng.range(2, 4);
            for k in 1..=items {
                let mut item = with(
                    node("item", "nt:unstructured"),
                    vec![string("jcr:title", &text::title(rng, lang))],
                );
                item.index = k as u32;
                el.children.push(item);
            }
            (el, 1 + items)
        }
        _ => {
            // A container with nested components: deep component trees.
            let mut el = with(
                node(&name, "nt:unstructured"),
                vec![rt("container"), string("layout", "responsiveGrid")],
            );
            let mut used = 1;
            for k in 0..rng.range(1, 3) {
                let (c, u) = component(rng, plan, site, lang, k, depth + 1);
                el.children.push(c);
                used += u;
            }
            (el, used)
        }
    }
}
