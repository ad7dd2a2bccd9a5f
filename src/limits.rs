//! The counted limits on hostile structure, in one place, process-wide.
//!
//! Every walk over input a package brings is bounded: entries, entry depth and name
//! bytes in an archive ([`archive::Limits`]), patterns in a filter, namespace
//! declarations on one element, and how deep and how many sub packages an install
//! opens. Each limit, when crossed, gives an error naming the limit and the
//! environment variable that raises it. The library reads no environment: the CLI
//! reads the variables ([`ENV_VARS`]) once at start and calls [`set`]; a server
//! embedding the library calls [`set`] with its own configuration. Until [`set`] is
//! called the defaults apply.

use std::sync::OnceLock;

use crate::archive;

/// The process-wide limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// What reading one archive may cost ([`archive::ReadOptions::default`] uses it).
    pub archive: archive::Limits,
    /// The most segments a repository path an install writes may have (a package's
    /// folders and the elements nested in its DocView files together).
    pub node_depth: usize,
    /// The most include and exclude patterns one `filter.xml` may hold.
    pub filter_patterns: usize,
    /// The most namespace declarations one XML element may carry.
    pub namespace_declarations: usize,
    /// The most sub packages one install may install, at every depth together.
    pub sub_packages: usize,
}

impl Default for Limits {
    /// The archive defaults; repository paths 1,024 segments deep (the importer's
    /// walk recurses once a level: a debug build's 8 MiB main thread overflowed at
    /// 1,510); 2,000 filter patterns (each is compiled to an automaton, about
    /// 1.3 ms and 15 KB each: 150,000 took 2.3 GB and 100 s, 10,000 still 13 s); 1,000 namespace declarations on one element;
    /// 256 sub packages in all (their nesting is `ImportOptions::max_sub_package_depth`,
    /// 8: without a total, 8 zips of 8 zips of ... were 16 million installs).
    fn default() -> Self {
        Limits {
            archive: archive::Limits::default(),
            node_depth: 1_024,
            filter_patterns: 2_000,
            namespace_declarations: 1_000,
            sub_packages: 256,
        }
    }
}

/// The environment variables the CLI reads, with what each sets, for `--help` texts
/// and messages.
pub const ENV_VARS: [(&str, &str); 7] = [
    ("JCRPACK_MAX_ENTRIES", "entries in one archive"),
    ("JCRPACK_MAX_PATH_DEPTH", "segments of one entry name"),
    (
        "JCRPACK_MAX_NAME_BYTES",
        "bytes of all entry names of one archive",
    ),
    (
        "JCRPACK_MAX_NODE_DEPTH",
        "segments of a repository path an install writes",
    ),
    ("JCRPACK_MAX_FILTER_PATTERNS", "patterns in one filter.xml"),
    (
        "JCRPACK_MAX_NAMESPACES",
        "namespace declarations on one XML element",
    ),
    ("JCRPACK_MAX_SUB_PACKAGES", "sub packages one install opens"),
];

static PROCESS: OnceLock<Limits> = OnceLock::new();

/// Sets the process-wide limits; only the first call counts (false for later ones).
pub fn set(limits: Limits) -> bool {
    PROCESS.set(limits).is_ok()
}

/// The process-wide limits: those given to [`set`], else the defaults.
pub fn get() -> Limits {
    PROCESS.get().copied().unwrap_or_default()
}

/// Builds limits from `(variable, value)` pairs, as the CLI reads them from the
/// environment: each known variable must hold a whole number; others are ignored.
pub fn from_vars<'a>(vars: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Limits, String> {
    let mut limits = Limits::default();
    for (name, value) in vars {
        if !ENV_VARS.iter().any(|(n, _)| *n == name) {
            continue;
        }
        let n: u64 = value
            .trim()
            .parse()
            .map_err(|_| format!("{name}={value:?} is not a whole number"))?;
        let size = usize::try_from(n).unwrap_or(usize::MAX);
        match name {
            "JCRPACK_MAX_ENTRIES" => limits.archive = limits.archive.with_max_entries(n),
            "JCRPACK_MAX_PATH_DEPTH" => limits.archive = limits.archive.with_max_depth(n),
            "JCRPACK_MAX_NAME_BYTES" => limits.archive = limits.archive.with_max_name_bytes(n),
            "JCRPACK_MAX_NODE_DEPTH" => limits.node_depth = size,
            "JCRPACK_MAX_FILTER_PATTERNS" => limits.filter_patterns = size,
            "JCRPACK_MAX_NAMESPACES" => limits.namespace_declarations = size,
            "JCRPACK_MAX_SUB_PACKAGES" => limits.sub_packages = size,
            _ => {}
        }
    }
    Ok(limits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_raise_each_limit_and_bad_values_are_refused() {
        let l = from_vars([
            ("JCRPACK_MAX_PATH_DEPTH", "2000"),
            ("JCRPACK_MAX_NODE_DEPTH", "3000"),
            ("JCRPACK_MAX_FILTER_PATTERNS", " 200000 "),
            ("JCRPACK_MAX_SUB_PACKAGES", "3"),
            ("HOME", "/root"),
        ])
        .unwrap();
        assert_eq!(l.archive.max_depth(), 2000);
        assert_eq!(l.node_depth, 3000);
        assert_eq!(l.filter_patterns, 200_000);
        assert_eq!(l.sub_packages, 3);
        assert_eq!(
            l.namespace_declarations,
            Limits::default().namespace_declarations
        );
        let e = from_vars([("JCRPACK_MAX_ENTRIES", "lots")]).unwrap_err();
        assert_eq!(e, "JCRPACK_MAX_ENTRIES=\"lots\" is not a whole number");
    }
}
