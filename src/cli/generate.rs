//! `jcrpack generate --seed N --nodes N [--binary-bytes B] -o DIR` (hidden): a
//! deterministic AEM-like package source folder for benchmarks.

use super::CliResult;
use crate::generate::{generate, GenerateOptions};
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

/// Generates a package source folder (jcr_root/, META-INF/vault/) of realistic
/// content; the same seed and sizes give the same bytes.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The seed of every random choice.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// About how many JCR nodes to write.
    #[arg(long, default_value_t = 10_000)]
    pub nodes: u64,
    /// Bytes of DAM binaries (default: 1 KiB per node).
    #[arg(long)]
    pub binary_bytes: Option<u64>,
    /// The folder to write (absent or empty).
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `generate`.
pub fn run(a: GenerateArgs) -> CliResult<i32> {
    let options = GenerateOptions {
        seed: a.seed,
        nodes: a.nodes,
        binary_bytes: a
            .binary_bytes
            .unwrap_or_else(|| GenerateOptions::default_binary_bytes(a.nodes)),
    };
    let s = generate(&a.output, &options)?;
    if a.json {
        super::print_json(&s)?;
    } else {
        let mut out = super::out::stdout();
        writeln!(
            out,
            "generated {}: {} nodes, {} files, {} bytes ({} binary)",
            a.output.display(),
            s.nodes,
            s.files,
            s.bytes,
            s.binary_bytes
        )?;
        out.flush()?;
    }
    Ok(0)
}
