//! `jcrpack bootstrap load|dump|to-package|from-package`: Magnolia bootstrap files.
//! Everything but parsing and printing is the library's ([`crate::bootstrap`]).

use super::repo::{absolute, open_repo, open_repo_with, LockArgs};
use super::{CliError, CliResult, ErrorKind};
use crate::bootstrap::{self, dump, package, BootstrapError, Format, LoadOptions, Profile};
use clap::{Args, Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;

/// Magnolia bootstrap files (WORKSPACE.PATH.xml / .yaml): load, dump, convert.
#[derive(Debug, Args)]
pub struct BootstrapArgs {
    #[command(subcommand)]
    pub command: BootstrapCommand,
}

/// The bootstrap subcommands.
#[derive(Debug, Subcommand)]
pub enum BootstrapCommand {
    /// Load bootstrap files (folders searched as Magnolia does) into their workspaces,
    /// in one undoable operation.
    Load(LoadArgs),
    /// Write subtrees as bootstrap files Magnolia imports.
    Dump(DumpArgs),
    /// Convert a bootstrap folder into FileVault packages, one per workspace.
    ToPackage(ToPackageArgs),
    /// Convert a FileVault package into bootstrap files, one per filter root.
    FromPackage(FromPackageArgs),
}

/// Which Magnolia import a load imitates.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ProfileArg {
    /// Module install: delete the node at the file's path, then import; an identifier
    /// that exists elsewhere refuses the load.
    Module,
    /// Module install with samples (mgnl-bootstrap-samples too).
    Samples,
    /// Webapp bootstrap folders: an existing identifier is replaced where it is.
    Webapp,
}

/// The bootstrap file formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FormatArg {
    /// System view XML.
    Xml,
    /// Magnolia's JCR YAML.
    Yaml,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Xml => Format::Xml,
            FormatArg::Yaml => Format::Yaml,
        }
    }
}

/// `bootstrap load`.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Bootstrap files or folders (searched recursively).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// The repository folder.
    #[arg(long, short = 'r', value_name = "REPO", env = "JCRPACK_REPO")]
    pub repo: PathBuf,
    #[command(flatten)]
    pub lock: LockArgs,
    /// Identifier behaviour and discovery, as Magnolia's import of that kind.
    #[arg(long, value_enum, default_value = "module")]
    pub profile: ProfileArg,
    /// Only the files of this module (mgnl-bootstrap/NAME/).
    #[arg(long, value_name = "NAME")]
    pub module: Option<String>,
    /// Do everything, then roll back.
    #[arg(long)]
    pub dry_run: bool,
    /// `magnolia`: register Magnolia's node types (mgnl:content, mgnl:page, ...) and
    /// refuse nodes that break them; without it they install undeclared and listed.
    #[arg(long, value_name = "TYPES", value_parser = ["magnolia"])]
    pub types: Option<String>,
    /// Print the report as JSON (schema: schemas/bootstrap-load.schema.json).
    #[arg(long)]
    pub json: bool,
}

/// `bootstrap dump`.
#[derive(Debug, Args)]
pub struct DumpArgs {
    /// The repository folder.
    #[arg(long, short = 'r', value_name = "REPO", env = "JCRPACK_REPO")]
    pub repo: PathBuf,
    /// The workspace.
    #[arg(long, short = 'w')]
    pub workspace: String,
    /// The subtrees, one file each.
    #[arg(required = true)]
    pub paths: Vec<String>,
    /// XML (system view) or YAML.
    #[arg(long, value_enum, default_value = "xml")]
    pub format: FormatArg,
    /// The folder to write the files into (named as Magnolia names them); without it
    /// the one PATH is written to stdout.
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Write types no real Magnolia YAML export shows (Double, Binary, Name, ...) as
    /// strings instead of refusing them.
    #[arg(long)]
    pub lossy: bool,
}

/// `bootstrap to-package`.
#[derive(Debug, Args)]
pub struct ToPackageArgs {
    /// Bootstrap files or folders.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// The package; with several workspaces, STEM-WORKSPACE.zip beside it, one each.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Print what was written as JSON (schema: schemas/bootstrap-packages.schema.json).
    #[arg(long)]
    pub json: bool,
}

