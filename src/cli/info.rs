//! `jcrpack info PACKAGE [--json]`: what a package is and holds.

use super::{CliError, CliResult};
use crate::archive::{self, Archive, ReadOptions};
use crate::package::info::{info, PackageInfo};
use clap::Args;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Summarize a package: id, type, dependencies, filter, sizes, node types, hooks.
#[derive(Debug, Args)]
pub struct InfoArgs {
    /// The package: a .zip, or a folder holding META-INF/vault/ and jcr_root/.
    pub package: PathBuf,
    /// Print JSON (schema: schemas/info.schema.json).
    #[arg(long)]
    pub json: bool,
}

/// Opens a package archive, with the path in the message when it cannot be read.
pub(super) fn open_package(p: &Path) -> CliResult<Box<dyn Archive>> {
    archive::open(p, &ReadOptions::default())
        .map_err(|e| CliError::context(format!("{}: cannot read the package", p.display()), e))
}

/// Runs `info`.
pub fn run(a: InfoArgs) -> CliResult<i32> {
    let archive = open_package(&a.package)?;
    let i = info(archive.as_ref()).map_err(|e| CliError::context(a.package.display(), e))?;
    for w in &i.warnings {
        status!("warning: {w}");
    }
    if a.json {
        super::print_json(&i)?;
    } else {
        let mut out = super::out::stdout();
        out.write_all(human(&i).as_bytes())?;
        out.flush()?;
    }
    Ok(0)
}

/// The human-readable form of `info`.
pub fn human(i: &PackageInfo) -> String {
    let mut s = String::new();
    // Every line escaped: a description or a pattern from the package is one line.
    macro_rules! w {
        ($($t:tt)*) => {{
            let line = format!($($t)*);
            s.push_str(&super::out::escape_controls(&line, false));
            s.push('\n');
        }};
    }
    w!("package:      {} ({})", i.package, i.kind);
    w!(
        "id:           {}",
        i.id.as_deref()
            .unwrap_or("(none: properties.xml names no group and name)")
    );
    if let Some(d) = &i.description {
        w!("description:  {d}");
    }
    w!(
        "type:         {}",
        i.package_type.as_deref().unwrap_or("(not declared)")
    );
    w!(
        "dependencies: {}",
        if i.dependencies.is_empty() {
            "(none)".to_string()
        } else {
            i.dependencies.join(", ")
        }
    );
    w!(
        "filter:{}",
        if i.filter.is_empty() {
            "       (none)"
        } else {
            ""
        }
    );
    for f in &i.filter {
        let kind = f
            .kind
            .as_deref()
            .map(|k| format!(", type {k}"))
            .unwrap_or_default();
        w!("  {} (mode {}{kind})", f.root, f.mode);
        for r in &f.rules {
            let props = if r.match_properties {
                " (properties)"
            } else {
                ""
            };
            w!("    {} {}{props}", r.kind, r.pattern);
        }
    }
    w!("nodes:        {}", i.counts.nodes);
    w!(
        "files:        {} ({} bytes)",
        i.counts.files,
        i.counts.bytes
    );
    w!(
        "node types:   {}",
        if i.node_types.is_empty() {
            "(none declared)".to_string()
        } else {
            i.node_types.join(", ")
        }
    );
    w!(
        "namespaces:{}",
        if i.namespaces.is_empty() {
            "   (none)"
        } else {
            ""
        }
    );
    for n in &i.namespaces {
        w!("  {} = {}", n.prefix, n.uri);
    }
    if !i.install_hooks.is_empty() {
        w!("install hooks (never run by jcrpack):");
        for h in &i.install_hooks {
            let what = h.class.as_deref().or(h.entry.as_deref()).unwrap_or("");
            w!("  {} {what}", h.name);
        }
    }
    s
}
