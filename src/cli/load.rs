//! `jcrpack load XML --repo REPO --at PARENT`: JCR's `importXML` of a system view or
//! document view file. The reading and loading are the library's ([`crate::load`]).

use super::repo::{absolute, LockArgs, RepoArgs};
use super::{CliError, CliResult};
use crate::load;
use clap::Args;
use std::path::PathBuf;

/// Load an XML file (system view or document view) below a node; identifiers kept.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// The XML file.
    pub xml: PathBuf,
    #[command(flatten)]
    pub repo: RepoArgs,
    #[command(flatten)]
    pub lock: LockArgs,
    /// The parent node of the file's top node.
    #[arg(long, default_value = "/")]
    pub at: String,
    /// Allow writes below /jcr:system, /rep:security and /oak:index.
    #[arg(long)]
    pub allow_system_roots: bool,
}

/// Runs `load`.
pub fn run(a: LoadArgs) -> CliResult<i32> {
    let at = absolute(&a.at)?;
    // A FIFO or a device would block or never end: only a regular file is read.
    let meta = std::fs::metadata(&a.xml).map_err(|e| CliError::context(a.xml.display(), e))?;
    if !meta.is_file() {
        return Err(CliError::context(
            a.xml.display(),
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "not a regular file (a FIFO, device or socket)",
            ),
        ));
    }
    let bytes = std::fs::read(&a.xml).map_err(|e| CliError::context(a.xml.display(), e))?;
    let file = a.xml.display().to_string();
    let mut store = a.repo.open_for_loading(&a.lock)?;
    let tree = load::read_xml(&bytes, &file)?;
    let actor = super::repo::recorded_actor()?;
    let options = load::LoadOptions {
        allow_system_roots: a.allow_system_roots,
    };
    let added = load::load_with(
        store.as_mut(),
        &a.repo.workspace,
        &at,
        &tree,
        &file,
        &actor,
        &options,
    )?;
    status!("loaded {} nodes at {added}", tree.node.count());
    Ok(0)
}
