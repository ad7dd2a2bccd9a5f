//! The tables of a PostgreSQL repository, all in one schema (see the module doc of
//! [`super`]).
//!
//! They mirror the SQLite backend's: `node` keeps each node's standard-form path
//! (a subtree is a range on the `(ws, path)` index), `prop` the properties in the
//! same column encoding ([`crate::repository::sqlite::codec`]), `namespace` and
//! `nodetype` the registries, `op`, `jnode`, `jprop` and `jreg` the operation log
//! beside them. Every text that is compared or ordered is `COLLATE "C"`, so that
//! ranges and sort orders are byte orders whatever the database's locale, as in
//! SQLite and in Rust. Workspaces keep their row when deleted (`live = false`) so
//! that their ids are never reused and their names stay known. Binaries are `blob`
//! rows (SHA-256 and size) with their content in `blob_chunk` rows of at most
//! [`CHUNK`] bytes. `aggregate` holds the importer's aggregate digests by node
//! (see [`ContentTxn::set_aggregate_digest`](crate::repository::content::ContentTxn::set_aggregate_digest)).
//!
//! # Long paths and identifiers
//!
//! A btree entry of PostgreSQL holds at most about 2.7 KB, so no index holds a
//! raw path or `jcr:uuid` value (JCR puts no bound on either): the unique index of
//! a workspace's paths is on the MD5 of the path (`node_path`), point lookups
//! compare the hash and then the path itself, and subtree ranges go through an
//! index on the first [`PREFIX`] characters of the path (`node_prefix`; at most 4
//! bytes a character, so under the limit), the range on the prefix narrowing and
//! the range on the whole path deciding. The `jcr:uuid` index is on the MD5 of
//! the value likewise. Two different paths of one workspace with one MD5 would be
//! refused as a path conflict: an error, never a lost node.
//!
//! JCR bounds no name either, so since version 4 no key holds a raw property
//! name, namespace prefix or URI, node type name or registry key: `prop` is keyed
//! by `(node, md5(name))` (`prop_key`), `jprop` by `(op, node, left(name, 600),
//! md5(name))` (`jprop_key`, whose prefix also gives the journal's `(node, name)`
//! order), `namespace` by the MD5 of the prefix and of the URI, `nodetype` and
//! `jreg` by the MD5 of the name and key. The full texts stay in the rows, and
//! every lookup compares them. Two different names with one MD5 (only made on
//! purpose) are refused with an error naming both, never stored over each other:
//! `set_properties` checks the rows its upsert changed, the rows `COPY` writes are
//! checked before they are held ([`super::bulk`]), and the journal and registry
//! writes check that a row they find is theirs. What else is text in an index is
//! bounded: a workspace's name (`workspace_name`; a name the command line gives,
//! never content), `meta` keys (the code's own), blob hashes (64 characters) and
//! the path prefix of `node_prefix`. Node names are in no index (`node_path` is
//! hashed). Tables keyed by an expression index have no primary key: logical
//! replication of them needs `REPLICA IDENTITY FULL` (streaming replication and
//! `pg_dump` need nothing).
//!
//! # Versions
//!
//! Version 1 indexed the raw path and `jcr:uuid` and had no `aggregate` table;
//! [`MIGRATE_1_TO_2`] brings such a repository to version 2 when it is opened.
//! Versions 1 and 2 took node ids from `meta.next_node_id` and operation ids as
//! `max(id) + 1` under the one write lock; version 3 draws them from the
//! sequences `node_id` (a block of [`super::NODE_ID_BLOCK`] ids a transaction)
//! and `op_id`, so that transactions of different workspaces can run at once (see
//! the module doc of [`super`]); [`MIGRATE_2_TO_3`] starts them after the last
//! ids. Version 4 keys names by their MD5 ([`MIGRATE_3_TO_4`]).

/// The value of `meta.format`, which marks a schema as a jcrpack repository.
pub const FORMAT: &str = "jcrpack-repository";

/// The schema version this code reads and writes.
pub const VERSION: &str = "4";

/// The characters of a path the range index holds.
pub const PREFIX: usize = 600;

/// The size of a blob chunk.
pub const CHUNK: usize = 1 << 20;

