//! `jcrpack lm ...`: Magnolia light modules in a release pipeline (validate, pack,
//! diff, check-content). Parsing and printing only; the work is in
//! [`crate::lightmodule`].

use super::{CliError, CliResult};
use crate::events::NoEvents;
use crate::lightmodule::content::{ContentOptions, ContentReport};
use crate::lightmodule::diff::ReleaseDiff;
use crate::lightmodule::pack::{PackError, PackOptions};
use crate::lightmodule::{self, CheckOptions, Counts, Release, Severity};
use clap::{Args, Subcommand};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// `jcrpack lm SUBCOMMAND`.
#[derive(Debug, Args)]
pub struct LmArgs {
    /// What to do with the light modules.
    #[command(subcommand)]
    pub command: LmCommand,
}

/// The `lm` subcommands.
#[derive(Debug, Subcommand)]
pub enum LmCommand {
    /// Check light modules offline as Magnolia would read them (exit 1 on errors).
    Validate(ValidateArgs),
    /// Write a release as a deterministic zip (with a manifest), or one module as an
    /// npm tarball.
    Pack(PackArgs),
    /// Compare two releases (folders or packs) definition by definition.
    Diff(DiffArgs),
    /// Find content of a repository that a release would break: pages and components
    /// whose template or dialog it lacks, and Resources-app overrides that shadow it.
    CheckContent(CheckContentArgs),
}

/// `jcrpack lm pack DIR... -o RELEASE.zip [--npm [--module NAME]]`.
#[derive(Debug, Args)]
pub struct PackArgs {
    /// Light-module folders or light-modules roots.
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    /// The file to write (replaced atomically).
    #[arg(short, long, value_name = "RELEASE.zip")]
    pub output: PathBuf,
    /// Write an npm package tarball (.tgz) of one module instead of a zip.
    #[arg(long)]
    pub npm: bool,
    /// With --npm: the module to pack when the release has several.
    #[arg(long, value_name = "NAME", requires = "npm")]
    pub module: Option<String>,
    /// Print one JSON document (schema: schemas/lm-pack.schema.json).
    #[arg(long)]
    pub json: bool,
}

/// `jcrpack lm diff OLD NEW [--json]`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The old release: a folder, a light-modules root or a pack.
    pub old: PathBuf,
    /// The new release.
    pub new: PathBuf,
    /// Exit 1 when a module changed without a version bump.
    #[arg(long)]
    pub fail_on_unbumped: bool,
    /// Print one JSON document (schema: schemas/lm-diff.schema.json).
    #[arg(long)]
    pub json: bool,
}

/// `jcrpack lm check-content RELEASE (--repo REPO | --backup ID [--catalogue DIR])
/// [--workspace website]`.
#[derive(Debug, Args)]
pub struct CheckContentArgs {
    /// The release: a pack, a light-modules root or a module folder.
    pub release: PathBuf,
    /// The repository folder (created by `jcrpack init`, content loaded or imported);
    /// with `--backup`, the repository whose default catalogue (`REPO/backups`) holds
    /// the backup.
    #[arg(long, short = 'r', value_name = "REPO", env = "JCRPACK_REPO")]
    pub repo: Option<PathBuf>,
    /// Check the content of this backup instead of the live repository (the check a
    /// pipeline runs against the latest backup of Live before installing a release).
    #[arg(long, value_name = "ID")]
    pub backup: Option<String>,
    /// The backup catalogue holding `--backup` (default: REPO/backups).
    #[arg(long, value_name = "DIR", requires = "backup")]
    pub catalogue: Option<PathBuf>,
    /// The workspace with pages and components.
    #[arg(long, short = 'w', default_value = "website")]
    pub workspace: String,
    /// The workspace with Resources-app overrides.
    #[arg(long, default_value = "resources")]
    pub resources_workspace: String,
    #[command(flatten)]
    pub external: ExternalArgs,
    /// Print one JSON document (schema: schemas/lm-check-content.schema.json).
    #[arg(long)]
    pub json: bool,
}

/// Modules that exist at run time but are not part of the release.
#[derive(Debug, Args, Clone, Default)]
pub struct ExternalArgs {
    /// A module that exists on the target instance but is not in the release (e.g.
    /// mtk, dam-app); references into it are not checked. Repeatable.
    #[arg(long = "external", value_name = "MODULE")]
    pub external: Vec<String>,
    /// A file listing such modules, one per line (`#` starts a comment).
    #[arg(long = "externals", value_name = "FILE")]
    pub externals_file: Option<PathBuf>,
}

impl ExternalArgs {
    fn options(&self) -> CliResult<CheckOptions> {
        let mut external: BTreeSet<String> = self.external.iter().cloned().collect();
        if let Some(f) = &self.externals_file {
            let text = std::fs::read_to_string(f)
                .map_err(|e| CliError::failure(format!("cannot read {}: {e}", f.display())))?;
            for line in text.lines() {
                let line = line.split('#').next().unwrap_or("").trim();
                if !line.is_empty() {
                    external.insert(line.to_owned());
                }
            }
        }
        Ok(CheckOptions { external })
    }
}

