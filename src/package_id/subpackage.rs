//! How sub packages are handled on install: the `subPackageHandling` property
//! (reference sections 4.6 and 12.1).
//!
//! `subPackageHandling := instruction { "," instruction }`, `instruction := filter
//! [ ";" option ]`, `filter := name | group ":" name` where `*` (or an empty part)
//! matches anything. For a sub package the last matching instruction wins; without
//! one, or with an unknown option, the option is `install`.

use super::{java_chars, PackageId, PackageIdError};
use std::fmt;

/// What to do with a sub package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SubPackageOption {
    /// Install it (recursively), unless a newer version is installed already.
    #[default]
    Install,
    /// Extract its content only, unless a newer version is installed already.
    Extract,
    /// Only store it in the package store.
    Add,
    /// Currently the same as [`SubPackageOption::Add`]: the file is still stored.
    Ignore,
    /// Install it even when a newer version is installed (downgrade).
    ForceInstall,
    /// Extract it even when a newer version is installed (downgrade).
    ForceExtract,
}

impl SubPackageOption {
    /// The option named case-insensitively (`install`, `force_extract`, ...).
    pub fn from_name(s: &str) -> Option<SubPackageOption> {
        Some(match s.to_uppercase().as_str() {
            "INSTALL" => SubPackageOption::Install,
            "EXTRACT" => SubPackageOption::Extract,
            "ADD" => SubPackageOption::Add,
            "IGNORE" => SubPackageOption::Ignore,
            "FORCE_INSTALL" => SubPackageOption::ForceInstall,
            "FORCE_EXTRACT" => SubPackageOption::ForceExtract,
            _ => return None,
        })
    }

    /// The lower-case name used in the property.
    pub fn name(self) -> &'static str {
        match self {
            SubPackageOption::Install => "install",
            SubPackageOption::Extract => "extract",
            SubPackageOption::Add => "add",
            SubPackageOption::Ignore => "ignore",
            SubPackageOption::ForceInstall => "force_install",
            SubPackageOption::ForceExtract => "force_extract",
        }
    }
}

impl fmt::Display for SubPackageOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One instruction: a group and a package name (each possibly `*`) and an option.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SubPackageEntry {
    group: String,
    name: String,
    option: SubPackageOption,
}

impl SubPackageEntry {
    /// An instruction; an empty group or name means `*`.
    pub fn new(group: &str, name: &str, option: SubPackageOption) -> SubPackageEntry {
        let star = |s: &str| {
            if s.is_empty() {
                "*".to_string()
            } else {
                s.to_string()
            }
        };
        SubPackageEntry {
            group: star(group),
            name: star(name),
            option,
        }
    }

    /// The group, or `*`.
    pub fn group(&self) -> &str {
        &self.group
    }

    /// The package name, or `*`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The option.
    pub fn option(&self) -> SubPackageOption {
        self.option
    }

    /// Whether the instruction applies to the package `id` (its version is ignored).
    pub fn matches(&self, id: &PackageId) -> bool {
        (self.group == "*" || self.group == id.group())
            && (self.name == "*" || self.name == id.name())
    }
}

/// The parsed `subPackageHandling` property: an ordered list of instructions.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct SubPackageHandling {
    entries: Vec<SubPackageEntry>,
}

impl SubPackageHandling {
    /// No instructions: every sub package is installed.
    pub fn new() -> SubPackageHandling {
        SubPackageHandling::default()
    }

    /// Parses the property as FileVault's `SubPackageHandling.fromString` does:
    /// instructions are split at `,`, blanks around an instruction are ignored, the
    /// filter is read as a package id (so `/etc/packages/` is dropped from the group
    /// and a version is ignored), and an unknown option falls back to `install`.
    /// Fails only for a filter that is nothing but colons (`::`).
    pub fn parse(s: &str) -> Result<SubPackageHandling, PackageIdError> {
        let mut sp = SubPackageHandling::new();
        for instruction in java_chars::explode(s, ',') {
            let mut opts = java_chars::explode(java_chars::trim(instruction), ';');
            let Some(filter) = opts.next() else {
                continue;
            };
            let id = PackageId::parse(filter)?;
            let option = opts
                .next()
                .and_then(SubPackageOption::from_name)
                .unwrap_or_default();
            sp.entries
                .push(SubPackageEntry::new(id.group(), id.name(), option));
        }
        Ok(sp)
    }

