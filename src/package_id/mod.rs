//! Package ids (`group:name[:version]`), versions in Maven order, version ranges,
//! dependencies and sub package handling (reference sections 4.3–4.6, 12.1–12.3).
//!
//! Every type here keeps FileVault's string forms exactly, because they travel in
//! `properties.xml`, `MANIFEST.MF`, package file names and the package store:
//! [`PackageId`] (`my/group:name:1.0`), [`Version`], [`VersionRange`]
//! (`[1.0,2.0)`), [`Dependency`] (`group:name:[1.0,2.0)`) and
//! [`SubPackageHandling`] (`group:*;extract`).

mod dependency;
pub(crate) mod java_chars;
mod name_check;
mod range;
mod subpackage;
mod version;

pub use dependency::{Dependency, DependencyError};
pub use range::{VersionRange, VersionRangeError};
pub use subpackage::{SubPackageEntry, SubPackageHandling, SubPackageOption};
pub use version::Version;

use std::cmp::Ordering;
use std::fmt;

/// The folder of the JCR package manager: `/etc/packages`.
pub const ETC_PACKAGES: &str = "/etc/packages";

/// [`ETC_PACKAGES`] with its trailing slash, as stripped from groups.
pub const ETC_PACKAGES_PREFIX: &str = "/etc/packages/";

