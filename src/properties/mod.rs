//! Package properties: `META-INF/vault/properties.xml` (reference section 4) and
//! the `MANIFEST.MF` derived from them (section 1.1).
//!
//! [`PackageProperties`] holds the key/value pairs of the file and reads each key of
//! section 4.2 the way FileVault does (defaults, case rules, what an invalid value
//! means); the setters write the same string forms back. The file format itself is in
//! [`xml`], the dates in [`date`], the manifest in [`manifest`].

pub mod date;
pub mod manifest;
pub mod xml;

pub use date::parse_package_date;
pub use manifest::render_manifest;
pub use xml::{
    parse_properties_xml, read_properties_xml, write_properties_xml, PropertiesError, RawProperties,
};

use crate::package_id::java_chars;
use crate::package_id::{
    normalize_group, Dependency, DependencyError, PackageId, PackageIdError, SubPackageHandling,
    Version,
};
use crate::value::Date;
use std::collections::BTreeMap;
use std::fmt;

/// The names of the keys FileVault reads or writes (reference section 4.2).
pub mod keys {
    /// Package group (`my/packages`).
    pub const GROUP: &str = "group";
    /// Package name.
    pub const NAME: &str = "name";
    /// Package version.
    pub const VERSION: &str = "version";
    /// Free text.
    pub const DESCRIPTION: &str = "description";
    /// Creation date.
    pub const CREATED: &str = "created";
    /// User who created the package.
    pub const CREATED_BY: &str = "createdBy";
    /// Last modification date.
    pub const LAST_MODIFIED: &str = "lastModified";
    /// User who last modified the package.
    pub const LAST_MODIFIED_BY: &str = "lastModifiedBy";
    /// Date of the last re-wrap.
    pub const LAST_WRAPPED: &str = "lastWrapped";
    /// User who last re-wrapped the package.
    pub const LAST_WRAPPED_BY: &str = "lastWrappedBy";
    /// Build counter.
    pub const BUILD_COUNT: &str = "buildCount";
    /// Producer id (`org.apache.jackrabbit.vault:3.7.0`).
    pub const GENERATOR: &str = "generator";
    /// Package format version (default 2).
    pub const PACKAGE_FORMAT_VERSION: &str = "packageFormatVersion";
    /// Dependencies (section 4.3).
    pub const DEPENDENCIES: &str = "dependencies";
    /// Where dependencies can be fetched: `pid=uri` items.
    pub const DEPENDENCIES_LOCATIONS: &str = "dependencies-locations";
    /// Access control handling.
    pub const AC_HANDLING: &str = "acHandling";
    /// Regex for the `.cnd` files in `jcr_root` to register.
    pub const CND_PATTERN: &str = "cndPattern";
    /// Only admin-like sessions may install.
    pub const REQUIRES_ROOT: &str = "requiresRoot";
    /// The system needs a restart after installation (informational).
    pub const REQUIRES_RESTART: &str = "requiresRestart";
    /// No intermediate saves during installation.
    pub const NO_INTERMEDIATE_SAVES: &str = "noIntermediateSaves";
    /// Sub package handling (section 4.6).
    pub const SUB_PACKAGE_HANDLING: &str = "subPackageHandling";
    /// Export binaries as references.
    pub const USE_BINARY_REFERENCES: &str = "useBinaryReferences";
    /// Package type.
    pub const PACKAGE_TYPE: &str = "packageType";
    /// The package may contain Oak index definitions.
    pub const ALLOW_INDEX_DEFINITIONS: &str = "allowIndexDefinitions";
    /// Overrides the default of principal policy stashing.
    pub const STASH_PRINCIPAL_POLICIES: &str = "vault.feature.stashPrincipalPolicies";
    /// Maven group id (informational).
    pub const GROUP_ID: &str = "groupId";
    /// Maven artifact id (informational).
    pub const ARTIFACT_ID: &str = "artifactId";
    /// Prefix of the external install hook keys `installhook.<name>.class`.
    pub const INSTALL_HOOK_PREFIX: &str = "installhook.";
}

