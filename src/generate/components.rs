//! The application part: `cq:Component` definitions below `/apps/SITE/components`
//! with their HTL scripts (small, compressible text files).

use super::output::{node, string, with, Output};
use super::plan::Plan;
use std::io;

/// The components pages use.
pub const COMPONENTS: &[&str] = &[
    "page",
    "text",
    "title",
    "image",
    "teaser",
    "list",
    "button",
    "table",
    "carousel",
    "container",
];

/// The repository path of the application of the first site.
pub fn apps_root(plan: &Plan) -> String {
    format!("/apps/{}", plan.site_names[0])
}

/// Writes one folder per component: its `.content.xml` and `NAME.html`.
pub fn write_components(out: &Output, plan: &Plan) -> io::Result<()> {
    let root = apps_root(plan);
    out.docview(&root, node("", "sling:Folder"), false)?;
    out.docview(
        &format!("{root}/components"),
        node("", "sling:Folder"),
        false,
    )?;
    for c in COMPONENTS {
        let el = with(
            node("", "cq:Component"),
            vec![
                string("jcr:title", &format!("{} (generated)", c)),
                string(
                    "componentGroup",
                    &format!("{} - Content", plan.site_names[0]),
                ),
                string(
                    "sling:resourceSuperType",
                    &format!("core/wcm/components/{c}/v2/{c}"),
                ),
            ],
        );
        let path = format!("{root}/components/{c}");
        out.docview(&path, el, false)?;
        let script = format!(
            "<div data-sly-use.model=\"com.example.{c}.Model\" class=\"cmp-{c}\">\n    <h2>${{model.title @ context='html'}}</h2>\n    <p data-sly-test=\"${{model.text}}\">${{model.text}}</p>\n</div>\n"
        );
        out.file(&format!("{path}/{c}.html"), script.as_bytes())?;
    }
    Ok(())
}