/// Why a string is not a package id, or an id is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackageIdError {
    /// The string is empty.
    #[error("a package id must not be empty (expected group:name[:version])")]
    Empty,
    /// The string has no name (only colons).
    #[error("'{0}' is not a package id: expected group:name[:version]")]
    NoName(String),
    /// A part of the id is not a valid JCR name.
    #[error("package id '{id}' has an invalid {part} '{value}': {reason}")]
    InvalidPart {
        /// The whole id.
        id: String,
        /// `name`, `version` or `group segment`.
        part: &'static str,
        /// The offending part.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// The identity of a package: group, name and version.
///
/// Equality, hashing and `Ord` use the three strings (FileVault's `equals` compares
/// the string form, so `g:n:1.0` and `g:n:1` are different packages); use
/// [`PackageId::compare`] for FileVault's ordering with versions in Maven order.
#[derive(Debug, Clone)]
pub struct PackageId {
    group: String,
    name: String,
    version: Version,
}

impl PackageId {
    /// An id from its parts. The group loses a leading `/etc/packages/` (or is empty
    /// for `/etc/packages`) or a leading `/`; the version is read as
    /// [`Version::parse`] does.
    pub fn new(group: &str, name: &str, version: &str) -> PackageId {
        PackageId::with_version(group, name, Version::parse(version))
    }

    /// An id from its parts, with an already parsed version.
    pub fn with_version(group: &str, name: &str, version: Version) -> PackageId {
        PackageId {
            group: normalize_group(group).to_string(),
            name: name.to_string(),
            version,
        }
    }

    /// Parses `group:name[:version]`, `:name:version` or a bare `name` as FileVault's
    /// `PackageId.fromString` does (parts after a third colon are ignored).
    pub fn parse(s: &str) -> Result<PackageId, PackageIdError> {
        if s.is_empty() {
            return Err(PackageIdError::Empty);
        }
        let segs = java_chars::split_dropping_trailing_empty(s, ':');
        match segs.as_slice() {
            [] => Err(PackageIdError::NoName(s.to_string())),
            [name] => Ok(PackageId::new("", name, "")),
            [group, name] => Ok(PackageId::new(group, name, "")),
            [group, name, version, ..] => Ok(PackageId::new(group, name, version)),
        }
    }

    /// Derives an id from a package path or file name with FileVault's heuristic
    /// (`PackageId(String path)`): a `.zip`/`.jar` extension is dropped, the folders
    /// give the group (below `/etc/packages`), and trailing dash-separated parts that
    /// look like versions (numbers below 1000, parts starting with a digit, a letter
    /// followed by a digit, or `SNAPSHOT`) become the version:
    /// `hotfix/cq-5.3.0-hotfix-12345-1.0-SNAPSHOT` is
    /// `hotfix:cq-5.3.0-hotfix-12345:1.0-SNAPSHOT`.
    pub fn from_path(path: &str) -> PackageId {
        let path = strip_package_extension(java_chars::trim(path));
        let (group, file) = split_group(path);
        let segs: Vec<&str> = java_chars::explode(file, '-').collect();
        let last = segs.len().saturating_sub(1);
        let mut i = last;
        while i > 0 {
            let seg = segs[i];
            if java_chars::parse_int(seg).is_some_and(|n| n >= 1000) {
                break;
            }
            let mut chars = seg.chars();
            if chars
                .next()
                .is_some_and(java_chars::is_java_identifier_start)
            {
                let second_is_digit = chars.next().is_some_and(java_chars::is_digit);
                if seg.chars().count() == 1 || (!second_is_digit && seg != "SNAPSHOT") {
                    break;
                }
            }
            i -= 1;
        }
        if i == last {
            return PackageId {
                group: group.to_string(),
                name: file.to_string(),
                version: Version::empty(),
            };
        }
        PackageId {
            group: group.to_string(),
            name: segs[..=i].join("-"),
            version: Version::parse(&segs[i + 1..].join("-")),
        }
    }

    /// Derives an id from a package path whose version is known
    /// (`PackageId(String path, String version)`): the extension and a trailing
    /// `-<version>` are dropped from the file name, the folders give the group.
    pub fn from_path_with_version(path: &str, version: &str) -> PackageId {
        let version = Version::parse(version);
        let mut path = strip_package_extension(java_chars::trim(path));
        // As in FileVault, an empty version still strips a trailing dash.
        if let Some(rest) = path
            .strip_suffix(version.as_str())
            .and_then(|p| p.strip_suffix('-'))
        {
            path = rest;
        }
        let (group, name) = split_group(path);
        PackageId {
            group: group.to_string(),
            name: name.to_string(),
            version,
        }
    }

    /// The group (`my/packages`), `""` when none.
    pub fn group(&self) -> &str {
        &self.group
    }

    /// The package name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The version (empty when none).
    pub fn version(&self) -> &Version {
        &self.version
    }

    /// The version text, `""` when none.
    pub fn version_str(&self) -> &str {
        self.version.as_str()
    }

    /// Checks that the name, the version (when not empty) and each group segment are
    /// valid JCR names, as FileVault's `PackageId.isValid` does.
    pub fn validate(&self) -> Result<(), PackageIdError> {
        let fail = |part: &'static str, value: &str, reason: String| PackageIdError::InvalidPart {
            id: self.to_string(),
            part,
            value: value.to_string(),
            reason,
        };
        name_check::check_jcr_name(&self.name).map_err(|r| fail("name", &self.name, r))?;
        if !self.version.is_empty() {
            name_check::check_jcr_name(self.version.as_str())
                .map_err(|r| fail("version", self.version.as_str(), r))?;
        }
        for seg in java_chars::explode(&self.group, '/') {
            name_check::check_jcr_name(seg).map_err(|r| fail("group segment", seg, r))?;
        }
        Ok(())
    }

    /// Whether [`PackageId::validate`] passes.
    pub fn is_valid(&self) -> bool {
        self.validate().is_ok()
    }

    /// Where the JCR package manager keeps the package, without extension:
    /// `/etc/packages/<group>/<name>[-<version>]`.
    pub fn installation_path(&self) -> String {
        let mut p = String::from(ETC_PACKAGES_PREFIX);
        if !self.group.is_empty() {
            p.push_str(&self.group);
            p.push('/');
        }
        p.push_str(&self.name);
        if !self.version.is_empty() {
            p.push('-');
            p.push_str(self.version.as_str());
        }
        p
    }

    /// The repository path of the package file in the package store:
    /// `/etc/packages/<group>/<name>[-<version>].zip`.
    pub fn storage_path(&self) -> String {
        self.installation_path() + ".zip"
    }

    /// The file name FileVault offers for download: `<name>[-<version>].zip`.
    pub fn download_name(&self) -> String {
        let mut n = self.name.clone();
        if !self.version.is_empty() {
            n.push('-');
            n.push_str(self.version.as_str());
        }
        n + ".zip"
    }

    /// FileVault's order (`PackageId.compareTo`): group, then name (as Java compares
    /// strings), then version in Maven order. Not a total order for every version
    /// (see [`Version`]); do not hand it to a sort as its only key.
    pub fn compare(&self, other: &PackageId) -> Ordering {
        java_chars::compare_utf16(&self.group, &other.group)
            .then_with(|| java_chars::compare_utf16(&self.name, &other.name))
            .then_with(|| self.version.compare(&other.version))
    }
}