/// `jcrpack lm validate DIR... [--json]`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Light-module folders, light-modules roots (magnolia.resources.dir) or packs.
    #[arg(required = true, value_name = "DIR")]
    pub dirs: Vec<PathBuf>,
    #[command(flatten)]
    pub external: ExternalArgs,
    /// Print one JSON document (schema: schemas/lm-validate.schema.json).
    #[arg(long)]
    pub json: bool,
}

/// Runs an `lm` subcommand.
pub fn run(args: LmArgs) -> CliResult<i32> {
    match args.command {
        LmCommand::Validate(a) => validate(a),
        LmCommand::Pack(a) => pack(a),
        LmCommand::Diff(a) => diff(a),
        LmCommand::CheckContent(a) => check_content(a),
    }
}

fn read_release(paths: &[PathBuf]) -> CliResult<Release> {
    for p in paths {
        if !p.exists() {
            return Err(CliError::failure(format!("'{}' does not exist", p.display()))
                .hint("give a light-module folder, a light-modules root, or a pack written by `jcrpack lm pack`"));
        }
    }
    let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    Ok(Release::read(&refs)?)
}

fn validate(args: ValidateArgs) -> CliResult<i32> {
    let options = args.external.options()?;
    let release = read_release(&args.dirs)?;
    let findings = lightmodule::check(&release, &options);
    let counts = Counts::of(&findings);
    if args.json {
        let modules: Vec<serde_json::Value> = release
            .modules
            .values()
            .map(|m| serde_json::json!({"name": m.name, "version": m.version(), "files": m.files.len()}))
            .collect();
        emit_json(&serde_json::json!({
            "source": release.source,
            "valid": counts.error == 0,
            "modules": modules,
            "counts": counts,
            "findings": findings,
        }))?;
    } else {
        let mut out = String::new();
        for f in &findings {
            out.push_str(&f.to_string());
            out.push('\n');
        }
        let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
        out.push_str(&format!(
            "{}: {}, {}, {}, {}\n",
            release.source,
            plural(release.modules.len(), "module"),
            plural(counts.error, "error"),
            plural(counts.warning, "warning"),
            plural(counts.info, "info")
        ));
        emit(&out)?;
    }
    Ok(if counts.error > 0 { 1 } else { 0 })
}

/// Writes `text` to stdout; a closed pipe (`| head`) ends the output quietly.
fn emit(text: &str) -> CliResult<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// One pretty JSON document on stdout.
fn emit_json(value: &serde_json::Value) -> CliResult<()> {
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::failure(e.to_string()))?;
    let mut text = crate::dump::escape_json_text(&text).into_owned();
    text.push('\n');
    emit(&text)
}

/// `SOURCE_DATE_EPOCH`, read here (the library never reads the environment).
fn source_date_epoch() -> CliResult<Option<u64>> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Err(std::env::VarError::NotPresent) => Ok(None),
        Ok(v) if v.is_empty() => Ok(None),
        Ok(v) => v.parse::<u64>().map(Some).map_err(|_| {
            CliError::usage(format!(
                "SOURCE_DATE_EPOCH='{v}' is not a number of seconds"
            ))
            .hint("SOURCE_DATE_EPOCH is seconds since 1970-01-01 UTC, digits only")
        }),
        Err(_) => Err(CliError::usage("SOURCE_DATE_EPOCH is not valid UTF-8")),
    }
}

fn pack(args: PackArgs) -> CliResult<i32> {
    let options = PackOptions {
        source_date_epoch: source_date_epoch()?,
    };
    let release = read_release(&args.dirs)?;
    let packed = if args.npm {
        lightmodule::pack::pack_npm(
            &release,
            args.module.as_deref(),
            &args.output,
            options,
            &NoEvents,
        )
    } else {
        lightmodule::pack::pack_zip(&release, &args.output, options, &NoEvents)
    }
    .map_err(|e| match e {
        PackError::Npm(m) => CliError::usage(m),
        other => other.into(),
    })?;
    if args.json {
        let modules: Vec<serde_json::Value> = packed
            .modules
            .iter()
            .map(|(n, v)| serde_json::json!({"name": n, "version": v}))
            .collect();
        emit_json(&serde_json::json!({
            "output": packed.path.display().to_string(),
            "format": if args.npm { "npm" } else { "zip" },
            "sha256": packed.sha256,
            "bytes": packed.bytes,
            "files": packed.files,
            "modules": modules,
        }))?;
    } else {
        emit(&format!(
            "{}: {} module(s), {} files, {} bytes, sha256 {}\n",
            packed.path.display(),
            packed.modules.len(),
            packed.files,
            packed.bytes,
            packed.sha256
        ))?;
    }
    Ok(0)
}

