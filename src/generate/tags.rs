//! The tag taxonomy: `cq:Tag` nodes below `/content/cq:tags/SITE` (on disk
//! `_cq_tags`), with one wide folder holding up to 10,000 tags side by side.

use super::output::{node, string, with, Output};
use super::plan::Plan;
use super::rng::Rng;
use super::text;
use rayon::prelude::*;
use std::io;

/// The repository path of the tag namespace of the first site.
pub fn tags_root(plan: &Plan) -> String {
    format!("/content/cq:tags/{}", plan.site_names[0])
}

/// Writes the tag namespace, one tag per topic, and the wide `topics` folder.
pub fn write_tags(out: &Output, plan: &Plan) -> io::Result<()> {
    let root = tags_root(plan);
    let ns = with(
        node("", "cq:Tag"),
        vec![
            string("jcr:title", &plan.site_names[0]),
            string("sling:resourceType", "cq/tagging/components/tag"),
        ],
    );
    out.docview(&root, ns, false)?;
    for topic in text::TOPICS {
        out.docview(
            &format!("{root}/{topic}"),
            tag(&mut Rng::derive(plan.seed, topic, 0)),
            false,
        )?;
    }
    let wide = format!("{root}/topics");
    out.docview(&wide, tag(&mut Rng::derive(plan.seed, "topics", 0)), false)?;
    (0..plan.tags).into_par_iter().try_for_each(|k| {
        let mut rng = Rng::derive(plan.seed, "tag", k);
        out.docview(&format!("{wide}/t{k}"), tag(&mut rng), false)
    })
}

/// A `cq:Tag` element with a title per language.
fn tag(rng: &mut Rng) -> crate::docview::DocViewElement {
    let mut props = vec![
        string("jcr:title", &text::title(rng, 0)),
        string("sling:resourceType", "cq/tagging/components/tag"),
    ];
    for (lang, (code, _)) in text::LANGUAGES.iter().enumerate().skip(1) {
        if rng.chance(60) {
            props.push(string(
                &format!("jcr:title.{code}"),
                &text::title(rng, lang),
            ));
        }
    }
    with(node("", "cq:Tag"), props)
}
