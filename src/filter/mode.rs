//! Import modes (`mode` attribute of `<filter>`): how an install treats existing
//! content that the filter contains.

use std::fmt;

/// How existing, contained repository content is treated on import (reference §3.5).
///
/// Parsed case-insensitively like FileVault (the value is upper-cased and matched
/// against the enum names); written in lower case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportMode {
    /// Existing content is replaced: missing items are deleted (the default).
    #[default]
    Replace,
    /// Deprecated: existing content is not modified, only new content is added.
    Merge,
    /// Deprecated: existing properties are replaced, nothing is deleted.
    Update,
    /// Existing properties are not touched; new nodes and properties are added.
    MergeProperties,
    /// Existing properties are replaced; new ones added; nothing is deleted.
    UpdateProperties,
}

/// A `mode` value that is not one of the five import modes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid import mode '{0}' (expected replace, merge, update, merge_properties or update_properties)")]
pub struct InvalidImportMode(pub String);

impl ImportMode {
    /// All modes, in FileVault's declaration order.
    pub const ALL: [ImportMode; 5] = [
        ImportMode::Replace,
        ImportMode::Merge,
        ImportMode::Update,
        ImportMode::MergeProperties,
        ImportMode::UpdateProperties,
    ];

    /// The lower-case name written in `filter.xml`.
    pub fn as_str(self) -> &'static str {
        match self {
            ImportMode::Replace => "replace",
            ImportMode::Merge => "merge",
            ImportMode::Update => "update",
            ImportMode::MergeProperties => "merge_properties",
            ImportMode::UpdateProperties => "update_properties",
        }
    }

    /// Parses a mode as FileVault does: `ImportMode.valueOf(value.toUpperCase(ROOT))`.
    /// Full Unicode upper-casing is applied first, so `Merge`, `MERGE` and even
    /// `merge_propertıes` (dotless ı) are accepted; surrounding spaces are not.
    pub fn parse(value: &str) -> Result<ImportMode, InvalidImportMode> {
        let upper = value.to_uppercase();
        ImportMode::ALL
            .into_iter()
            .find(|mode| mode.as_str().to_ascii_uppercase() == upper)
            .ok_or_else(|| InvalidImportMode(value.to_string()))
    }
}

impl fmt::Display for ImportMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ImportMode {
    type Err = InvalidImportMode;

    fn from_str(s: &str) -> Result<ImportMode, InvalidImportMode> {
        ImportMode::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_case_insensitively_and_displays_lower_case() {
        assert_eq!(ImportMode::parse("replace"), Ok(ImportMode::Replace));
        assert_eq!(ImportMode::parse("MERGE"), Ok(ImportMode::Merge));
        assert_eq!(ImportMode::parse("Update"), Ok(ImportMode::Update));
        assert_eq!(
            ImportMode::parse("merge_Properties"),
            Ok(ImportMode::MergeProperties)
        );
        assert_eq!(
            ImportMode::parse("update_properties"),
            Ok(ImportMode::UpdateProperties)
        );
        // Java's toUpperCase maps the dotless i to I.
        assert_eq!(
            ImportMode::parse("merge_propert\u{131}es"),
            Ok(ImportMode::MergeProperties)
        );
        assert!(ImportMode::parse(" merge").is_err());
        assert!(ImportMode::parse("merge-properties").is_err());
        assert!(ImportMode::parse("").is_err());
        for mode in ImportMode::ALL {
            assert_eq!(mode.to_string().parse::<ImportMode>(), Ok(mode));
            assert_eq!(mode.to_string(), mode.to_string().to_lowercase());
        }
        assert_eq!(ImportMode::default(), ImportMode::Replace);
        assert_eq!(
            serde_json::to_string(&ImportMode::MergeProperties)
                .ok()
                .as_deref(),
            Some("\"merge_properties\"")
        );
    }
}