/// `bootstrap from-package`.
#[derive(Debug, Args)]
pub struct FromPackageArgs {
    /// The package (zip or folder).
    pub package: PathBuf,
    /// The workspace the content belongs to (the first part of the file names).
    #[arg(long, short = 'w')]
    pub workspace: String,
    /// XML (system view) or YAML.
    #[arg(long, value_enum, default_value = "xml")]
    pub format: FormatArg,
    /// The folder to write the files into.
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    /// Write unverified YAML types as strings instead of refusing them.
    #[arg(long)]
    pub lossy: bool,
}

/// Runs `bootstrap`.
pub fn run(a: BootstrapArgs) -> CliResult<i32> {
    match a.command {
        BootstrapCommand::Load(a) => load(a),
        BootstrapCommand::Dump(a) => dump_cmd(a),
        BootstrapCommand::ToPackage(a) => to_package(a),
        BootstrapCommand::FromPackage(a) => from_package(a),
    }
}

fn refused(e: BootstrapError) -> CliError {
    let kind = match &e {
        BootstrapError::Collisions(_) | BootstrapError::NodeTypes(_) => ErrorKind::Refused,
        BootstrapError::Repository(_) => ErrorKind::Internal,
        _ => ErrorKind::Input,
    };
    CliError::from(e).kind(kind)
}

fn load(a: LoadArgs) -> CliResult<i32> {
    let mut store = open_repo_with(&a.repo, &a.lock, true)?;
    let opts = LoadOptions {
        profile: match a.profile {
            ProfileArg::Module => Profile::Module,
            ProfileArg::Samples => Profile::Samples,
            ProfileArg::Webapp => Profile::Webapp,
        },
        module: a.module.clone(),
        dry_run: a.dry_run,
        magnolia_types: a.types.is_some(),
    };
    let actor = super::repo::recorded_actor()?;
    let report = bootstrap::load(store.as_mut(), &a.paths, &opts, &actor).map_err(|e| {
        let collisions = matches!(e, BootstrapError::Collisions(_));
        let err = refused(e);
        if collisions {
            err.hint("--profile webapp replaces existing identifiers where they are (Magnolia's webapp bootstrap)")
        } else {
            err
        }
    })?;
    if a.json {
        super::print_json(&report)?;
        return Ok(0);
    }
    let mut out = super::out::stdout();
    for f in &report.files {
        writeln!(
            out,
            "{} {} {}:{} ({} nodes{})",
            if f.replaced > 0 { "R" } else { "A" },
            f.file,
            f.workspace,
            f.paths.join(", "),
            f.nodes,
            if f.replaced > 0 {
                format!(", {} replaced", f.replaced)
            } else {
                String::new()
            }
        )?;
    }
    for c in &report.collisions {
        writeln!(
            out,
            "{} {}: {} {} (was at {})",
            c.resolution, c.uuid, c.workspace, c.incoming, c.existing
        )?;
    }
    out.flush()?;
    for s in &report.skipped {
        status!("skipped {}: {}", s.file, s.reason);
    }
    for w in &report.created_workspaces {
        status!("created workspace {w}");
    }
    for w in &report.warnings {
        status!("warning: {w}");
    }
    if !report.undeclared_node_types.is_empty() {
        status!(
            "node types the repository does not declare (installed, not checked): {}",
            report.undeclared_node_types.join(", ")
        );
    }
    match report.operation {
        Some(id) => status!(
            "loaded {} files, {} nodes; operation {id} (jcrpack undo {id} reverts it)",
            report.files.len(),
            report.nodes
        ),
        None => status!(
            "dry run: {} files, {} nodes would be loaded; nothing was written",
            report.files.len(),
            report.nodes
        ),
    }
    Ok(0)
}

fn dump_cmd(a: DumpArgs) -> CliResult<i32> {
    let store = open_repo(&a.repo, &LockArgs::default())?;
    if !store.workspaces()?.contains(&a.workspace) {
        return Err(CliError::failure(format!(
            "{}: no workspace '{}'",
            a.repo.display(),
            a.workspace
        )));
    }
    let mut paths = Vec::new();
    for p in &a.paths {
        paths.push(absolute(p)?);
    }
    let format = Format::from(a.format);
    match &a.output {
        Some(dir) => {
            let files =
                dump::write_files(store.as_ref(), &a.workspace, &paths, format, a.lossy, dir)
                    .map_err(refused)?;
            for f in files {
                status!("wrote {}", f.display());
            }
        }
        None => {
            if paths.len() != 1 {
                return Err(CliError::usage(
                    "several paths need -o DIR (one file each); without it one PATH goes to stdout",
                ));
            }
            let mut out = super::out::stdout();
            dump::write(
                store.as_ref(),
                &a.workspace,
                &paths[0],
                format,
                a.lossy,
                &mut out,
            )
            .map_err(refused)?;
            out.flush()?;
        }
    }
    Ok(0)
}

