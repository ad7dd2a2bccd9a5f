//! A package's dependencies against the installs the repository's history records.

use super::error::ImportError;
use crate::package;
use crate::properties::PackageProperties;
use crate::repository::Transaction;

/// The dependencies of `props` that no install recorded in the repository satisfies
/// (installs that were undone do not count).
pub(super) fn missing(
    txn: &dyn Transaction,
    props: &PackageProperties,
) -> Result<Vec<String>, ImportError> {
    let deps = match props.dependencies() {
        Ok(d) => d,
        Err(source) => {
            return Err(ImportError::Dependencies {
                entry: package::PROPERTIES_ENTRY,
                source,
            })
        }
    };
    if deps.is_empty() {
        return Ok(Vec::new());
    }
    let history = txn.history()?;
    let undone: std::collections::HashSet<i64> = history
        .iter()
        .filter_map(|o| o.undoes.map(|u| u.0))
        .collect();
    let installed: Vec<crate::package_id::PackageId> = history
        .iter()
        .filter(|o| !undone.contains(&o.id.0))
        .filter_map(|o| o.package_id.as_deref())
        .filter_map(|id| crate::package_id::PackageId::parse(id).ok())
        .collect();
    Ok(deps
        .iter()
        .filter(|d| !installed.iter().any(|i| d.matches(i)))
        .map(|d| d.to_string())
        .collect())
}