    /// The instructions, in order.
    pub fn entries(&self) -> &[SubPackageEntry] {
        &self.entries
    }

    /// Appends an instruction (it wins over the earlier ones).
    pub fn push(&mut self, entry: SubPackageEntry) {
        self.entries.push(entry);
    }

    /// The option for the sub package `id`: the last matching instruction's, or
    /// `install`.
    pub fn option_for(&self, id: &PackageId) -> SubPackageOption {
        self.entries
            .iter()
            .rev()
            .find(|e| e.matches(id))
            .map(|e| e.option)
            .unwrap_or_default()
    }
}

impl fmt::Display for SubPackageHandling {
    /// FileVault's form: `group:name[;option]` joined with `,`, the option omitted
    /// when it is `install`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}:{}", e.group, e.name)?;
            if e.option != SubPackageOption::Install {
                write!(f, ";{}", e.option)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SubPackageOption::*;

    fn id(s: &str) -> PackageId {
        PackageId::parse(s).unwrap()
    }

    fn with(entries: &[(&str, &str, SubPackageOption)]) -> SubPackageHandling {
        let mut sp = SubPackageHandling::new();
        for (g, n, o) in entries {
            sp.push(SubPackageEntry::new(g, n, *o));
        }
        sp
    }

    /// FileVault's `SubPackageHandlingTest`.
    #[test]
    fn default_installs() {
        let sp = SubPackageHandling::new();
        assert_eq!(sp.option_for(&id("foo:bar")), Install);
        assert_eq!(sp.option_for(&id("foo:bar:1.0")), Install);
    }

    #[test]
    fn wildcards_and_last_match_wins() {
        let sp = with(&[("*", "*", Add)]);
        assert_eq!(sp.option_for(&id("foo:bar")), Add);
        assert_eq!(sp.option_for(&id("foo:bar:1.0")), Add);
        let sp = with(&[("foo", "*", Add)]);
        assert_eq!(sp.option_for(&id("foo:bar")), Add);
        assert_eq!(sp.option_for(&id("foo:baz")), Add);
        assert_eq!(sp.option_for(&id("noo:bar:1.0")), Install);
        let sp = with(&[("*", "bar", Add)]);
        assert_eq!(sp.option_for(&id("foo:bar")), Add);
        assert_eq!(sp.option_for(&id("loo:bar")), Add);
        assert_eq!(sp.option_for(&id("foo:baz:1.0")), Install);
        let sp = with(&[("foo", "bar", Add)]);
        assert_eq!(sp.option_for(&id("foo:bar")), Add);
        assert_eq!(sp.option_for(&id("zoo:bar")), Install);
        assert_eq!(sp.option_for(&id("foo:baz:1.0")), Install);
        let sp = with(&[("foo", "*", Add), ("foo", "bar", Extract)]);
        assert_eq!(sp.option_for(&id("foo:baz")), Add);
        assert_eq!(sp.option_for(&id("foo:bar")), Extract);
        let sp = SubPackageHandling::parse("foo:bar;extract,*:*;add").unwrap();
        assert_eq!(sp.option_for(&id("foo:bar")), Add);
    }

    #[test]
    fn parses_and_formats() {
        let cases = [
            ("", ""),
            ("foo:bar", "foo:bar"),
            ("*:bar", "*:bar"),
            (":bar", "*:bar"),
            ("bar", "*:bar"),
            ("foo:*", "foo:*"),
            ("*:*", "*:*"),
            ("foo:bar;add", "foo:bar;add"),
            ("foo:bar;extract", "foo:bar;extract"),
            ("foo:bar;ignore", "foo:bar;ignore"),
            ("foo:bar;illegal", "foo:bar"),
            ("foo:bar;install", "foo:bar"),
            ("*;install,foo:bar;add", "*:*,foo:bar;add"),
            ("*;force_install", "*:*;force_install"),
            ("*;force_extract", "*:*;force_extract"),
            (" foo:bar:1.0;EXTRACT ,, ", "foo:bar;extract"),
            // The option is not trimmed: " extract" is unknown, hence install.
            ("foo:bar; extract", "foo:bar"),
            ("/etc/packages/g:n;add", "g:n;add"),
            (";add", "*:add"),
        ];
        for (input, expected) in cases {
            assert_eq!(
                SubPackageHandling::parse(input).unwrap().to_string(),
                expected,
                "{input:?}"
            );
        }
        assert!(SubPackageHandling::parse("::;add").is_err());
    }
}