/// The `cndPattern` FileVault uses when the package sets none.
pub const DEFAULT_CND_PATTERN: &str = r"^/(apps|libs)/([^/]+/){1,2}nodetypes/.+\.cnd$";

/// The comment FileVault's exporter writes into `properties.xml`.
pub const FILEVAULT_COMMENT: &str = "FileVault Package Properties";

/// The package format version FileVault writes and the highest one it installs.
pub const PACKAGE_FORMAT_VERSION: i32 = 2;

/// How access control content of the package is installed (`acHandling`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AcHandling {
    /// Access control content is not installed.
    #[default]
    Ignore,
    /// Existing access control is replaced.
    Overwrite,
    /// Merged with the existing access control.
    Merge,
    /// Merged, keeping existing entries for the same principals.
    MergePreserve,
    /// Existing access control is removed, nothing is installed.
    Clear,
}

impl AcHandling {
    /// The handling named case-insensitively (`merge_preserve`, `MERGE`, ...).
    pub fn from_name(s: &str) -> Option<AcHandling> {
        Some(match s.to_uppercase().as_str() {
            "IGNORE" => AcHandling::Ignore,
            "OVERWRITE" => AcHandling::Overwrite,
            "MERGE" => AcHandling::Merge,
            "MERGE_PRESERVE" => AcHandling::MergePreserve,
            "CLEAR" => AcHandling::Clear,
            _ => return None,
        })
    }

    /// The lower-case name used in properties and options.
    pub fn name(self) -> &'static str {
        match self {
            AcHandling::Ignore => "ignore",
            AcHandling::Overwrite => "overwrite",
            AcHandling::Merge => "merge",
            AcHandling::MergePreserve => "merge_preserve",
            AcHandling::Clear => "clear",
        }
    }
}

impl fmt::Display for AcHandling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What kind of content a package holds (`packageType`, reference section 12.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PackageType {
    /// Only `/apps` and `/libs`.
    Application,
    /// Everything but `/apps` and `/libs`.
    Content,
    /// Only sub packages, bundles and configurations.
    Container,
    /// Anything (legacy).
    Mixed,
}

impl PackageType {
    /// The type named case-insensitively.
    pub fn from_name(s: &str) -> Option<PackageType> {
        Some(match s.to_uppercase().as_str() {
            "APPLICATION" => PackageType::Application,
            "CONTENT" => PackageType::Content,
            "CONTAINER" => PackageType::Container,
            "MIXED" => PackageType::Mixed,
            _ => return None,
        })
    }

    /// The lower-case name written to properties and the manifest.
    pub fn name(self) -> &'static str {
        match self {
            PackageType::Application => "application",
            PackageType::Content => "content",
            PackageType::Container => "container",
            PackageType::Mixed => "mixed",
        }
    }

    /// The type FileVault's exporter derives from the roots of the filter sets that
    /// are not of type `cleanup`: all under `/apps` or `/libs` is `application`, none
    /// of them is `content`, both (or no root at all) is `mixed`.
    pub fn detect<'a>(roots: impl IntoIterator<Item = &'a str>) -> PackageType {
        let (mut apps, mut other) = (false, false);
        for root in roots {
            let is_app = ["/apps", "/libs"]
                .iter()
                .any(|a| root == *a || root.strip_prefix(a).is_some_and(|r| r.starts_with('/')));
            if is_app {
                apps = true;
            } else {
                other = true;
            }
        }
        match (apps, other) {
            (true, false) => PackageType::Application,
            (false, true) => PackageType::Content,
            _ => PackageType::Mixed,
        }
    }
}

impl fmt::Display for PackageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An `installhook.*` key FileVault refuses (installation then fails), or a hook
/// name that cannot be written as one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid install hook property '{key}': expected installhook.<name>.class with a <name> without dots")]
pub struct InstallHookError {
    /// The offending key.
    pub key: String,
}

/// The properties of a package: every key of `properties.xml`, with typed accessors
/// for the keys FileVault interprets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PackageProperties {
    entries: BTreeMap<String, String>,
    comment: Option<String>,
}

impl PackageProperties {
    /// No properties at all.
    pub fn new() -> PackageProperties {
        PackageProperties::default()
    }

