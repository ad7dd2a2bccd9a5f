//! Set-up shared by unit tests: an actor at a given time, a fresh SQLite
//! repository in a temporary folder, files written below a folder, and the shared
//! corpus.

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

/// Writes `text` to `dir/rel`, creating the folders on the way.
pub(crate) fn write(dir: &std::path::Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// The shared corpus: `$JCRPACK_CORPUS` when set, else `../shared/corpus` beside the
/// project. A test that reads it fails, saying why, when it is missing: it never
/// passes without having run.
pub(crate) fn corpus() -> std::path::PathBuf {
    let dir = match std::env::var_os("JCRPACK_CORPUS") {
        Some(d) => std::path::PathBuf::from(d),
        None => std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"),
    };
    assert!(
        dir.is_dir(),
        "this test reads the shared corpus, and {} does not exist \
         (set JCRPACK_CORPUS to its folder, or check it out as ../shared/corpus)",
        dir.display()
    );
    dir
}