/// Tables and indexes, created once by `init` (in the repository's schema, which
/// is first on the `search_path`).
pub const SCHEMA: &str = r#"
CREATE TABLE meta(key text COLLATE "C" PRIMARY KEY, value text NOT NULL);
CREATE TABLE workspace(
  id bigint PRIMARY KEY,
  name text COLLATE "C" NOT NULL,
  live boolean NOT NULL
);
CREATE UNIQUE INDEX workspace_name ON workspace(name) WHERE live;
CREATE TABLE node(
  id bigint PRIMARY KEY,
  ws bigint NOT NULL,
  parent bigint,
  name text COLLATE "C" NOT NULL,
  position bigint NOT NULL,
  path text COLLATE "C" NOT NULL,
  ptype text NOT NULL,
  mixins text NOT NULL
);
CREATE UNIQUE INDEX node_path ON node(ws, md5(path));
CREATE INDEX node_prefix ON node(ws, left(path, 600));
CREATE INDEX node_children ON node(parent, position, id);
CREATE TABLE prop(
  node bigint NOT NULL,
  name text COLLATE "C" NOT NULL,
  type integer NOT NULL,
  multiple boolean NOT NULL,
  value text NOT NULL
);
CREATE UNIQUE INDEX prop_key ON prop(node, md5(name));
CREATE INDEX prop_uuid ON prop(md5(value)) WHERE name = 'jcr:uuid';
CREATE TABLE namespace(prefix text COLLATE "C" NOT NULL, uri text NOT NULL);
CREATE UNIQUE INDEX namespace_prefix ON namespace(md5(prefix));
CREATE UNIQUE INDEX namespace_uri ON namespace(md5(uri));
CREATE TABLE nodetype(name text COLLATE "C" NOT NULL, cnd text NOT NULL);
CREATE UNIQUE INDEX nodetype_name ON nodetype(md5(name));
CREATE TABLE op(
  id bigint PRIMARY KEY,
  time text NOT NULL,
  "user" text NOT NULL,
  description text NOT NULL,
  install_id text,
  package_id text,
  options text NOT NULL,
  undoes bigint,
  nodes bigint NOT NULL DEFAULT 0,
  props bigint NOT NULL DEFAULT 0,
  regs bigint NOT NULL DEFAULT 0
);
CREATE TABLE jnode(
  op bigint NOT NULL,
  node bigint NOT NULL,
  ws bigint NOT NULL,
  path text COLLATE "C" NOT NULL,
  existed boolean NOT NULL,
  parent bigint,
  name text,
  position bigint,
  ptype text,
  mixins text,
  PRIMARY KEY(op, node)
);
CREATE INDEX jnode_node ON jnode(node);
CREATE TABLE jprop(
  op bigint NOT NULL,
  node bigint NOT NULL,
  name text COLLATE "C" NOT NULL,
  ws bigint NOT NULL,
  path text NOT NULL,
  existed boolean NOT NULL,
  type integer,
  multiple boolean,
  value text
);
CREATE UNIQUE INDEX jprop_key ON jprop(op, node, left(name, 600), md5(name));
CREATE INDEX jprop_node ON jprop(node, op);
CREATE TABLE jreg(
  op bigint NOT NULL,
  kind text COLLATE "C" NOT NULL,
  key text COLLATE "C" NOT NULL,
  existed boolean NOT NULL,
  value text
);
CREATE UNIQUE INDEX jreg_key ON jreg(op, kind, md5(key));
CREATE TABLE blob(sha256 text COLLATE "C" PRIMARY KEY, size bigint NOT NULL);
CREATE TABLE blob_chunk(
  blob text COLLATE "C" NOT NULL,
  seq integer NOT NULL,
  data bytea NOT NULL,
  PRIMARY KEY(blob, seq)
);
CREATE SEQUENCE upload;
CREATE TABLE aggregate(node bigint PRIMARY KEY, digest bytea NOT NULL);
CREATE SEQUENCE node_id INCREMENT BY 1073741824;
CREATE SEQUENCE op_id;
"#;

/// Brings a version 1 schema to version 2 (inside the caller's transaction, which
/// holds the repository's write lock): hashed and prefix indexes in place of the
/// raw path and `jcr:uuid` ones, and the `aggregate` table, empty.
pub const MIGRATE_1_TO_2: &str = r#"
DROP INDEX node_path;
CREATE UNIQUE INDEX node_path ON node(ws, md5(path));
CREATE INDEX node_prefix ON node(ws, left(path, 600));
DROP INDEX prop_uuid;
CREATE INDEX prop_uuid ON prop(md5(value)) WHERE name = 'jcr:uuid';
DROP TABLE IF EXISTS aggregate;
CREATE TABLE aggregate(node bigint PRIMARY KEY, digest bytea NOT NULL);
UPDATE meta SET value = '2' WHERE key = 'version';
"#;

