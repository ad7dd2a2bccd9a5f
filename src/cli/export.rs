//! `jcrpack export --repo REPO (--filter FILTER.xml | --root PATH...) -o OUT.zip`.
//! The id and properties defaulting is the library's ([`crate::export::package_properties`]).

use super::progress::Bars;
use super::repo::{absolute, RepoArgs};
use super::{CliError, CliResult, ErrorKind};
use crate::archive::{PackageWriter, WriterOptions};
use crate::events::{Event, Events, Unit};
use crate::export;
use crate::filter::{FilterSet, WorkspaceFilter};
use crate::package_id::PackageId;
use crate::properties::PackageProperties;
use clap::Args;
use std::path::PathBuf;

/// Write the content a filter selects into a package (FileVault's layout).
#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub repo: RepoArgs,
    /// The filter.xml selecting what to export.
    #[arg(long, conflicts_with = "root")]
    pub filter: Option<PathBuf>,
    /// Filter roots (repeatable), each exported whole in mode replace.
    #[arg(long)]
    pub root: Vec<String>,
    /// The package id group:name:version.
    #[arg(long)]
    pub name: Option<String>,
    /// Take the package properties (acHandling, subPackageHandling, description, ...)
    /// from this properties.xml; --name still sets the id when given explicitly.
    #[arg(long, value_name = "PROPERTIES_XML")]
    pub properties: Option<PathBuf>,
    /// The package to write.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Write the package even when a --root (or filter root) selects nothing.
    #[arg(long)]
    pub allow_empty: bool,
    /// Print a JSON summary (schema: schemas/export.schema.json).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub preset: super::bootstrap::PresetArgs,
}

/// Runs `export`.
pub fn run(a: ExportArgs) -> CliResult<i32> {
    // An export's memory holds steady: trims below its high only cost page faults.
    crate::heap_trim::trim_at_new_highs_only();
    if a.preset.preset.is_some() {
        return super::bootstrap::export_preset(&a);
    }
    let filter = match (&a.filter, a.root.is_empty()) {
        (Some(f), _) => WorkspaceFilter::load(f)?,
        (None, false) => {
            let mut sets = Vec::new();
            for r in &a.root {
                sets.push(FilterSet::new(&absolute(r)?));
            }
            WorkspaceFilter::with_sets(sets)
        }
        (None, true) => {
            return Err(CliError::usage(
                "give --filter FILTER.xml or at least one --root PATH",
            ))
        }
    };
    let base = match &a.properties {
        Some(p) => {
            let bytes = std::fs::read(p).map_err(|e| CliError::context(p.display(), e))?;
            Some(PackageProperties::parse(&bytes, &p.display().to_string())?)
        }
        None => None,
    };
    let name = match &a.name {
        Some(n) => Some(
            PackageId::parse(n)
                .map_err(|e| CliError::context(format!("--name {n}"), e).kind(ErrorKind::Usage))?,
        ),
        None => None,
    };
    let props = export::package_properties(base, name.as_ref());
    let id = props
        .id()
        .map(|i| i.to_string())
        .unwrap_or_else(|| export::DEFAULT_ID.to_string());
    let store = a.repo.open()?;
    let ns = store.namespaces()?;
    let (types, _) = crate::nodetypes::load(store.as_ref(), &ns);
    // Nothing reports the export's SHA-256: not taking it saves a pass over the package.
    let opts = WriterOptions::default()
        .with_source_date_epoch(super::source_date_epoch()?)
        .with_digest(false);
    let mut writer = PackageWriter::create(&a.output, opts)?;
    let bars = Bars::stderr();
    bars.event(&Event::Phase {
        name: "exporting",
        total: None,
        unit: Unit::Items,
    });
    let opts = export::ExportOptions {
        allow_empty: a.allow_empty,
    };
    let report = export::export_with(
        store.as_ref(),
        &a.repo.workspace,
        &filter,
        &props,
        &types,
        &opts,
        &mut writer,
    )
    .and_then(|report| {
        writer.finish()?;
        Ok(report)
    })
    .map_err(|e| {
        let empty = matches!(e, export::ExportError::EmptyRoot { .. });
        let mut err = CliError::context(
            format!("export failed, {} was not written", a.output.display()),
            e,
        );
        if empty {
            err.hints
                .push("--allow-empty writes the package anyway".to_string());
        }
        err
    })?;
    drop(bars);
    if a.json {
        let doc = serde_json::json!({
            "output": a.output.display().to_string(),
            "packageId": id,
            "nodes": report.nodes,
            "policies": report.policies,
            "acHandling": report.ac_handling,
            "acHandlingAdded": report.ac_handling_added,
            "notCarried": {
                "identifiers": report.not_carried.identifiers,
                "dates": report.not_carried.dates,
            },
            "keptIdentifiers": report.kept_identifiers,
            "entries": report.entries,
            "binaryBytes": report.binary_bytes,
            "nodeTypes": report.node_types,
        });
        super::print_json(&doc)?;
    } else {
        status!(
            "exported {} nodes into {} ({} entries, {} binary bytes)",
            report.nodes,
            a.output.display(),
            report.entries,
            report.binary_bytes
        );
        print_notes(&report);
    }
    Ok(0)
}

/// What the user must know about the package: how it restores access control, and
/// what it cannot carry (status lines: `-q` leaves them out, as it does the import's
/// notes).
fn print_notes(r: &export::ExportReport) {
    if let Some(ac) = &r.ac_handling {
        status!(
            "note: the content holds {} access control {}; the package's properties say \
             acHandling={ac}{}, so installing it {}",
            r.policies,
            if r.policies == 1 {
                "policy"
            } else {
                "policies"
            },
            if r.ac_handling_added {
                " (written by this export; --properties with another acHandling overrides it)"
            } else {
                " (from --properties)"
            },
            if ac == "ignore" {
                "leaves them out"
            } else {
                "applies them"
            }
        );
    }
    let n = &r.not_carried;
    if n.identifiers + n.dates > 0 {
        status!(
            "note: a package cannot carry {} identifiers (jcr:uuid of files' content nodes \
             written as plain files) and {} dates (jcr:created, and jcr:lastModified of \
             files) that the repository sets again on install; {} referenced identifiers \
             were kept. For an exact copy use jcrpack backup",
            n.identifiers,
            n.dates,
            r.kept_identifiers
        );
    }
}
