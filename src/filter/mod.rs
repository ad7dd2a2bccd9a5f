//! Workspace filters (`META-INF/vault/filter.xml`): parsing, writing, and FileVault's questions of a filter.
