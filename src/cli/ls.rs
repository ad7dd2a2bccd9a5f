//! `jcrpack ls PACKAGE [PATH] [--json]`: the repository paths a package holds.

use super::info::open_package;
use super::repo::absolute;
use super::{CliError, CliResult};
use crate::package::inspect::{walk_below, PackageNode};
use clap::Args;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

/// List the repository paths a package holds, with their node types, in document order.
#[derive(Debug, Args)]
pub struct LsArgs {
    /// The package: a .zip, or a folder holding META-INF/vault/ and jcr_root/.
    pub package: PathBuf,
    /// Only this path and the paths below it.
    #[arg(default_value = "/")]
    pub path: String,
    /// Print JSON (schema: schemas/ls.schema.json).
    #[arg(long)]
    pub json: bool,
}

/// The JSON document of `ls --json`, without its nodes: they are written one by one
/// as the package is read (see [`run`]), so that listing a million-node package holds
/// one node at a time.
#[derive(Debug, Serialize)]
pub struct Listing<'a> {
    /// The package as given.
    pub package: String,
    /// The path listed.
    pub path: &'a str,
}

/// Writes `ls` output node by node: a line per node, or the JSON document as
/// `serde_json`'s pretty printer would write it whole.
struct Printer<W: Write> {
    out: W,
    json: bool,
    count: u64,
    /// The JSON document's beginning, written before the first node or at the end
    /// (not before the package is known to be readable).
    head: Option<String>,
    /// The first write error; nothing more is written after it.
    error: Option<std::io::Error>,
}

impl<W: Write> Printer<W> {
    fn start(&mut self, doc: &Listing<'_>) -> std::io::Result<()> {
        if self.json {
            let head = serde_json::to_string_pretty(doc).map_err(std::io::Error::from)?;
            let head = crate::dump::escape_json_text(&head);
            // `{ ... "path": "/"\n}` becomes `{ ... "path": "/",\n  "nodes": [`.
            let head = head.strip_suffix("\n}").unwrap_or(&head);
            self.head = Some(format!("{head},\n  \"nodes\": ["));
        }
        Ok(())
    }

    fn write_head(&mut self) -> std::io::Result<()> {
        match self.head.take() {
            Some(head) => self.out.write_all(head.as_bytes()),
            None => Ok(()),
        }
    }

    fn node(&mut self, n: &PackageNode) {
        if self.error.is_some() {
            return;
        }
        let result = if self.json {
            self.write_head().and_then(|()| self.json_node(n))
        } else {
            let mut t = n.primary_type.clone().unwrap_or_else(|| "-".into());
            if !n.mixin_types.is_empty() {
                t.push_str(&format!(" [{}]", n.mixin_types.join(", ")));
            }
            // Each column escaped on its own: the tab between them stays.
            let esc = |s: &str| super::out::escape_controls(s, false).into_owned();
            writeln!(self.out, "{}\t{}", esc(&n.path), esc(&t))
        };
        self.count += 1;
        if let Err(e) = result {
            self.error = Some(e);
        }
    }

    fn json_node(&mut self, n: &PackageNode) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(n).map_err(std::io::Error::from)?;
        let text = crate::dump::escape_json_text(&text);
        let sep = if self.count == 0 { "" } else { "," };
        writeln!(self.out, "{sep}")?;
        // JSON strings hold no raw line breaks: every line is one of the object's.
        for (i, line) in text.lines().enumerate() {
            if i > 0 {
                writeln!(self.out)?;
            }
            write!(self.out, "    {line}")?;
        }
        Ok(())
    }

    fn finish(mut self) -> std::io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if self.json {
            self.write_head()?;
            if self.count > 0 {
                write!(self.out, "\n  ")?;
            }
            writeln!(self.out, "]\n}}")?;
        }
        self.out.flush()
    }
}

/// Runs `ls`.
pub fn run(a: LsArgs) -> CliResult<i32> {
    let p = absolute(&a.path)?;
    let archive = open_package(&a.package)?;
    let mut printer = Printer {
        out: std::io::BufWriter::new(std::io::stdout().lock()),
        json: a.json,
        count: 0,
        head: None,
        error: None,
    };
    printer.start(&Listing {
        package: archive.name().to_string(),
        path: &p,
    })?;
    let c = walk_below(archive.as_ref(), &p, &mut |n| printer.node(&n))
        .map_err(|e| CliError::context(a.package.display(), e))?;
    for w in &c.warnings {
        status!("warning: {w}");
    }
    let count = printer.count;
    printer.finish()?;
    if count == 0 && p != "/" {
        return Err(CliError::failure(format!(
            "{p}: the package holds nothing at or below this path"
        )));
    }
    Ok(0)
}