/// Strips `/etc/packages/` (or `/etc/packages`, or one leading `/`) from a group.
pub(crate) fn normalize_group(group: &str) -> &str {
    if group == ETC_PACKAGES {
        ""
    } else if let Some(rest) = group.strip_prefix(ETC_PACKAGES_PREFIX) {
        rest
    } else {
        group.strip_prefix('/').unwrap_or(group)
    }
}

/// Drops a `.zip` or `.jar` extension (any case) unless the dot starts the string.
fn strip_package_extension(path: &str) -> &str {
    match path.rfind('.') {
        Some(dot) if dot > 0 => {
            let ext = &path[dot..];
            if ext.eq_ignore_ascii_case(".zip") || ext.eq_ignore_ascii_case(".jar") {
                &path[..dot]
            } else {
                path
            }
        }
        _ => path,
    }
}

/// Splits a package path into (group, file name), the group normalized.
fn split_group(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        None => ("", path),
        Some(slash) => (normalize_group(&path[..slash]), &path[slash + 1..]),
    }
}

impl fmt::Display for PackageId {
    /// `group:name[:version]`; the group is always followed by a colon, so an id
    /// without group reads `:name:1.0` (or `:name`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.group, self.name)?;
        if !self.version.is_empty() {
            write!(f, ":{}", self.version)?;
        }
        Ok(())
    }
}

impl PartialEq for PackageId {
    fn eq(&self, other: &PackageId) -> bool {
        self.group == other.group
            && self.name == other.name
            && self.version.as_str() == other.version.as_str()
    }
}

impl Eq for PackageId {}

impl std::hash::Hash for PackageId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.group.hash(state);
        self.name.hash(state);
        self.version.as_str().hash(state);
    }
}

impl PartialOrd for PackageId {
    fn partial_cmp(&self, other: &PackageId) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PackageId {
    /// A total order on the three strings (byte order), for sorted output and maps.
    fn cmp(&self, other: &PackageId) -> Ordering {
        self.group
            .cmp(&other.group)
            .then_with(|| self.name.cmp(&other.name))
            .then_with(|| self.version.as_str().cmp(other.version.as_str()))
    }
}

impl std::str::FromStr for PackageId {
    type Err = PackageIdError;

