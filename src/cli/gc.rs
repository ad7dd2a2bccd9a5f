//! `jcrpack gc --repo REPO [--dry-run]`: housekeeping of a repository folder.

use super::repo::{open_repo, LockArgs};
use super::CliResult;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

/// Remove blobs nothing refers to and leftovers of killed commands, then compact.
#[derive(Debug, Args)]
pub struct GcArgs {
    /// The repository folder (created by `jcrpack init`).
    #[arg(long, short = 'r', value_name = "REPO", env = "JCRPACK_REPO")]
    pub repo: PathBuf,
    #[command(flatten)]
    pub lock: LockArgs,
    /// Only say what would be removed.
    #[arg(long)]
    pub dry_run: bool,
}

/// `512 bytes`, `3.4 KiB`, `12.0 MiB`.
fn mib(bytes: u64) -> String {
    const K: f64 = 1024.0;
    let b = bytes as f64;
    if bytes < 1024 {
        format!("{bytes} bytes")
    } else if b < K * K {
        format!("{:.1} KiB", b / K)
    } else {
        format!("{:.1} MiB", b / (K * K))
    }
}

/// Runs `gc`.
pub fn run(a: GcArgs) -> CliResult<i32> {
    let mut store = open_repo(&a.repo, &a.lock)?;
    let r = store.gc(a.dry_run)?;
    let verb = if r.dry_run { "would remove" } else { "removed" };
    // Through the pipe-safe writer: `gc | head -1` ends quietly, the gc is done.
    let mut out = super::out::stdout();
    writeln!(
        out,
        "{verb} {} unreferenced blobs ({}) and {} temporary files of killed commands ({}); kept {} blobs",
        r.blobs_removed,
        mib(r.blob_bytes),
        r.temp_files_removed,
        mib(r.temp_bytes),
        r.blobs_kept
    )?;
    if !r.dry_run {
        writeln!(
            out,
            "database: {} before, {} after compacting",
            mib(r.database_bytes.0),
            mib(r.database_bytes.1)
        )?;
    }
    out.flush()?;
    Ok(0)
}