/// Brings a version 2 schema to version 3 (inside the caller's transaction, which
/// holds the repository-wide write lock): node ids drawn in blocks from the
/// `node_id` sequence (from `meta.next_node_id`, which goes), operation ids from
/// `op_id` (after the last operation, pruned ones included).
pub const MIGRATE_2_TO_3: &str = r#"
CREATE SEQUENCE node_id INCREMENT BY 1073741824;
SELECT setval('node_id', greatest(coalesce((SELECT value::bigint FROM meta WHERE key = 'next_node_id'), 1),
                                  coalesce((SELECT max(id) + 1 FROM node), 1)), false);
DELETE FROM meta WHERE key = 'next_node_id';
CREATE SEQUENCE op_id;
SELECT setval('op_id', greatest(coalesce((SELECT max(id) FROM op), 0),
                                coalesce((SELECT value::bigint FROM meta WHERE key = 'pruned_through'), 0)) + 1, false);
UPDATE meta SET value = '3' WHERE key = 'version';
"#;

/// Brings a version 3 schema to version 4 (inside the caller's transaction, which
/// holds the repository-wide write lock): the keys of property names, registry
/// names and URIs by their MD5 (see "Long paths and identifiers" above) in place of
/// the raw text, whose btree entries PostgreSQL limits to about 2.7 KB. The rows
/// stay as they are; the new unique indexes are built from them.
pub const MIGRATE_3_TO_4: &str = r#"
ALTER TABLE prop DROP CONSTRAINT prop_pkey;
CREATE UNIQUE INDEX prop_key ON prop(node, md5(name));
ALTER TABLE namespace DROP CONSTRAINT namespace_pkey;
ALTER TABLE namespace DROP CONSTRAINT namespace_uri_key;
CREATE UNIQUE INDEX namespace_prefix ON namespace(md5(prefix));
CREATE UNIQUE INDEX namespace_uri ON namespace(md5(uri));
ALTER TABLE nodetype DROP CONSTRAINT nodetype_pkey;
CREATE UNIQUE INDEX nodetype_name ON nodetype(md5(name));
ALTER TABLE jprop DROP CONSTRAINT jprop_pkey;
DROP INDEX jprop_node;
CREATE UNIQUE INDEX jprop_key ON jprop(op, node, left(name, 600), md5(name));
CREATE INDEX jprop_node ON jprop(node, op);
ALTER TABLE jreg DROP CONSTRAINT jreg_pkey;
CREATE UNIQUE INDEX jreg_key ON jreg(op, kind, md5(key));
UPDATE meta SET value = '4' WHERE key = 'version';
"#;

/// What [`MIGRATE_3_TO_4`] undoes, for the tests that make version 3
/// repositories (and older, from them) to migrate.
#[cfg(test)]
pub(crate) const DOWNGRADE_4_TO_3: &str = r#"
DROP INDEX prop_key;
ALTER TABLE prop ADD PRIMARY KEY(node, name);
DROP INDEX namespace_prefix;
DROP INDEX namespace_uri;
ALTER TABLE namespace ADD PRIMARY KEY(prefix);
ALTER TABLE namespace ADD UNIQUE(uri);
DROP INDEX nodetype_name;
ALTER TABLE nodetype ADD PRIMARY KEY(name);
DROP INDEX jprop_key;
DROP INDEX jprop_node;
ALTER TABLE jprop ADD PRIMARY KEY(op, node, name);
CREATE INDEX jprop_node ON jprop(node, name);
DROP INDEX jreg_key;
ALTER TABLE jreg ADD PRIMARY KEY(op, kind, key);
UPDATE meta SET value = '3' WHERE key = 'version';
"#;

/// The MD5 digest of `text`.
fn md5_digest(text: &str) -> [u8; 16] {
    use md5::Digest;
    md5::Md5::digest(text.as_bytes()).into()
}

/// The MD5 of `text` as the keys hold it (`md5(text)`, hexadecimal): what the
/// tests compare with the server's.
#[cfg(test)]
pub(crate) fn md5(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut hex = String::with_capacity(32);
    for b in md5_digest(text) {
        hex.push(HEX[usize::from(b >> 4)] as char);
        hex.push(HEX[usize::from(b & 15)] as char);
    }
    hex
}

