//! Set-up shared by the unit tests of `backup` and `restore`: an actor at a given
//! time, and a fresh SQLite repository in a temporary folder.

use crate::events::Actor;
use crate::repository::sqlite::SqliteStore;
use crate::value::Date;

/// The user `tester` at `time` (ISO 8601).
pub(crate) fn actor(time: &str) -> Actor {
    Actor {
        user: "tester".into(),
        time: Date::parse(time).unwrap(),
    }
}

/// An empty repository in `dir/repo`.
pub(crate) fn repo_in(dir: &std::path::Path) -> SqliteStore {
    SqliteStore::init(&dir.join("repo")).unwrap()
}

/// An empty repository in a temporary folder (removed with the returned guard).
pub(crate) fn temp_repo() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = repo_in(dir.path());
    (dir, store)
}
