//! Magnolia bootstrap files (shared/reference/magnolia.md §1, §2): JCR content moved
//! between Magnolia and other systems as one file per subtree, system view XML or
//! Magnolia's JCR YAML, named `WORKSPACE.PATH.xml` / `.yaml`.
//!
//! One concept per file:
//!
//! * [`name`]: file name to workspace and path and back (Magnolia's dot doubling and
//!   URL encoding);
//! * [`find`]: discovery in folders and Magnolia's import order;
//! * [`yaml`]: Magnolia's JCR YAML read (YAML 1.1, through the light-module reader)
//!   and written (snakeyaml's layout);
//! * [`load`]: every file of a run in one recorded, undoable operation with the
//!   profile's identifier behaviour;
//! * [`dump`]: subtrees written as files Magnolia imports.

pub mod dump;
pub mod error;
pub mod find;
pub mod links;
pub mod load;
pub mod name;
pub mod package;
pub mod preset;
pub mod yaml;

pub use error::{BootstrapError, Collision};
pub use load::{load, LoadOptions, LoadReport};
pub use name::Format;

/// Magnolia's node types as CND (`bootstrap load --types magnolia`).
pub const MAGNOLIA_CND: &str = include_str!("magnolia.cnd");

/// Magnolia's namespace (`mgnl:`).
pub const MGNL_URI: &str = "http://www.magnolia.info/jcr/mgnl";

/// Which of Magnolia's import paths a load imitates (magnolia.md §1.3, §1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Module install: `mgnl-bootstrap/`, delete then import, collisions refused.
    Module,
    /// Module install with samples: `mgnl-bootstrap-samples/` too.
    Samples,
    /// The webapp's bootstrap folders: replace existing identifiers in place.
    Webapp,
}

impl Profile {
    /// The profile's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Module => "module",
            Profile::Samples => "samples",
            Profile::Webapp => "webapp",
        }
    }
}
