//! Magnolia light modules in a release pipeline (shared/reference/magnolia.md §3):
//! validate them offline, pack them reproducibly, diff two releases, and check a
//! repository's content against a release.
//!
//! One concept per file:
//!
//! * [`yaml11`]: YAML 1.1 typing of plain scalars, as snakeyaml (Magnolia) types them;
//! * [`yaml`]: one YAML file read Magnolia's way, with positions (duplicate keys, tags,
//!   merge keys, bounded aliases and depth);
//! * [`descriptor`]: `module.yaml`, versions and ranges;
//! * [`model`]: a release, the modules of folders or of a pack, hashed and parsed;
//! * [`check`]: the validation checks ([`finding::Finding`]s);
//! * [`resolve`]: definitions with `!include`, `!inherit` and merge keys applied, as
//!   canonical JSON;
//! * [`pack`]: the deterministic release zip with its manifest, and the npm tarball;
//! * [`diff`]: two releases compared definition by definition;
//! * [`content`]: a repository's pages and components, and `resources` overrides,
//!   against a release.

pub mod check;
pub mod content;
pub mod descriptor;
pub mod diff;
pub mod finding;
pub mod model;
pub mod pack;
pub mod resolve;
pub mod yaml;
pub mod yaml11;

pub use check::{check, CheckOptions};
pub use finding::{Counts, Finding, Severity};
pub use model::{Release, ReleaseError};