fn diff(args: DiffArgs) -> CliResult<i32> {
    let old = read_release(std::slice::from_ref(&args.old))?;
    let new = read_release(std::slice::from_ref(&args.new))?;
    let d = lightmodule::diff::diff(&old, &new);
    if args.json {
        emit_json(&serde_json::to_value(&d).map_err(|e| CliError::failure(e.to_string()))?)?;
    } else {
        emit(&human_diff(&d))?;
    }
    Ok(if args.fail_on_unbumped && d.has_unbumped() {
        1
    } else {
        0
    })
}

fn human_diff(d: &ReleaseDiff) -> String {
    let mut s = String::new();
    let v = |o: &Option<String>| o.clone().unwrap_or_else(|| "(no version)".into());
    for m in d.modules.iter().filter(|m| m.status != "unchanged") {
        s.push_str(&format!(
            "{} {}: {} -> {}{}\n",
            m.status,
            m.name,
            v(&m.old_version),
            v(&m.new_version),
            if m.version_not_bumped {
                "  VERSION NOT BUMPED"
            } else {
                ""
            }
        ));
        for x in &m.definitions_added {
            s.push_str(&format!("  A {x}\n"));
        }
        for x in &m.definitions_removed {
            s.push_str(&format!("  D {x}\n"));
        }
        for x in &m.definitions_changed {
            s.push_str(&format!("  M {} ({})\n", x.definition, x.paths.join(", ")));
        }
        for x in &m.files_added {
            s.push_str(&format!("  A {x}\n"));
        }
        for x in &m.files_removed {
            s.push_str(&format!("  D {x}\n"));
        }
        for x in &m.files_changed {
            s.push_str(&format!("  M {x}\n"));
        }
    }
    let changed = d.modules.iter().filter(|m| m.status != "unchanged").count();
    let unbumped = d.modules.iter().filter(|m| m.version_not_bumped).count();
    s.push_str(&format!(
        "{} modules, {changed} changed, {unbumped} changed without a version bump\n",
        d.modules.len()
    ));
    s
}

fn check_content(args: CheckContentArgs) -> CliResult<i32> {
    let release = read_release(std::slice::from_ref(&args.release))?;
    let (store, source): (Box<dyn crate::repository::StoreRead>, String) =
        match (&args.backup, &args.repo, &args.catalogue) {
            (Some(id), repo, catalogue) => {
                let catalogue = match (catalogue, repo) {
                    (Some(dir), _) => crate::backup::Catalogue::open(dir),
                    (None, Some(repo)) => {
                        crate::backup::Catalogue::of_repository(repo).and_then(|c| {
                            c.ok_or_else(|| crate::backup::BackupError::NotACatalogue {
                                dir: crate::backup::Catalogue::default_dir(repo),
                                reason: "no backup of the repository was taken yet".into(),
                            })
                        })
                    }
                    (None, None) => return Err(CliError::usage(
                        "--backup ID needs --catalogue DIR or --repo REPO (its default catalogue)",
                    )),
                }
                .map_err(|e| CliError::context("the backup catalogue", e))?;
                let store = catalogue
                    .open_store(id)
                    .map_err(|e| CliError::context(format!("backup {id}"), e))?;
                (store, format!("backup {id}"))
            }
            (None, Some(repo), _) => {
                let args = super::repo::RepoArgs {
                    repo: repo.clone(),
                    workspace: args.workspace.clone(),
                };
                (args.open()?, repo.display().to_string())
            }
            (None, None, _) => {
                return Err(CliError::usage(
                    "check-content needs the content: --repo REPO or --backup ID",
                ))
            }
        };
    let options = ContentOptions {
        workspace: args.workspace.clone(),
        resources_workspace: args.resources_workspace.clone(),
        external: args.external.options()?.external,
    };
    let report = lightmodule::content::check_content(&release, &*store, &options, &NoEvents)?;
    let errors = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    if args.json {
        emit_json(&serde_json::json!({
            "release": release.source,
            "repository": source,
            "workspace": args.workspace,
            "ok": errors == 0,
            "templatedNodes": report.templated_nodes,
            "resourceNodes": report.resource_nodes,
            "findings": report.findings,
        }))?;
    } else {
        emit(&human_content(&report, &args.workspace))?;
    }
    Ok(if errors > 0 { 1 } else { 0 })
}

fn human_content(r: &ContentReport, workspace: &str) -> String {
    let mut s = String::new();
    for f in &r.findings {
        s.push_str(&format!(
            "{}: {}:{}: [{}] {} (fix: {})\n",
            f.severity, f.workspace, f.path, f.kind, f.message, f.fix
        ));
    }
    let errors = r
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    s.push_str(&format!(
        "{} nodes with a template in {workspace}, {} resource nodes, {errors} problem(s)\n",
        r.templated_nodes, r.resource_nodes
    ));
    s
}
