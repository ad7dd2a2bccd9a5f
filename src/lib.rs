//! jcrpack: read, write, validate and install Apache Jackrabbit FileVault content packages.
