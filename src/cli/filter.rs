//! `jcrpack filter ...`: questions about a `filter.xml`.

use super::CliResult;
use crate::filter::{explain_paths, WorkspaceFilter};
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::PathBuf;

/// Questions about a workspace filter (`META-INF/vault/filter.xml`).
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// The filter command.
    #[command(subcommand)]
    pub command: FilterCommand,
}

/// The filter subcommands.
#[derive(Debug, Subcommand)]
pub enum FilterCommand {
    /// For each path: which filter set and which rule decide, whether it is contained,
    /// covered or an ancestor, and which import mode applies, with the reason.
    Explain {
        /// The filter.xml file.
        filter: PathBuf,
        /// Repository paths to explain (absolute, e.g. /content/site/jcr:content).
        #[arg(required = true)]
        paths: Vec<String>,
        /// Print one JSON document (schema: schemas/filter-explain.schema.json).
        #[arg(long)]
        json: bool,
    },
}

/// Runs a filter subcommand.
pub fn run(args: FilterArgs) -> CliResult<i32> {
    match args.command {
        FilterCommand::Explain {
            filter,
            paths,
            json,
        } => {
            for p in &paths {
                if !p.starts_with('/') {
                    return Err(super::CliError::usage(format!(
                        "'{p}' is not an absolute repository path"
                    ))
                    .hint("repository paths start with '/', e.g. /content/site"));
                }
            }
            let f = WorkspaceFilter::load(&filter)?;
            let out = explain_paths(&f, &paths);
            if json {
                let doc =
                    serde_json::json!({ "filter": filter.display().to_string(), "paths": out });
                super::print_json(&doc)?;
            } else {
                let mut stdout = super::out::stdout();
                for e in &out {
                    write!(stdout, "{e}")?;
                }
                stdout.flush()?;
            }
            Ok(0)
        }
    }
}
