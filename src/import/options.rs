//! What an install may do: the options of `jcrpack import`.

use crate::events::{Actor, Events, NoEvents};
use crate::filter::ImportMode;
use crate::properties::AcHandling;
use crate::repository::DEFAULT_WORKSPACE;
use std::sync::Arc;

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
    /// FileVault's old behaviour: a contained sibling holder is removed, a holder
    /// elsewhere gives the package node a new identifier.
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

/// Options of one install. [`ImportOptions::new`] gives FileVault's defaults for the
/// caller's [`Actor`]; the library reads no clock and no environment.
#[derive(Clone)]
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
    /// Install sub packages (FileVault's `ImportOptions.setNonRecursive(false)`, the
    /// Package Manager's `recursive`); when false they are only stored below
    /// `/etc/packages`, as `subPackageHandling` `add` does.
    pub recursive: bool,
    /// Skip the subtrees whose aggregate digest the repository recorded when this
    /// same package installed them with the same options and nothing changed them
    /// since (see [`super::digest`]); such an install also records the digests. Off
    /// here, as FileVault visits and reports every path of a re-install and reads no
    /// entry outside the filter (the server's Package Manager installs so); the CLI's
    /// `import` turns it on unless given `--no-skip-unchanged` (issue 16 item 2: an
    /// unchanged re-install touches nothing below an unchanged aggregate).
    pub skip_unchanged: bool,
    /// Who installs and when: the history names `actor.user`; `actor.time` is the
    /// clock of `jcr:created`, `jcr:lastModified` and of new identifiers.
    pub actor: Actor,
    /// The user the content is written as (`jcr:createdBy`, `jcr:lastModifiedBy`):
    /// FileVault installs in an admin session, so `admin`.
    pub session_user: String,
    /// Where the install reports its phases (`reading`, `installing` N paths,
    /// `checking node types`, `committing`), its progress and every path it acts on.
    pub events: Arc<dyn Events>,
}

impl ImportOptions {
    /// FileVault's defaults (strict, filter modes as the package says, identifier
    /// conflicts fail, the default workspace, no events) for an install by `actor`.
    pub fn new(actor: Actor) -> ImportOptions {
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
            recursive: true,
            skip_unchanged: false,
            actor,
            session_user: "admin".to_string(),
            events: Arc::new(NoEvents),
        }
    }
}

impl std::fmt::Debug for ImportOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportOptions")
            .field("workspace", &self.workspace)
            .field("mode", &self.mode)
            .field("ac_handling", &self.ac_handling)
            .field("id_conflict", &self.id_conflict)
            .field("mappings", &self.mappings)
            .field("at", &self.at)
            .field("dry_run", &self.dry_run)
            .field("require_dependencies", &self.require_dependencies)
            .field("strict", &self.strict)
            .field("no_acl", &self.no_acl)
            .field("no_authorizables", &self.no_authorizables)
            .field("allow_roots", &self.allow_roots)
            .field("allow_system_roots", &self.allow_system_roots)
            .field("max_sub_package_depth", &self.max_sub_package_depth)
            .field("recursive", &self.recursive)
            .field("skip_unchanged", &self.skip_unchanged)
            .field("actor", &self.actor)
            .field("session_user", &self.session_user)
            .finish_non_exhaustive()
    }
}