fn scratch() -> CliResult<tempfile::TempDir> {
    tempfile::tempdir().map_err(|e| CliError::context("cannot create a scratch folder", e))
}

fn to_package(a: ToPackageArgs) -> CliResult<i32> {
    let tmp = scratch()?;
    let actor = super::repo::recorded_actor()?;
    let (packages, report) = package::to_packages(
        &a.paths,
        &a.output,
        tmp.path(),
        super::source_date_epoch()?,
        &actor,
    )
    .map_err(refused)?;
    if a.json {
        super::print_json(&serde_json::json!({ "packages": packages }))?;
        return Ok(0);
    }
    for w in &report.warnings {
        status!("warning: {w}");
    }
    for p in &packages {
        status!(
            "wrote {} ({}: {} nodes, roots {})",
            p.file.display(),
            p.workspace,
            p.nodes,
            p.roots.join(" ")
        );
    }
    Ok(0)
}

fn from_package(a: FromPackageArgs) -> CliResult<i32> {
    let tmp = scratch()?;
    let actor = super::repo::recorded_actor()?;
    let (files, missing) = package::from_package(
        &a.package,
        &a.workspace,
        a.format.into(),
        a.lossy,
        &a.output,
        tmp.path(),
        &actor,
    )
    .map_err(refused)?;
    for m in missing {
        status!("filter root {m} selects nothing in the package: no file");
    }
    for f in files {
        status!("wrote {}", f.display());
    }
    Ok(0)
}

/// `--preset magnolia-config|magnolia-content|magnolia-all [--include-secrets]`, for
/// the commands that span workspaces (backup create, restore, backup export).
#[derive(Debug, Args, Clone, Default)]
pub struct PresetArgs {
    /// Magnolia's workspaces: magnolia-config (config users userroles usergroups),
    /// magnolia-content (website dam category contacts and every other content
    /// workspace), magnolia-all (all but mgnlSystem mgnlVersion imaging keystore).
    #[arg(long, value_name = "PRESET", value_parser = ["magnolia-config", "magnolia-content", "magnolia-all"])]
    pub preset: Option<String>,
    /// With --preset magnolia-all: keystore (passwords) too.
    #[arg(long, requires = "preset")]
    pub include_secrets: bool,
}

impl PresetArgs {
    /// The workspaces of `available` the preset names (none without a preset); says
    /// on stderr which of the preset's workspaces are missing, and fails when none
    /// is left.
    pub fn resolve(&self, available: &[String]) -> CliResult<Option<Vec<String>>> {
        let Some(name) = &self.preset else {
            return Ok(None);
        };
        let preset = bootstrap::preset::Preset::parse(name)
            .ok_or_else(|| CliError::usage(format!("unknown preset '{name}'")))?;
        let (chosen, missing) =
            bootstrap::preset::workspaces(preset, available, self.include_secrets);
        if !missing.is_empty() {
            status!("--preset {name}: no workspace {} here", missing.join(", "));
        }
        if chosen.is_empty() {
            return Err(CliError::failure(format!(
                "--preset {name} names no workspace that exists here (there are: {})",
                available.join(", ")
            )));
        }
        status!("--preset {name}: workspaces {}", chosen.join(", "));
        Ok(Some(chosen))
    }
}

/// Prints the links that no longer resolve (after a restore), on stderr.
pub fn print_dangling(store: &dyn crate::repository::StoreRead) -> CliResult<()> {
    let dangling = bootstrap::links::check(store, &[])?;
    if dangling.is_empty() {
        status!("links: every jcr:<uuid> link and reference resolves");
        return Ok(());
    }
    status!(
        "links: {} jcr:<uuid> links and references no longer resolve:",
        dangling.len()
    );
    for d in &dangling {
        status!("  {}:{} {} = {}", d.workspace, d.path, d.property, d.value);
    }
    Ok(())
}

