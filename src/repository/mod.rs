//! The repository: a storage trait and its SQLite backend with a content-addressed blob store.
