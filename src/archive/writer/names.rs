//! The names a [`super::PackageWriter`] has written, kept for duplicate and
//! file/directory checks without a set of every name: only the chain of directories
//! from the root to the last entry's parent is held, each with its own children. A
//! writer that goes depth-first (the exporter, `build`'s walk) never leaves a directory
//! it comes back to, so this is all it needs. A writer that does come back to a
//! directory it left gets that directory's children read again from the names already
//! written ([`NameBook`]'s `load`), which costs one pass over them: correct for any
//! order, fast for the orders the writers use. Memory is bounded by the depth times
//! the largest directory's children, never by the number of entries.

use std::collections::HashMap;

use crate::archive::entry_name::parent_of;
use crate::archive::error::ArchiveError;
use crate::archive::listing::EntryKind;

/// The children of one directory, as [`NameBook`] keeps and loads them.
pub(super) type Children = HashMap<Box<str>, EntryKind>;

struct Level {
    /// The directory's path, "" for the root.
    path: String,
    children: Children,
}

/// See the module documentation.
pub(super) struct NameBook {
    chain: Vec<Level>,
    /// The level the last walk ended at.
    at: usize,
}

/// Where a walk down to a directory ended.
enum Walk {
    /// At the directory (the last level of the chain); the directories created on the
    /// way, top down.
    At(Vec<String>),
    /// A component does not exist (only when not creating).
    Absent,
    /// A component is a file: its path.
    File(String),
}

impl Default for NameBook {
    fn default() -> Self {
        NameBook {
            chain: vec![Level {
                path: String::new(),
                children: Children::new(),
            }],
            at: 0,
        }
    }
}

/// The children of directory `dir` among `names` (entry names as written: directories
/// end in `/`, and a name implies its parents).
pub(super) fn add_children_of(dir: &str, name: &str, children: &mut Children) {
    let Some(rest) = name
        .strip_prefix(dir)
        .and_then(|r| r.strip_prefix('/'))
        .filter(|_| !dir.is_empty())
    else {
        return;
    };
    let (child, kind) = match rest.find('/') {
        Some(i) => (&rest[..i], EntryKind::Directory),
        None => (rest, EntryKind::File),
    };
    if !child.is_empty() {
        children.entry(child.into()).or_insert(kind);
    }
}

impl NameBook {
    /// Walks the chain down to directory `dir`, creating missing directories when
    /// `create`. `load` gives the children of a directory that was left earlier. Levels
    /// below `dir` stay on the chain (a writer that looks at a parent and goes on below
    /// it loses nothing).
    fn walk(
        &mut self,
        dir: &str,
        create: bool,
        load: &mut dyn FnMut(&str) -> Result<Children, ArchiveError>,
    ) -> Result<Walk, ArchiveError> {
        // Where the last walk ended, or the end of the chain: a writer going
        // depth-first asks for the same directory entry after entry, and the chain
        // holds a level only below its parent's, so a level of that path means every
        // component is on the chain already: nothing to compare component by component.
        let last = self.chain.len().saturating_sub(1);
        for depth in [self.at, last] {
            if self.chain.get(depth).is_some_and(|l| l.path == dir) {
                self.at = depth;
                return Ok(Walk::At(Vec::new()));
            }
        }
        let mut created = Vec::new();
        self.at = 0;
        if dir.is_empty() {
            return Ok(Walk::At(created));
        }
        let mut start = 0;
        loop {
            let next = dir[start..].find('/').map_or(dir.len(), |i| start + i);
            let path = &dir[..next];
            let component = &dir[start..next];
            let depth = self.at;
            let on_chain = self.chain.get(depth + 1).is_some_and(|l| l.path == path);
            if !on_chain {
                let here = &mut self.chain[depth].children;
                match here.get(component) {
                    Some(EntryKind::File) => return Ok(Walk::File(path.to_owned())),
                    Some(EntryKind::Directory) => {
                        self.chain.truncate(depth + 1);
                        let children = load(path)?;
                        self.chain.push(Level {
                            path: path.to_owned(),
                            children,
                        });
                    }
                    None if !create => return Ok(Walk::Absent),
                    None => {
                        here.insert(component.into(), EntryKind::Directory);
                        self.chain.truncate(depth + 1);
                        self.chain.push(Level {
                            path: path.to_owned(),
                            children: Children::new(),
                        });
                        created.push(path.to_owned());
                    }
                }
            }
            self.at = depth + 1;
            if next == dir.len() {
                return Ok(Walk::At(created));
            }
            start = next + 1;
        }
    }

    /// What `name` (without a trailing slash) is, if it was written or implied.
    pub(super) fn kind_of(
        &mut self,
        name: &str,
        load: &mut dyn FnMut(&str) -> Result<Children, ArchiveError>,
    ) -> Result<Option<EntryKind>, ArchiveError> {
        match self.walk(parent_of(name), false, load)? {
            Walk::At(_) => Ok(self.chain[self.at].children.get(leaf(name)).copied()),
            Walk::Absent | Walk::File(_) => Ok(None),
        }
    }

    /// Records the parents of `name` as directories: `Ok(created)` (the new ones, top
    /// down), or `Err(path)` when one of them is a file.
    pub(super) fn make_parents(
        &mut self,
        name: &str,
        load: &mut dyn FnMut(&str) -> Result<Children, ArchiveError>,
    ) -> Result<Result<Vec<String>, String>, ArchiveError> {
        match self.walk(parent_of(name), true, load)? {
            Walk::At(created) => Ok(Ok(created)),
            Walk::File(path) => Ok(Err(path)),
            Walk::Absent => unreachable!("a walk that creates never finds a name absent"),
        }
    }

