//! Deterministic AEM-like content for benchmarks and tests (`jcrpack generate`).
//!
//! [`generate`] writes a package source folder (`jcr_root/`, `META-INF/vault/`
//! with `filter.xml` and `properties.xml`) of about `nodes` nodes: sites with pages
//! and components, DAM assets with renditions and binaries, a wide tag folder, a
//! deep page chain, and access control lists. DocView files go through
//! [`crate::docview::writer`], so they are formatted exactly as FileVault writes
//! them. The same seed and sizes give byte-identical output, whatever the number of
//! threads: every unit of content draws from its own stream of [`rng::Rng`].
//!
//! One module per concept: [`plan`] (sizes), [`rng`], [`text`], [`binary`],
//! [`output`] (files), [`page`], [`dam`], [`tags`], [`acl`], [`components`],
//! [`vault`] (package metadata).

pub mod acl;
pub mod binary;
pub mod components;
pub mod dam;
pub mod output;
pub mod page;
pub mod plan;
pub mod rng;
pub mod tags;
pub mod text;
pub mod vault;

#[cfg(test)]
mod tests;

use std::io;
use std::path::Path;
use std::sync::atomic::Ordering;

pub use plan::Plan;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerateOptions {
    /// The seed of every random choice.
    pub seed: u64,
    /// About how many JCR nodes (the result is within a few percent).
    pub nodes: u64,
    /// Bytes of binaries over all DAM renditions.
    pub binary_bytes: u64,
}

impl GenerateOptions {
    /// The default binary budget: 1 KiB per node (100 MiB for 100,000 nodes).
    pub fn default_binary_bytes(nodes: u64) -> u64 {
        nodes.saturating_mul(1024)
    }
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateSummary {
    /// JCR nodes the package holds.
    pub nodes: u64,
    /// Files written (DocView, binaries, package metadata).
    pub files: u64,
    /// Bytes of all files.
    pub bytes: u64,
    /// Bytes of binaries.
    pub binary_bytes: u64,
    /// The filter roots, one per generated tree.
    pub roots: Vec<String>,
}

/// Errors of [`generate`].
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The output folder exists and is not empty.
    #[error("{0} exists and is not empty")]
    NotEmpty(String),
    /// Reading or writing files failed.
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// Writes the content of `options` into the folder `dir`, which must be absent or
/// empty.
pub fn generate(dir: &Path, options: &GenerateOptions) -> Result<GenerateSummary, GenerateError> {
    if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
        return Err(GenerateError::NotEmpty(dir.display().to_string()));
    }
    std::fs::create_dir_all(dir)?;
    let plan = Plan::new(options.seed, options.nodes, options.binary_bytes);
    let out = output::Output::new(dir);
    components::write_components(&out, &plan)?;
    page::write_sites(&out, &plan)?;
    dam::write_assets(&out, &plan)?;
    tags::write_tags(&out, &plan)?;
    acl::write_acls(&out, &plan)?;
    let filter = vault::filter(&plan);
    let nodes = out.totals.nodes.load(Ordering::Relaxed);
    out.vault_file("filter.xml", &filter.to_xml())?;
    out.vault_file(
        "properties.xml",
        &vault::properties(&plan, options.nodes).to_xml(),
    )?;
    Ok(GenerateSummary {
        nodes,
        files: out.totals.files.load(Ordering::Relaxed),
        bytes: out.totals.bytes.load(Ordering::Relaxed),
        binary_bytes: out.totals.binary_bytes.load(Ordering::Relaxed),
        roots: filter.sets.iter().map(|s| s.root().to_string()).collect(),
    })
}
