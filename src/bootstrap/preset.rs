//! Magnolia workspace presets for backups, restores and exports (magnolia.md §4):
//! which workspaces of a repository (or a backup) a preset names.
//!
//! * `magnolia-config`: `config`, `users`, `userroles`, `usergroups` (what Magnolia
//!   Cloud calls configuration, and what its "copy content" leaves alone);
//! * `magnolia-content`: `website`, `dam`, `category`, `contacts` and every other
//!   workspace that is not configuration, security, code-like (`resources`,
//!   `scripts`, `templates`), generated or operational (`imaging`, `messages`,
//!   `tasks`, `profiles`, `keystore`, `AdvancedCache`), Magnolia-internal
//!   (`mgnlSystem`, `mgnlVersion`) or jcrpack's own `default`;
//! * `magnolia-all`: every workspace but `mgnlSystem`, `mgnlVersion` and `imaging`
//!   (generated renditions), and `keystore` (passwords) only when secrets are asked
//!   for.
//!
//! Only workspaces that exist are named; the ones a preset lists that do not exist
//! are returned apart, so that a caller can say so.

/// A preset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// Configuration and security.
    MagnoliaConfig,
    /// Editors' content.
    MagnoliaContent,
    /// Everything but internal and generated workspaces.
    MagnoliaAll,
}

/// Configuration and security workspaces.
pub const CONFIG: [&str; 4] = ["config", "users", "userroles", "usergroups"];
/// The content workspaces every Magnolia has.
pub const CONTENT: [&str; 4] = ["website", "dam", "category", "contacts"];
const NOT_CONTENT: [&str; 12] = [
    "resources",
    "scripts",
    "templates",
    "imaging",
    "messages",
    "tasks",
    "profiles",
    "keystore",
    "AdvancedCache",
    "mgnlSystem",
    "mgnlVersion",
    "default",
];
const NOT_ALL: [&str; 3] = ["mgnlSystem", "mgnlVersion", "imaging"];

impl Preset {
    /// The preset's name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Preset::MagnoliaConfig => "magnolia-config",
            Preset::MagnoliaContent => "magnolia-content",
            Preset::MagnoliaAll => "magnolia-all",
        }
    }

    /// The preset of that name.
    pub fn parse(s: &str) -> Option<Preset> {
        match s {
            "magnolia-config" => Some(Preset::MagnoliaConfig),
            "magnolia-content" => Some(Preset::MagnoliaContent),
            "magnolia-all" => Some(Preset::MagnoliaAll),
            _ => None,
        }
    }
}

/// The workspaces of `available` that `preset` names (sorted), and the ones it
/// always names that are missing.
pub fn workspaces(
    preset: Preset,
    available: &[String],
    include_secrets: bool,
) -> (Vec<String>, Vec<String>) {
    let has = |w: &str| available.iter().any(|a| a == w);
    let (mut chosen, fixed): (Vec<String>, &[&str]) = match preset {
        Preset::MagnoliaConfig => (
            CONFIG
                .iter()
                .filter(|w| has(w))
                .map(|w| w.to_string())
                .collect(),
            &CONFIG,
        ),
        Preset::MagnoliaContent => (
            available
                .iter()
                .filter(|w| !CONFIG.contains(&w.as_str()) && !NOT_CONTENT.contains(&w.as_str()))
                .cloned()
                .collect(),
            &CONTENT,
        ),
        Preset::MagnoliaAll => (
            available
                .iter()
                .filter(|w| {
                    !NOT_ALL.contains(&w.as_str()) && (include_secrets || w.as_str() != "keystore")
                })
                .cloned()
                .collect(),
            &[],
        ),
    };
    chosen.sort();
    chosen.dedup();
    let missing = fixed
        .iter()
        .filter(|w| !has(w))
        .map(|w| w.to_string())
        .collect();
    (chosen, missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ws(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn presets_pick_magnolias_workspaces() {
        let all = ws(&[
            "config",
            "dam",
            "default",
            "imaging",
            "keystore",
            "mgnlSystem",
            "mgnlVersion",
            "resources",
            "tours",
            "users",
            "watches",
            "website",
        ]);
        let (c, missing) = workspaces(Preset::MagnoliaConfig, &all, false);
        assert_eq!(c, ws(&["config", "users"]));
        assert_eq!(missing, ws(&["userroles", "usergroups"]));
        let (c, missing) = workspaces(Preset::MagnoliaContent, &all, false);
        assert_eq!(c, ws(&["dam", "tours", "watches", "website"]));
        assert_eq!(missing, ws(&["category", "contacts"]));
        let (c, _) = workspaces(Preset::MagnoliaAll, &all, false);
        assert!(!c.contains(&"keystore".to_string()) && !c.contains(&"imaging".to_string()));
        assert!(c.contains(&"resources".to_string()) && c.contains(&"config".to_string()));
        let (c, _) = workspaces(Preset::MagnoliaAll, &all, true);
        assert!(c.contains(&"keystore".to_string()));
        assert_eq!(
            Preset::parse("magnolia-content"),
            Some(Preset::MagnoliaContent)
        );
        assert_eq!(Preset::parse("x"), None);
    }
}