    /// Records `name`, whose parents [`NameBook::make_parents`] has just recorded (a
    /// new directory becomes the end of the chain).
    pub(super) fn insert(&mut self, name: &str, kind: EntryKind) {
        debug_assert_eq!(self.chain[self.at].path, parent_of(name));
        let depth = self.at;
        self.chain[depth].children.insert(leaf(name).into(), kind);
        if kind == EntryKind::Directory {
            self.chain.truncate(depth + 1);
            self.chain.push(Level {
                path: name.to_owned(),
                children: Children::new(),
            });
        }
    }
}

fn leaf(name: &str) -> &str {
    let parent = parent_of(name);
    if parent.is_empty() {
        name
    } else {
        &name[parent.len() + 1..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A book whose `load` reads a list of every name recorded (as a writer's spool).
    struct Fixture {
        book: NameBook,
        written: Vec<String>,
        loads: usize,
    }

    /// The children of `dir` among the `written` names, counted as one load.
    fn children_in(written: &[String], loads: &mut usize, dir: &str) -> Children {
        *loads += 1;
        let mut c = Children::new();
        for n in written {
            add_children_of(dir, n, &mut c);
        }
        c
    }

    impl Fixture {
        fn new() -> Self {
            Fixture {
                book: NameBook::default(),
                written: Vec::new(),
                loads: 0,
            }
        }

        fn kind(&mut self, name: &str) -> Option<EntryKind> {
            let (written, loads) = (&self.written, &mut self.loads);
            let mut load = |dir: &str| Ok(children_in(written, loads, dir));
            self.book.kind_of(name, &mut load).unwrap()
        }

        fn add(&mut self, name: &str, kind: EntryKind) -> Result<(), String> {
            let (written, loads) = (&self.written, &mut self.loads);
            let mut load = |dir: &str| Ok(children_in(written, loads, dir));
            let created = self.book.make_parents(name, &mut load).unwrap()?;
            for d in created {
                self.written.push(format!("{d}/"));
            }
            self.book.insert(name, kind);
            self.written.push(match kind {
                EntryKind::Directory => format!("{name}/"),
                EntryKind::File => name.to_owned(),
            });
            Ok(())
        }
    }

    #[test]
    fn depth_first_writing_never_loads() {
        let mut f = Fixture::new();
        for n in ["a/b/c.txt", "a/b/d.txt", "a/e/f.txt", "a/g.txt", "h.txt"] {
            assert_eq!(f.kind(n), None);
            f.add(n, EntryKind::File).unwrap();
        }
        assert_eq!(f.loads, 0);
        assert_eq!(f.kind("h.txt"), Some(EntryKind::File));
        assert_eq!(
            f.written,
            [
                "a/",
                "a/b/",
                "a/b/c.txt",
                "a/b/d.txt",
                "a/e/",
                "a/e/f.txt",
                "a/g.txt",
                "h.txt"
            ]
        );
    }

    #[test]
    fn coming_back_to_a_directory_finds_what_it_holds() {
        let mut f = Fixture::new();
        f.add("META-INF/vault/filter.xml", EntryKind::File).unwrap();
        f.add("jcr_root/a/.content.xml", EntryKind::File).unwrap();
        assert_eq!(f.kind("META-INF/vault/filter.xml"), Some(EntryKind::File));
        assert_eq!(f.kind("META-INF/vault"), Some(EntryKind::Directory));
        assert!(f.loads > 0);
        f.add("META-INF/vault/properties.xml", EntryKind::File)
            .unwrap();
        assert_eq!(f.kind("jcr_root/a/.content.xml"), Some(EntryKind::File));
        assert_eq!(f.kind("jcr_root/a/other"), None);
        // A file on the way is a clash, also after leaving it.
        f.add("x", EntryKind::File).unwrap();
        f.add("y/z", EntryKind::File).unwrap();
        assert_eq!(f.add("x/z", EntryKind::File), Err("x".to_string()));
        // Directories are not written twice.
        let dirs = f.written.iter().filter(|n| *n == "META-INF/vault/").count();
        assert_eq!(dirs, 1);
    }

    #[test]
    fn a_directory_on_the_chain_answers_as_the_full_walk_does() {
        let mut f = Fixture::new();
        f.add("a/b/c/d.txt", EntryKind::File).unwrap();
        // The end of the chain, the level the last walk ended at, and one above both
        // (the full walk): the same answers, without loads.
        assert_eq!(f.kind("a/b/c/d.txt"), Some(EntryKind::File));
        assert_eq!(f.kind("a/b/c/e.txt"), None);
        assert_eq!(f.kind("a/b/x"), None);
        assert_eq!(f.kind("a/b/c/d.txt"), Some(EntryKind::File));
        assert_eq!(f.kind("a/b/c"), Some(EntryKind::Directory));
        f.add("a/b/f.txt", EntryKind::File).unwrap();
        assert_eq!(f.kind("a/b/f.txt"), Some(EntryKind::File));
        // The levels below the last walk stay on the chain: `a/b/c` is still found
        // there (the end of the chain), and a file on the way is still a clash.
        assert_eq!(f.kind("a/b/c/d.txt"), Some(EntryKind::File));
        assert_eq!(
            f.add("a/b/f.txt/g", EntryKind::File),
            Err("a/b/f.txt".into())
        );
        f.add("a/b/c/e.txt", EntryKind::File).unwrap();
        assert_eq!(f.kind("a/b/c/e.txt"), Some(EntryKind::File));
        assert_eq!(f.loads, 0);
        assert_eq!(f.written.iter().filter(|n| n.ends_with('/')).count(), 3);
    }
}