    /// Parses the bytes of a `properties.xml`; `file` names it in errors.
    pub fn parse(bytes: &[u8], file: &str) -> Result<PackageProperties, PropertiesError> {
        Ok(PackageProperties::from_raw(parse_properties_xml(
            bytes, file,
        )?))
    }

    /// Reads a `properties.xml` from `reader`; `file` names it in errors.
    pub fn read(
        reader: impl std::io::Read,
        file: &str,
    ) -> Result<PackageProperties, PropertiesError> {
        Ok(PackageProperties::from_raw(read_properties_xml(
            reader, file,
        )?))
    }

    /// Builds the properties from a read file; a later duplicate key wins.
    pub fn from_raw(raw: RawProperties) -> PackageProperties {
        PackageProperties {
            entries: raw.entries.into_iter().collect(),
            comment: raw.comment,
        }
    }

    /// Writes `properties.xml`: FileVault's header and comment line, then every
    /// entry with the keys in sorted (byte) order, so that the same properties always
    /// give the same bytes.
    pub fn write_xml(&self, out: impl std::io::Write) -> std::io::Result<()> {
        write_properties_xml(
            out,
            Some(FILEVAULT_COMMENT),
            self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        )
    }

    /// [`PackageProperties::write_xml`] into a byte vector.
    pub fn to_xml(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1024);
        // Writing to a Vec cannot fail.
        let _ = self.write_xml(&mut out);
        out
    }

    /// The comment of the file that was read (not written back: the writer always
    /// uses FileVault's comment).
    pub fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }

    /// The raw value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries.get(key).map(String::as_str)
    }

    /// Sets `key` to `value` (any key; FileVault keeps unknown ones).
    pub fn set(&mut self, key: &str, value: &str) {
        self.entries.insert(key.to_string(), value.to_string());
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.entries.remove(key)
    }

    /// Every key and value, keys in sorted order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is no key at all.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    // ---- identity ------------------------------------------------------------

    /// The group, without a leading `/etc/packages/` or `/`.
    pub fn group(&self) -> Option<&str> {
        self.get(keys::GROUP).map(normalize_group)
    }

    /// The package name.
    pub fn name(&self) -> Option<&str> {
        self.get(keys::NAME)
    }

    /// The version; empty when the key is absent.
    pub fn version(&self) -> Version {
        Version::parse(self.get(keys::VERSION).unwrap_or(""))
    }

    /// The package id; `None` unless both `group` and `name` are set (as in
    /// FileVault, a missing version is the empty version).
    pub fn id(&self) -> Option<PackageId> {
        let group = self.get(keys::GROUP)?;
        let name = self.get(keys::NAME)?;
        Some(PackageId::new(
            group,
            name,
            self.get(keys::VERSION).unwrap_or(""),
        ))
    }

    /// Sets `group`, `name` and `version` from `id`.
    pub fn set_id(&mut self, id: &PackageId) {
        self.set(keys::GROUP, id.group());
        self.set(keys::NAME, id.name());
        self.set(keys::VERSION, id.version_str());
    }

    /// Sets the group.
    pub fn set_group(&mut self, group: &str) {
        self.set(keys::GROUP, group);
    }

    /// Sets the name.
    pub fn set_name(&mut self, name: &str) {
        self.set(keys::NAME, name);
    }

    /// Sets the version.
    pub fn set_version(&mut self, version: &str) {
        self.set(keys::VERSION, version);
    }

    /// The description.
    pub fn description(&self) -> Option<&str> {
        self.get(keys::DESCRIPTION)
    }

    /// Sets the description.
    pub fn set_description(&mut self, description: &str) {
        self.set(keys::DESCRIPTION, description);
    }

    // ---- dates and authors ---------------------------------------------------

    fn date(&self, key: &str) -> Option<Date> {
        self.get(key).and_then(parse_package_date)
    }

    fn set_date(&mut self, key: &str, date: &Date) {
        self.set(key, &date.to_string());
    }

    /// The creation date; `None` when absent or not a date FileVault reads.
    pub fn created(&self) -> Option<Date> {
        self.date(keys::CREATED)
    }

    /// Sets the creation date (ISO 8601, as FileVault writes it).
    pub fn set_created(&mut self, date: &Date) {
        self.set_date(keys::CREATED, date);
    }

    /// The user who created the package.
    pub fn created_by(&self) -> Option<&str> {
        self.get(keys::CREATED_BY)
    }

    /// Sets the user who created the package.
    pub fn set_created_by(&mut self, user: &str) {
        self.set(keys::CREATED_BY, user);
    }

    /// The last modification date.
    pub fn last_modified(&self) -> Option<Date> {
        self.date(keys::LAST_MODIFIED)
    }

    /// Sets the last modification date.
    pub fn set_last_modified(&mut self, date: &Date) {
        self.set_date(keys::LAST_MODIFIED, date);
    }

    /// The user who last modified the package.
    pub fn last_modified_by(&self) -> Option<&str> {
        self.get(keys::LAST_MODIFIED_BY)
    }

    /// Sets the user who last modified the package.
    pub fn set_last_modified_by(&mut self, user: &str) {
        self.set(keys::LAST_MODIFIED_BY, user);
    }

    /// The date of the last re-wrap.
    pub fn last_wrapped(&self) -> Option<Date> {
        self.date(keys::LAST_WRAPPED)
    }

    /// Sets the date of the last re-wrap.
    pub fn set_last_wrapped(&mut self, date: &Date) {
        self.set_date(keys::LAST_WRAPPED, date);
    }

    /// The user who last re-wrapped the package.
    pub fn last_wrapped_by(&self) -> Option<&str> {
        self.get(keys::LAST_WRAPPED_BY)
    }

    /// Sets the user who last re-wrapped the package.
    pub fn set_last_wrapped_by(&mut self, user: &str) {
        self.set(keys::LAST_WRAPPED_BY, user);
    }

    /// The producer of the package.
    pub fn generator(&self) -> Option<&str> {
        self.get(keys::GENERATOR)
    }

    /// Sets the producer of the package.
    pub fn set_generator(&mut self, generator: &str) {
        self.set(keys::GENERATOR, generator);
    }

    /// The build counter; 0 when absent or not an integer.
    pub fn build_count(&self) -> i64 {
        self.get(keys::BUILD_COUNT)
            .and_then(java_chars::parse_long)
            .unwrap_or(0)
    }

    /// Sets the build counter.
    pub fn set_build_count(&mut self, count: i64) {
        self.set(keys::BUILD_COUNT, &count.to_string());
    }

    /// The package format version; 2 when absent or not an integer. FileVault
    /// refuses to install a version above 2.
    pub fn package_format_version(&self) -> i32 {
        self.get(keys::PACKAGE_FORMAT_VERSION)
            .and_then(java_chars::parse_int)
            .unwrap_or(PACKAGE_FORMAT_VERSION)
    }

    /// Sets the package format version.
    pub fn set_package_format_version(&mut self, version: i32) {
        self.set(keys::PACKAGE_FORMAT_VERSION, &version.to_string());
    }

    // ---- dependencies ----------------------------------------------------------

    /// The dependencies (empty when absent). An invalid version range is an error,
    /// as FileVault fails on it.
    pub fn dependencies(&self) -> Result<Vec<Dependency>, DependencyError> {
        match self.get(keys::DEPENDENCIES) {
            None => Ok(Vec::new()),
            Some(s) => Dependency::parse_list(s),
        }
    }

    /// Sets the dependencies (`g:n:[1.0,2.0),h:m`).
    pub fn set_dependencies(&mut self, deps: &[Dependency]) {
        self.set(keys::DEPENDENCIES, &Dependency::format_list(deps));
    }

    /// Where dependencies can be fetched from: `(package id, URI)` pairs of the
    /// `dependencies-locations` property, in order. As in FileVault, items without
    /// `=`, with an empty id or an invalid URI are skipped, and a later item for the
    /// same id replaces the earlier one.
    pub fn dependencies_locations(&self) -> Vec<(PackageId, String)> {
        let mut out: Vec<(PackageId, String)> = Vec::new();
        let Some(s) = self.get(keys::DEPENDENCIES_LOCATIONS) else {
            return out;
        };
        for item in java_chars::split_dropping_trailing_empty(s, ',') {
            let Some((pid, uri)) = item.split_once('=') else {
                continue;
            };
            let Ok(id) = PackageId::parse(pid) else {
                continue;
            };
            if !is_uri(uri) {
                continue;
            }
            match out.iter_mut().find(|(known, _)| *known == id) {
                Some(slot) => slot.1 = uri.to_string(),
                None => out.push((id, uri.to_string())),
            }
        }
        out
    }

    /// Sets `dependencies-locations` from `(package id, URI)` pairs.
    pub fn set_dependencies_locations(&mut self, locations: &[(PackageId, String)]) {
        let items: Vec<String> = locations
            .iter()
            .map(|(id, uri)| format!("{id}={uri}"))
            .collect();
        self.set(keys::DEPENDENCIES_LOCATIONS, &items.join(","));
    }

    // ---- installation behaviour ------------------------------------------------

    /// How access control content is installed: the `acHandling` value read
    /// case-insensitively; `ignore` when absent or unknown.
    pub fn ac_handling(&self) -> AcHandling {
        self.get(keys::AC_HANDLING)
            .and_then(AcHandling::from_name)
            .unwrap_or_default()
    }

    /// Sets `acHandling`.
    pub fn set_ac_handling(&mut self, handling: AcHandling) {
        self.set(keys::AC_HANDLING, handling.name());
    }

    /// The regex (Java syntax) selecting the `.cnd` files in `jcr_root` to register;
    /// [`DEFAULT_CND_PATTERN`] when absent.
    pub fn cnd_pattern(&self) -> &str {
        self.get(keys::CND_PATTERN).unwrap_or(DEFAULT_CND_PATTERN)
    }

    /// Sets `cndPattern`.
    pub fn set_cnd_pattern(&mut self, pattern: &str) {
        self.set(keys::CND_PATTERN, pattern);
    }

    /// Whether only admin-like sessions may install: the exact string `true`.
    pub fn requires_root(&self) -> bool {
        self.get(keys::REQUIRES_ROOT) == Some("true")
    }

    /// Sets `requiresRoot`.
    pub fn set_requires_root(&mut self, value: bool) {
        self.set(keys::REQUIRES_ROOT, bool_str(value));
    }

    /// Whether the system needs a restart after installation (informational): the
    /// exact string `true`.
    pub fn requires_restart(&self) -> bool {
        self.get(keys::REQUIRES_RESTART) == Some("true")
    }

    /// Sets `requiresRestart`.
    pub fn set_requires_restart(&mut self, value: bool) {
        self.set(keys::REQUIRES_RESTART, bool_str(value));
    }

    /// Whether installation saves only once at the end: `true` in any case, as
    /// Java's `Boolean.parseBoolean` reads it.
    pub fn no_intermediate_saves(&self) -> bool {
        self.get(keys::NO_INTERMEDIATE_SAVES)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// Sets `noIntermediateSaves`.
    pub fn set_no_intermediate_saves(&mut self, value: bool) {
        self.set(keys::NO_INTERMEDIATE_SAVES, bool_str(value));
    }

    /// How sub packages are handled (every one installed when absent). Fails only
    /// for an instruction that is nothing but colons, on which FileVault fails too.
    pub fn sub_package_handling(&self) -> Result<SubPackageHandling, PackageIdError> {
        SubPackageHandling::parse(self.get(keys::SUB_PACKAGE_HANDLING).unwrap_or(""))
    }

    /// Sets `subPackageHandling`.
    pub fn set_sub_package_handling(&mut self, handling: &SubPackageHandling) {
        self.set(keys::SUB_PACKAGE_HANDLING, &handling.to_string());
    }

    /// Whether export writes binaries as references: the exact string `true`.
    pub fn use_binary_references(&self) -> bool {
        self.get(keys::USE_BINARY_REFERENCES) == Some("true")
    }

    /// Sets `useBinaryReferences`.
    pub fn set_use_binary_references(&mut self, value: bool) {
        self.set(keys::USE_BINARY_REFERENCES, bool_str(value));
    }

    /// The package type; `None` when absent or not one of the four names
    /// (read case-insensitively).
    pub fn package_type(&self) -> Option<PackageType> {
        self.get(keys::PACKAGE_TYPE)
            .and_then(PackageType::from_name)
    }

    /// Sets `packageType`.
    pub fn set_package_type(&mut self, package_type: PackageType) {
        self.set(keys::PACKAGE_TYPE, package_type.name());
    }

    /// Whether the package may contain Oak index definitions: `true` in any case.
    pub fn allow_index_definitions(&self) -> bool {
        self.get(keys::ALLOW_INDEX_DEFINITIONS)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// Sets `allowIndexDefinitions`.
    pub fn set_allow_index_definitions(&mut self, value: bool) {
        self.set(keys::ALLOW_INDEX_DEFINITIONS, bool_str(value));
    }

    /// The package's override of principal policy stashing: `None` when absent,
    /// otherwise whether the value is `true` in any case.
    pub fn stash_principal_policies(&self) -> Option<bool> {
        self.get(keys::STASH_PRINCIPAL_POLICIES)
            .map(|v| v.eq_ignore_ascii_case("true"))
    }

    /// The external install hooks, `installhook.<name>.class` keys, as name → class
    /// name in name order (the order FileVault calls them in). Empty dot-separated
    /// parts are ignored as FileVault ignores them; any other key under
    /// `installhook.` (more dots, or not ending in `.class`) makes FileVault refuse
    /// the installation and is an error here.
    pub fn install_hooks(&self) -> Result<BTreeMap<String, String>, InstallHookError> {
        let mut hooks = BTreeMap::new();
        for (key, class) in self.iter() {
            let Some(rest) = key.strip_prefix(keys::INSTALL_HOOK_PREFIX) else {
                continue;
            };
            let segs: Vec<&str> = java_chars::explode(rest, '.').collect();
            match segs.as_slice() {
                [name, "class"] => {
                    hooks.insert((*name).to_string(), class.to_string());
                }
                _ => {
                    return Err(InstallHookError {
                        key: key.to_string(),
                    })
                }
            }
        }
        Ok(hooks)
    }

    /// Registers the external install hook `name` (no dots) implemented by `class`.
    pub fn set_install_hook(&mut self, name: &str, class: &str) -> Result<(), InstallHookError> {
        let key = format!("{}{name}.class", keys::INSTALL_HOOK_PREFIX);
        if name.is_empty() || name.contains('.') {
            return Err(InstallHookError { key });
        }
        self.set(&key, class);
        Ok(())
    }

    /// Sets what FileVault's exporter sets on every export: `created` (the export
    /// time), `createdBy`, `generator`, `packageFormatVersion` 2, and `packageType`
    /// when it is not set yet, derived from the non-cleanup filter roots.
    pub fn stamp_export<'a>(
        &mut self,
        created: &Date,
        created_by: &str,
        generator: &str,
        non_cleanup_roots: impl IntoIterator<Item = &'a str>,
    ) {
        self.set_created(created);
        self.set_created_by(created_by);
        self.set_generator(generator);
        self.set_package_format_version(PACKAGE_FORMAT_VERSION);
        if self.get(keys::PACKAGE_TYPE).is_none() {
            self.set_package_type(PackageType::detect(non_cleanup_roots));
        }
    }
}

fn bool_str(value: bool) -> &'static str {
    if value {
        "true"
    } else {
        "false"
    }
}

/// A light version of `java.net.URI`'s syntax check: no blanks, controls or
/// characters URIs never hold literally, and well-formed `%XX` escapes.
fn is_uri(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let ok = b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                    && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
                if !ok {
                    return false;
                }
                i += 3;
                continue;
            }
            0..=0x20 | 0x7F | b'"' | b'<' | b'>' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}' => {
                return false
            }
            _ => {}
        }
        i += 1;
    }
    !s.starts_with(':')
}

#[cfg(test)]
mod tests;