/// Two different names of `names` with one MD5, if there are.
pub(crate) fn md5_twins<'a>(
    names: impl IntoIterator<Item = &'a str>,
) -> Option<(&'a str, &'a str)> {
    let mut seen: std::collections::HashMap<[u8; 16], &'a str> = std::collections::HashMap::new();
    for n in names {
        match seen.entry(md5_digest(n)) {
            std::collections::hash_map::Entry::Occupied(e) if *e.get() != n => {
                return Some((*e.get(), n))
            }
            std::collections::hash_map::Entry::Occupied(_) => {}
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(n);
            }
        }
    }
    None
}

/// Names whose MD5s are all different, remembered (by a write transaction's
/// cache) so that a batch of names all among them needs no MD5: an install sets
/// the same few property names on node after node, and [`md5_twins`] hashes
/// every name of every batch. A batch with a name not remembered is checked
/// whole by [`md5_twins`]; when it has no twins, its names join, unless one has
/// the MD5 of a remembered name (then it stays out: the names remembered never
/// hold two with one MD5). At most [`DistinctNames::BYTES`] of names are kept.
#[derive(Debug, Default)]
pub(crate) struct DistinctNames {
    names: std::collections::HashSet<Box<str>, foldhash::fast::RandomState>,
    digests: std::collections::HashSet<[u8; 16], foldhash::fast::RandomState>,
    bytes: usize,
}

impl DistinctNames {
    /// The bytes of names kept at most.
    pub(crate) const BYTES: usize = 1 << 16;

    /// Two different names of `names` with one MD5, if there are (as
    /// [`md5_twins`]).
    pub(crate) fn twins<'a, I>(&mut self, names: I) -> Option<(&'a str, &'a str)>
    where
        I: IntoIterator<Item = &'a str>,
        I::IntoIter: Clone,
    {
        let names = names.into_iter();
        if names.clone().all(|n| self.names.contains(n)) {
            return None;
        }
        let found = md5_twins(names.clone());
        if found.is_none() {
            for n in names {
                if self.bytes + n.len() > Self::BYTES || self.names.contains(n) {
                    continue;
                }
                if self.digests.insert(md5_digest(n)) {
                    self.bytes += n.len();
                    self.names.insert(n.into());
                }
            }
        }
        found
    }
}

#[cfg(test)]
pub(crate) mod tests {
    /// A printable pair with one MD5 (Marc Stevens' text collision, HashClash).
    pub(crate) const TWINS: (&str, &str) = (
        "TEXTCOLLBYfGiJUETHQ4hAcKSMd5zYpgqf1YRDhkmxHkhPWptrkoyz28wnI9V0aHeAuaKnak",
        "TEXTCOLLBYfGiJUETHQ4hEcKSMd5zYpgqf1YRDhkmxHkhPWptrkoyz28wnI9V0aHeAuaKnak",
    );

    #[test]
    fn md5_is_the_servers_and_finds_twins() {
        assert_eq!(super::md5(""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(super::md5(TWINS.0), super::md5(TWINS.1));
        assert_ne!(TWINS.0, TWINS.1);
        assert_eq!(
            super::md5_twins(["a", TWINS.0, "a", "b", TWINS.1]),
            Some((TWINS.0, TWINS.1))
        );
        assert_eq!(super::md5_twins(["a", "b", "a"]), None);
    }

    #[test]
    fn remembered_names_answer_as_md5_twins_does() {
        let mut d = super::DistinctNames::default();
        assert_eq!(d.twins(["a", "b", "a"]), None);
        assert_eq!(d.twins(["b", "a"]), None, "remembered");
        assert_eq!(d.twins([TWINS.0, "a"]), None);
        assert_eq!(
            d.twins(["a", TWINS.1, "c"]),
            None,
            "its twin is not in the batch"
        );
        assert_eq!(d.twins([TWINS.0, TWINS.1]), Some((TWINS.0, TWINS.1)));
        assert_eq!(d.twins([TWINS.1, "a", TWINS.0]), Some((TWINS.1, TWINS.0)));
        // The twin that came second was not remembered: a batch with both is
        // still checked.
        assert!(d.names.contains(TWINS.0) && !d.names.contains(TWINS.1));
        assert!(d.names.contains("c"));
        let long = "x".repeat(super::DistinctNames::BYTES);
        assert_eq!(d.twins([long.as_str()]), None);
        assert!(!d.names.contains(long.as_str()), "over the bound");
    }
}
