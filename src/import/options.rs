//! What an install may do: the options of `jcrpack import`.

use crate::filter::ImportMode;
use crate::properties::AcHandling;
use crate::repository::DEFAULT_WORKSPACE;
use crate::value::Date;

/// What to do when a package node's `jcr:uuid` is taken by another node
/// (FileVault's `IdConflictPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IdConflictPolicy {
    /// Refuse when the holder is outside the filter; inside, the holder is removed.
    #[default]
    Fail,
    /// Import the package node with a new identifier.
    CreateNewId,
    /// Remove the node holding the identifier, wherever it is.
    ForceRemoveConflictingId,
    /// FileVault's old behaviour: remove the holder and keep the identifier.
    Legacy,
}

impl IdConflictPolicy {
    /// Parses `fail`, `create_new_id`, `force_remove_conflicting_id`, `legacy`.
    pub fn from_name(s: &str) -> Option<IdConflictPolicy> {
        match s.to_ascii_lowercase().as_str() {
            "fail" => Some(IdConflictPolicy::Fail),
            "create_new_id" => Some(IdConflictPolicy::CreateNewId),
            "force_remove_conflicting_id" => Some(IdConflictPolicy::ForceRemoveConflictingId),
            "legacy" => Some(IdConflictPolicy::Legacy),
            _ => None,
        }
    }
}

/// Options of one install.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The workspace written to.
    pub workspace: String,
    /// Overrides the mode of every filter set.
    pub mode: Option<ImportMode>,
    /// Overrides the package's `acHandling`.
    pub ac_handling: Option<AcHandling>,
    /// Identifier conflicts.
    pub id_conflict: IdConflictPolicy,
    /// `--map FROM=TO` links.
    pub mappings: Vec<(String, String)>,
    /// `--at PATH`: install below this node.
    pub at: Option<String>,
    /// Run the install and roll it back.
    pub dry_run: bool,
    /// Refuse a package whose dependencies the repository has not installed (by
    /// default a missing dependency is a warning, as FileVault's best-effort handling).
    pub require_dependencies: bool,
    /// Any error fails the install (FileVault's strict mode); `--lenient` turns it off.
    pub strict: bool,
    /// Refuse a package that writes access control lists.
    pub no_acl: bool,
    /// Refuse a package that writes users or groups.
    pub no_authorizables: bool,
    /// When not empty, only these subtrees may be written.
    pub allow_roots: Vec<String>,
    /// Lift the deny list of system roots (`/jcr:system`, `/rep:security`, `/oak:index`).
    pub allow_system_roots: bool,
    /// Deepest nesting of sub packages.
    pub max_sub_package_depth: usize,
    /// Who installs (`jcr:createdBy`, history).
    pub user: String,
    /// The clock for `jcr:created`, `jcr:lastModified` (`SOURCE_DATE_EPOCH` pins it).
    pub now: Date,
    /// Ticks once per path the install acts on (the CLI's progress bar on stderr).
    pub progress: Option<indicatif::ProgressBar>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        let millis = match std::env::var("SOURCE_DATE_EPOCH")
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
        {
            Some(secs) => secs * 1000,
            None => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0),
        };
        ImportOptions {
            workspace: DEFAULT_WORKSPACE.to_string(),
            mode: None,
            ac_handling: None,
            id_conflict: IdConflictPolicy::Fail,
            mappings: Vec::new(),
            at: None,
            dry_run: false,
            require_dependencies: false,
            strict: true,
            no_acl: false,
            no_authorizables: false,
            allow_roots: Vec::new(),
            allow_system_roots: false,
            max_sub_package_depth: 8,
            user: "admin".to_string(),
            now: Date::from_epoch_millis(millis),
            progress: None,
        }
    }
}