    fn from_str(s: &str) -> Result<PackageId, PackageIdError> {
        PackageId::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_forms() {
        assert_eq!(
            PackageId::new("group", "name", "version").to_string(),
            "group:name:version"
        );
        assert_eq!(PackageId::new("", "name", "").to_string(), ":name");
        assert_eq!(PackageId::new("", "name", "1.0").to_string(), ":name:1.0");
        assert_eq!(
            PackageId::new("/etc/packages/my/group", "n", "").to_string(),
            "my/group:n"
        );
        assert_eq!(PackageId::new("/etc/packages", "n", "").to_string(), ":n");
        assert_eq!(PackageId::new("/abs", "n", "").group(), "abs");
    }

    #[test]
    fn installation_and_storage_paths() {
        let id = PackageId::new("group", "name", "version");
        assert_eq!(id.installation_path(), "/etc/packages/group/name-version");
        assert_eq!(id.storage_path(), "/etc/packages/group/name-version.zip");
        assert_eq!(id.download_name(), "name-version.zip");
        let id = PackageId::new("group", "name", "");
        assert_eq!(id.installation_path(), "/etc/packages/group/name");
        assert_eq!(
            PackageId::new("", "n", "").storage_path(),
            "/etc/packages/n.zip"
        );
    }

    #[test]
    fn parses_like_filevault() {
        let id = PackageId::parse("group:name:version").unwrap();
        assert_eq!(
            (id.group(), id.name(), id.version_str()),
            ("group", "name", "version")
        );
        let id = PackageId::parse("group:name").unwrap();
        assert_eq!(
            (id.group(), id.name(), id.version_str()),
            ("group", "name", "")
        );
        let id = PackageId::parse("name").unwrap();
        assert_eq!((id.group(), id.name(), id.version_str()), ("", "name", ""));
        let id = PackageId::parse(":name:version").unwrap();
        assert_eq!(
            (id.group(), id.name(), id.version_str()),
            ("", "name", "version")
        );
        let id = PackageId::parse("a:b:c:d").unwrap();
        assert_eq!(id.to_string(), "a:b:c");
        assert_eq!(PackageId::parse(""), Err(PackageIdError::Empty));
        assert!(matches!(
            PackageId::parse("::"),
            Err(PackageIdError::NoName(_))
        ));
        for (g, n, v) in [
            ("", "name", ""),
            ("", "name", "version"),
            ("group", "name", ""),
        ] {
            let p1 = PackageId::new(g, n, v);
            let p2 = PackageId::parse(&p1.to_string()).unwrap();
            assert_eq!(p1, p2);
        }
    }

    #[test]
    fn ids_from_paths_with_version() {
        let cases = [
            (
                "/etc/packages/apache/jackrabbit/hotfix/name.zip",
                "1.0",
                "apache/jackrabbit/hotfix:name:1.0",
            ),
            ("/etc/packages/name-1.0.zip", "1.0", ":name:1.0"),
            (
                "apache/jackrabbit/hotfix/name",
                "1.0",
                "apache/jackrabbit/hotfix:name:1.0",
            ),
            ("name.zip", "1.0", ":name:1.0"),
            ("name", "", ":name"),
            ("name-", "", ":name"),
            ("hotfix/name-1.0", "2.0", "hotfix:name-1.0:2.0"),
        ];
        for (path, version, expected) in cases {
            assert_eq!(
                PackageId::from_path_with_version(path, version).to_string(),
                expected,
                "{path}"
            );
        }
    }

    #[test]
    fn ids_from_paths_by_heuristic() {
        let cases = [
            (
                "/etc/packages/apache/jackrabbit/hotfix/name.zip",
                "apache/jackrabbit/hotfix:name",
            ),
            ("hotfix/name-1.0", "hotfix:name:1.0"),
            ("hotfix/name-1.0-SNAPSHOT", "hotfix:name:1.0-SNAPSHOT"),
            ("hotfix/cq-name-1.0-SNAPSHOT", "hotfix:cq-name:1.0-SNAPSHOT"),
            (
                "hotfix/cq-5.3.0-hotfix-12345-1.0-SNAPSHOT",
                "hotfix:cq-5.3.0-hotfix-12345:1.0-SNAPSHOT",
            ),
            (
                "hotfix/cq-5.3.0-hotfix-12345-1.0-R1234",
                "hotfix:cq-5.3.0-hotfix-12345:1.0-R1234",
            ),
            ("hotfix/cq-5.3.0-RG12", "hotfix:cq-5.3.0-RG12"),
            ("my-package-2.3.1.ZIP", ":my-package:2.3.1"),
            ("foo-2013", ":foo-2013"),
            ("foo-v1", ":foo:v1"),
            ("  x.jar ", ":x"),
            (".zip", ":.zip"),
            ("-", ":-"),
            ("", ":"),
        ];
        for (path, expected) in cases {
            assert_eq!(PackageId::from_path(path).to_string(), expected, "{path}");
        }
    }

    #[test]
    fn validates_each_part() {
        assert!(PackageId::new("my/group", "name", "1.0").is_valid());
        assert!(PackageId::new("", "name", "").is_valid());
        let e = PackageId::new("my/gr oup ", "name", "")
            .validate()
            .unwrap_err();
        assert!(e.to_string().contains("group segment 'gr oup '"), "{e}");
        assert!(!PackageId::new("g", "na[me", "").is_valid());
        assert!(!PackageId::new("g", "name", "1.0 ").is_valid());
        assert!(!PackageId::new("g", "", "").is_valid());
    }

    #[test]
    fn equality_is_textual_and_compare_is_maven() {
        let a = PackageId::new("g", "n", "1.0");
        let b = PackageId::new("g", "n", "1");
        assert_ne!(a, b);
        assert_eq!(a.compare(&b), Ordering::Equal);
        assert_eq!(
            PackageId::new("g", "n", "1.9").compare(&PackageId::new("g", "n", "1.10")),
            Ordering::Less
        );
        assert_eq!(
            PackageId::new("a", "z", "9").compare(&PackageId::new("b", "a", "1")),
            Ordering::Less
        );
    }
}
