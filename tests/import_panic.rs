//! A panic on the installing thread while the read-ahead thread still holds
//! documents (a229d14): the install unwinds instead of hanging, nothing of it is
//! committed, and the repository takes the next install. The panic is injected
//! through the caller's event sink, which the installing walk calls for every path.

use jcrpack::events::{Actor, Event, Events};
use jcrpack::import::{self, ImportOptions};
use jcrpack::repository;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

/// Pages in the package: more documents than the walk consumes before the panic,
/// few enough that the reader has read them all and waits for the installer.
const PAGES: usize = 300;

/// Panics at the `at`-th path event (and counts every path event).
struct PanicAt {
    at: usize,
    seen: AtomicUsize,
}

impl Events for PanicAt {
    fn event(&self, event: &Event<'_>) {
        if let Event::Path { path, .. } = event {
            let n = self.seen.fetch_add(1, Ordering::SeqCst) + 1;
            if n == self.at {
                panic!("injected panic at path event {n} ({path})");
            }
        }
    }
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn package(root: &Path) {
    write(
        root,
        "META-INF/vault/filter.xml",
        r#"<?xml version="1.0" encoding="UTF-8"?>
<workspaceFilter version="1.0"><filter root="/content/site"/></workspaceFilter>
"#,
    );
    write(
        root,
        "META-INF/vault/properties.xml",
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE properties SYSTEM "http://java.sun.com/dtd/properties.dtd">
<properties><entry key="name">panic</entry><entry key="group">tests</entry><entry key="version">1</entry></properties>
"#,
    );
    for folder in ["content", "content/site"] {
        write(
            root,
            &format!("jcr_root/{folder}/.content.xml"),
            r#"<?xml version="1.0" encoding="UTF-8"?>
<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured"/>
"#,
        );
    }
    for i in 0..PAGES {
        write(
            root,
            &format!("jcr_root/content/site/p{i:03}/.content.xml"),
            &format!(
                r#"<?xml version="1.0" encoding="UTF-8"?>
<jcr:root xmlns:jcr="http://www.jcp.org/jcr/1.0" jcr:primaryType="nt:unstructured" title="page {i}">
    <a jcr:primaryType="nt:unstructured" n="{{Long}}{i}"/>
    <b jcr:primaryType="nt:unstructured" text="b of {i}"/>
</jcr:root>
"#
            ),
        );
    }
}

fn options(events: Arc<dyn Events>) -> ImportOptions {
    let mut o = ImportOptions::new(Actor {
        user: "admin".into(),
        time: jcrpack::value::Date::from_epoch_millis(0),
    });
    o.events = events;
    o
}

#[test]
fn a_panic_of_the_installing_walk_unwinds_commits_nothing_and_frees_the_repository() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    let pkg = tmp.path().join("pkg");
    package(&pkg);
    repository::init(&repo).unwrap();

    let sink = Arc::new(PanicAt {
        at: 40,
        seen: AtomicUsize::new(0),
    });
    let (tx, rx) = mpsc::channel();
    {
        let (repo, pkg, sink) = (repo.clone(), pkg.clone(), sink.clone());
        std::thread::spawn(move || {
            let outcome = std::panic::catch_unwind(move || {
                let mut store = repository::open(&repo).unwrap();
                import::install(store.as_mut(), &pkg, &options(sink)).map(|_| ())
            });
            let _ = tx.send(outcome.map_err(|p| {
                p.downcast_ref::<String>()
                    .cloned()
                    .unwrap_or_else(|| "a panic without a message".into())
            }));
        });
    }
    let outcome = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the install neither returned nor unwound within 120 s: it hangs");
    let message = match outcome {
        Err(message) => message,
        Ok(result) => panic!("the injected panic did not reach the caller: {result:?}"),
    };
    assert!(
        message.contains("injected panic at path event 40"),
        "{message}"
    );
    assert!(
        sink.seen.load(Ordering::SeqCst) < PAGES,
        "the walk went on after the panic"
    );

    // Nothing of the unwound install was committed, and the repository is not
    // left locked: the next install takes it and installs everything.
    let mut store = repository::open(&repo).unwrap();
    assert!(store.node("default", "/content/site").unwrap().is_none());
    let report = import::install(
        store.as_mut(),
        &pkg,
        &options(Arc::new(jcrpack::events::NoEvents)),
    )
    .unwrap();
    assert!(
        report.totals.added >= 3 * PAGES as u64,
        "{:?}",
        report.totals
    );
    assert!(store
        .node("default", &format!("/content/site/p{:03}/b", PAGES - 1))
        .unwrap()
        .is_some());
}