/// `backup export ID --format magnolia-bootstrap [--preset P | --workspace W]
/// [--root PATH]... -o DIR`: bootstrap files of a backup, one per top-level node (or
/// root) of each workspace.
pub fn export_backup(
    store: &dyn crate::repository::StoreRead,
    id: &str,
    a: &super::backup_export::BackupExportArgs,
    roots: &[String],
) -> CliResult<i32> {
    if a.format != "magnolia-bootstrap" {
        return Err(CliError::usage(
            "--preset spans workspaces: use it with --format magnolia-bootstrap (a package holds one workspace)",
        ));
    }
    let available = store.workspaces()?;
    let workspaces = match a.preset.resolve(&available)? {
        Some(ws) => ws,
        None => vec![a.workspace.clone()],
    };
    let mut written = Vec::new();
    for ws in &workspaces {
        if !available.contains(ws) {
            return Err(CliError::failure(format!(
                "backup {id} has no workspace '{ws}'"
            )));
        }
        let paths = if roots.is_empty() {
            dump::top_level_paths(store, ws).map_err(refused)?
        } else {
            roots.to_vec()
        };
        let files = dump::write_files(store, ws, &paths, Format::Xml, false, &a.output)
            .map_err(|e| CliError::from(e).kind(ErrorKind::Input))?;
        written.extend(files);
    }
    if a.json {
        let files: Vec<String> = written.iter().map(|f| f.display().to_string()).collect();
        super::print_json(&serde_json::json!({
            "output": a.output.display().to_string(),
            "workspaces": workspaces,
            "files": files,
        }))?;
    } else {
        for f in &written {
            status!("wrote {}", f.display());
        }
        status!(
            "exported {} bootstrap files of backup {id} ({}) into {}",
            written.len(),
            workspaces.join(", "),
            a.output.display()
        );
    }
    Ok(0)
}

/// `export --repo REPO --preset P [--root PATH]... -o OUT.zip`: one package per
/// workspace of the preset (OUT-WORKSPACE.zip beside OUT.zip when several), each
/// with a replace root per top-level node (or per --root).
pub fn export_preset(a: &super::export::ExportArgs) -> CliResult<i32> {
    use crate::archive::{PackageWriter, WriterOptions};
    use crate::filter::{FilterSet, WorkspaceFilter};
    if a.filter.is_some() {
        return Err(CliError::usage(
            "--preset exports whole workspaces (or --root PATHs in each); it does not take --filter",
        ));
    }
    let store = open_repo(&a.repo.repo, &LockArgs::default())?;
    let workspaces = a.preset.resolve(&store.workspaces()?)?.unwrap_or_default();
    let ns = store.namespaces()?;
    let (types, _) = crate::nodetypes::load(store.as_ref(), &ns);
    let mut written = Vec::new();
    for ws in &workspaces {
        let roots = if a.root.is_empty() {
            dump::top_level_paths(store.as_ref(), ws).map_err(refused)?
        } else {
            a.root
                .iter()
                .map(|r| absolute(r))
                .collect::<CliResult<_>>()?
        };
        if roots.is_empty() {
            status!("workspace {ws} is empty: no package");
            continue;
        }
        let filter = WorkspaceFilter::with_sets(roots.iter().map(|r| FilterSet::new(r)).collect());
        let id = crate::package_id::PackageId::new("magnolia", ws, "1.0.0");
        let props = crate::export::package_properties(None, Some(&id));
        let file = package::package_file(&a.output, ws, workspaces.len());
        let opts = WriterOptions::default().with_source_date_epoch(super::source_date_epoch()?);
        let mut writer = PackageWriter::create(&file, opts)?;
        let eopts = crate::export::ExportOptions {
            allow_empty: a.allow_empty,
        };
        let report = crate::export::export_with(
            store.as_ref(),
            ws,
            &filter,
            &props,
            &types,
            &eopts,
            &mut writer,
        )
        .map_err(|e| {
            CliError::context(
                format!("export failed, {} was not written", file.display()),
                e,
            )
        })?;
        writer.finish()?;
        status!(
            "exported workspace {ws}: {} nodes into {}",
            report.nodes,
            file.display()
        );
        written.push(serde_json::json!({
            "workspace": ws,
            "file": file.display().to_string(),
            "roots": roots,
            "nodes": report.nodes,
        }));
    }
    if a.json {
        super::print_json(&serde_json::json!({ "packages": written }))?;
    }
    Ok(0)
}
