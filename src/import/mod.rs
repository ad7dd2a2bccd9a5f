//! Installing a package into a repository with FileVault's semantics (reference §3):
//! one transaction per install (sub packages included), so that an install either
//! applies wholly or leaves the repository as it was; `--dry-run` is the same install
//! rolled back.
//!
//! * [`options`]: what an install may do; [`report`]: what it did, per path;
//!   [`error`]: why it did not;
//! * `install`: one install from start to finish over a [`Package`] opened once;
//! * `ahead`: the entries read and parsed ahead on a second thread;
//! * `session`: the state of one install; `tree`: the walk over the package layout;
//! * `mapping` (`--at`, `--map`), `roots` (system roots, `--allow-root`),
//!   `dependencies`, `node_types` (registering and checking), `sub_packages`: one
//!   step each;
//! * `docview`, `file`, `acl`, `identity`: one kind of content each.
//!
//! [`Package`]: crate::package::Package

mod acl;
mod ahead;
mod authorizable;
mod dependencies;
pub mod digest;
mod docview;
pub mod error;
mod file;
mod identity;
mod install;
mod mapping;
mod node_types;
pub mod options;
mod order;
mod plan;
mod privileges;
mod references;
pub mod report;
mod roots;
mod session;
pub mod spill;
mod stash;
mod sub_packages;
mod tree;

pub use authorizable::content_id as authorizable_uuid;
pub use error::ImportError;
pub use install::{
    install, install_archive, install_archive_then, install_inspected, install_package,
};
pub use options::{IdConflictPolicy, ImportOptions};
pub use report::{Action, Report};
pub use roots::{system_root_of, SYSTEM_ROOTS};
