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
//! # Versions
//!
//! Version 1 indexed the raw path and `jcr:uuid` and had no `aggregate` table;
//! [`MIGRATE_1_TO_2`] brings such a repository to version 2 when it is opened.
//! Versions 1 and 2 took node ids from `meta.next_node_id` and operation ids as
//! `max(id) + 1` under the one write lock; version 3 draws them from the
//! sequences `node_id` (a block of [`super::NODE_ID_BLOCK`] ids a transaction)
//! and `op_id`, so that transactions of different workspaces can run at once (see
//! the module doc of [`super`]); [`MIGRATE_2_TO_3`] starts them after the last
//! ids.

/// The value of `meta.format`, which marks a schema as a jcrpack repository.
pub const FORMAT: &str = "jcrpack-repository";

/// The schema version this code reads and writes.
pub const VERSION: &str = "3";

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
  value text NOT NULL,
  PRIMARY KEY(node, name)
);
CREATE INDEX prop_uuid ON prop(md5(value)) WHERE name = 'jcr:uuid';
CREATE TABLE namespace(prefix text COLLATE "C" PRIMARY KEY, uri text NOT NULL UNIQUE);
CREATE TABLE nodetype(name text COLLATE "C" PRIMARY KEY, cnd text NOT NULL);
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
  value text,
  PRIMARY KEY(op, node, name)
);
CREATE INDEX jprop_node ON jprop(node, name);
CREATE TABLE jreg(
  op bigint NOT NULL,
  kind text COLLATE "C" NOT NULL,
  key text COLLATE "C" NOT NULL,
  existed boolean NOT NULL,
  value text,
  PRIMARY KEY(op, kind, key)
);
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
