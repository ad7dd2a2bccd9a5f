//! Package ids (`group:name:version`), versions in Maven order, version ranges and dependencies.
