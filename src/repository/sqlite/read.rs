//! Queries: nodes, children, properties, uuids, registries.

use super::codec;
use super::Db;
use crate::namespace::NamespaceRegistry;
use crate::path::{self, Segment};
use crate::repository::content::StoredProperty;
use crate::repository::{NodeInfo, RepositoryError, Result};
use crate::value::Property;
use rusqlite::{params, OptionalExtension, Row};

/// A `node` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NodeRow {
    pub id: i64,
    pub ws: i64,
    pub parent: Option<i64>,
    pub name: String,
    pub position: i64,
    pub path: String,
    pub ptype: String,
    pub mixins: String,
}

/// The columns [`NodeRow::from_row`] reads, in order, as a literal (for
/// `concat!`: the hot reads build no statement text each time).
macro_rules! node_cols {
    () => {
        "id, ws, parent, name, position, path, ptype, mixins"
    };
}

pub(crate) use node_cols;

/// The columns [`NodeRow::from_row`] reads, in order.
pub(crate) const NODE_COLS: &str = node_cols!();

impl NodeRow {
    pub fn from_row(r: &Row<'_>) -> rusqlite::Result<NodeRow> {
        NodeRow::from_row_at(r, 0)
    }

    /// The row in columns `at..at + 8` ([`NODE_COLS`]).
    fn from_row_at(r: &Row<'_>, at: usize) -> rusqlite::Result<NodeRow> {
        Ok(NodeRow {
            id: r.get(at)?,
            ws: r.get(at + 1)?,
            parent: r.get(at + 2)?,
            name: r.get(at + 3)?,
            position: r.get(at + 4)?,
            path: r.get(at + 5)?,
            ptype: r.get(at + 6)?,
            mixins: r.get(at + 7)?,
        })
    }
}

/// The exclusive bounds of the strict descendants of `p` in path order:
/// `p/ < path < p0` (`0` follows `/`; nothing lies between `p/` and its first
/// descendant). For the root, `/ < path < 0` is every other path.
pub(crate) fn descendant_bounds(p: &str) -> (String, String) {
    if p == "/" {
        ("/".to_string(), "0".to_string())
    } else {
        (format!("{p}/"), format!("{p}0"))
    }
}

/// The SNS index of a stored path's last segment (1 for the root).
pub(crate) fn index_of(db: &Db<'_>, p: &str) -> Result<u32> {
    if p == "/" {
        return Ok(1);
    }
    Segment::parse(path::last_segment(p))
        .map(|s| s.index)
        .map_err(|e| db.corrupt(format!("stored path {p} is invalid: {e}")))
}

/// A row of `name, type, multiple, value` in its usual form (texts, integers);
/// `None` otherwise.
fn stored_row<'r>(r: &'r Row<'_>) -> Option<codec::StoredRow<'r>> {
    use rusqlite::types::ValueRef::{Integer, Text};
    match (r.get_ref(0), r.get_ref(1), r.get_ref(2), r.get_ref(3)) {
        (Ok(Text(name)), Ok(Integer(code)), Ok(Integer(multiple)), Ok(Text(value))) => {
            Some(codec::StoredRow {
                name,
                code,
                multiple: multiple != 0,
                value,
            })
        }
        _ => None,
    }
}

impl<'c> Db<'c> {
    /// The id of workspace `name`.
    pub fn ws_id(&self, name: &str) -> Result<Option<i64>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT id FROM workspace WHERE name = ?1")
            .map_err(|e| self.err(e))?;
        st.query_row([name], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The id of workspace `name`, which must exist.
    pub fn require_ws(&self, name: &str) -> Result<i64> {
        self.ws_id(name)?
            .ok_or_else(|| RepositoryError::WorkspaceNotFound {
                workspace: name.to_string(),
            })
    }

    /// All workspace names, sorted.
    pub fn workspaces(&self) -> Result<Vec<String>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT name FROM workspace ORDER BY name")
            .map_err(|e| self.err(e))?;
        let rows = st.query_map([], |r| r.get(0)).map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<String>>>()
            .map_err(|e| self.err(e))
    }

    /// The node row at a normalized path.
    pub fn row_by_path(&self, ws: i64, p: &str) -> Result<Option<NodeRow>> {
        let mut st = self
            .conn
            .prepare_cached(concat!(
                "SELECT ",
                node_cols!(),
                " FROM node WHERE ws = ?1 AND path = ?2"
            ))
            .map_err(|e| self.err(e))?;
        st.query_row(params![ws, p], NodeRow::from_row)
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The node row with id `id`.
    pub fn row_by_id(&self, id: i64) -> Result<Option<NodeRow>> {
        let mut st = self
            .conn
            .prepare_cached(concat!("SELECT ", node_cols!(), " FROM node WHERE id = ?1"))
            .map_err(|e| self.err(e))?;
        st.query_row([id], NodeRow::from_row)
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The node row at `p` (normalized here) in workspace `workspace`, which must exist.
    pub fn require_row(&self, workspace: &str, ws: i64, p: &str) -> Result<NodeRow> {
        self.row_by_path(ws, p)?
            .ok_or_else(|| RepositoryError::NodeNotFound {
                workspace: workspace.to_string(),
                path: p.to_string(),
            })
    }

    /// Builds the public view of a row.
    pub fn info(&self, row: &NodeRow, uuid: Option<String>) -> Result<NodeInfo> {
        Ok(NodeInfo {
            path: row.path.clone(),
            name: row.name.clone(),
            index: index_of(self, &row.path)?,
            primary_type: row.ptype.clone(),
            mixins: codec::decode_mixins(&row.mixins).map_err(|e| self.corrupt(e))?,
            uuid,
        })
    }

    /// [`crate::repository::StoreRead::node`].
    pub fn node_info(&self, workspace: &str, p: &str) -> Result<Option<NodeInfo>> {
        let p = path::normalized(p)?;
        // One statement for the usual case (the importer asks this for every node);
        // a miss then tells a missing node from a missing workspace.
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT n.id, n.ws, n.parent, n.name, n.position, n.path, n.ptype, n.mixins, u.value
                 FROM node n LEFT JOIN prop u ON u.node = n.id AND u.name = 'jcr:uuid'
                 WHERE n.ws = (SELECT id FROM workspace WHERE name = ?1) AND n.path = ?2",
            )
            .map_err(|e| self.err(e))?;
        let found = st
            .query_row(params![workspace, p], |r| {
                Ok((NodeRow::from_row(r)?, r.get::<_, Option<String>>(8)?))
            })
            .optional()
            .map_err(|e| self.err(e))?;
        match found {
            Some((row, uuid)) => Ok(Some(self.info(&row, uuid)?)),
            None => {
                self.require_ws(workspace)?;
                Ok(None)
            }
        }
    }

    /// [`crate::repository::StoreRead::children`].
    pub fn children(&self, workspace: &str, p: &str) -> Result<Vec<NodeInfo>> {
        let p = path::normalized(p)?;
        let ws = self.require_ws(workspace)?;
        let parent = self.require_row(workspace, ws, &p)?;
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT n.id, n.ws, n.parent, n.name, n.position, n.path, n.ptype, n.mixins, u.value
                 FROM node n LEFT JOIN prop u ON u.node = n.id AND u.name = 'jcr:uuid'
                 WHERE n.parent = ?1 ORDER BY n.position, n.id",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([parent.id], |r| {
                Ok((NodeRow::from_row(r)?, r.get::<_, Option<String>>(8)?))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (row, uuid) = row.map_err(|e| self.err(e))?;
            out.push(self.info(&row, uuid)?);
        }
        Ok(out)
    }

    /// The properties of node `id`, sorted by name.
    pub fn props_of(&self, id: i64) -> Result<Vec<Property>> {
        let mut out = Vec::new();
        self.each_prop_row(id, |r| {
            out.push(self.decode_prop_row(r)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// Calls `f` with each property row of node `id` (name, type, multiple,
    /// value), in name order.
    fn each_prop_row(&self, id: i64, mut f: impl FnMut(&Row<'_>) -> Result<()>) -> Result<()> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT name, type, multiple, value FROM prop WHERE node = ?1 ORDER BY name",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = st.query([id]).map_err(|e| self.err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            f(r)?;
        }
        Ok(())
    }

    /// [`crate::repository::content::ContentRead::properties_against`]: the
    /// properties of node `id` as [`Db::props_of`] reads them, but a row that holds
    /// the property of its name in `known` ([`codec::is_stored_as`]) is answered by
    /// that property's index, its name and text compared where the row has them,
    /// nothing decoded.
    pub fn props_against(&self, id: i64, known: &[Property]) -> Result<Vec<StoredProperty>> {
        let mut out = Vec::new();
        self.each_prop_row(id, |r| {
            let same = match stored_row(r).and_then(|row| row.against(known)) {
                Some(answer) => answer.map_err(|e| self.corrupt(e))?,
                // An unusual row: decoding reports it.
                None => StoredProperty::Read(self.decode_prop_row(r)?),
            };
            // The shortcut must answer what decoding answers: in tests every row
            // it vouches for is decoded and compared.
            #[cfg(debug_assertions)]
            if let StoredProperty::Known(i) = same {
                debug_assert_eq!(self.decode_prop_row(r)?, known[i], "node {id}");
            }
            out.push(same);
            Ok(())
        })?;
        Ok(out)
    }

    /// The node rows at `paths` of workspace `ws`, each with the index of its
    /// path in `paths`: one statement for them all (a JSON array of the paths).
    pub fn rows_by_paths(&self, ws: i64, paths: &[&str]) -> Result<Vec<(usize, NodeRow)>> {
        if paths.is_empty() {
            return Ok(Vec::new());
        }
        let list = serde_json::to_string(paths)
            .map_err(|e| self.corrupt(format!("paths cannot be listed: {e}")))?;
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT j.key, n.id, n.ws, n.parent, n.name, n.position, n.path, n.ptype, n.mixins
                 FROM json_each(?2) AS j CROSS JOIN node AS n ON n.ws = ?1 AND n.path = j.value",
            )
            .map_err(|e| self.err(e))?;
        let it = st
            .query_map(params![ws, list], |r| {
                let slot: i64 = r.get(0)?;
                Ok((slot as usize, NodeRow::from_row_at(r, 1)?))
            })
            .map_err(|e| self.err(e))?;
        it.collect::<rusqlite::Result<_>>().map_err(|e| self.err(e))
    }

    /// The properties of nodes `ids`, one list a node in order, each as
    /// [`Db::props_of`] gives it: one statement for them all (a JSON array of
    /// the ids).
    pub fn props_of_many(&self, ids: &[i64]) -> Result<Vec<Vec<Property>>> {
        let mut out: Vec<Vec<Property>> = vec![Vec::new(); ids.len()];
        if ids.is_empty() {
            return Ok(out);
        }
        let list = serde_json::to_string(ids)
            .map_err(|e| self.corrupt(format!("ids cannot be listed: {e}")))?;
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT j.key, p.name, p.type, p.multiple, p.value
                 FROM json_each(?1) AS j CROSS JOIN prop AS p ON p.node = j.value",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = st.query([list]).map_err(|e| self.err(e))?;
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let slot: i64 = r.get(0).map_err(|e| self.err(e))?;
            let prop = self.decode_prop_at(r, 1)?;
            out.get_mut(slot as usize)
                .ok_or_else(|| {
                    self.corrupt(format!(
                        "a property read for the {slot}th of {} nodes",
                        ids.len()
                    ))
                })?
                .push(prop);
        }
        // In name order, as `props_of` reads them (the primary key gives it
        // already; sorting a sorted list is one pass).
        for props in &mut out {
            props.sort_by(|a, b| a.name.cmp(&b.name));
        }
        Ok(out)
    }

    /// The property of a row whose first four columns are `name, type, multiple,
    /// value`.
    pub(crate) fn decode_prop_row(&self, r: &Row<'_>) -> Result<Property> {
        self.decode_prop_at(r, 0)
    }

    /// Decodes the property in columns `at..at + 4` (name, type, multiple, value).
    fn decode_prop_at(&self, r: &Row<'_>, at: usize) -> Result<Property> {
        // Borrowed from the row: `decode_property` copies it into the property.
        let name = r
            .get_ref(at)
            .map_err(|e| self.err(e))?
            .as_str()
            .map_err(|e| self.corrupt(format!("property name: {e}")))?;
        let code: i64 = r.get(at + 1).map_err(|e| self.err(e))?;
        let multiple: bool = r.get(at + 2).map_err(|e| self.err(e))?;
        // The stored text borrowed from the row, not copied into a `String` first.
        let raw = match r.get_ref(at + 3).map_err(|e| self.err(e))? {
            rusqlite::types::ValueRef::Text(t) => std::str::from_utf8(t)
                .map_err(|e| self.corrupt(format!("property '{name}': {e}")))?,
            // Not text: the error reading it as text gives.
            _ => {
                let raw: String = r.get(at + 3).map_err(|e| self.err(e))?;
                return codec::decode_property(name, code, multiple, &raw)
                    .map_err(|e| self.corrupt(e));
            }
        };
        codec::decode_property(name, code, multiple, raw).map_err(|e| self.corrupt(e))
    }

    /// One property of node `id`.
    pub fn prop_of(&self, id: i64, name: &str) -> Result<Option<Property>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT name, type, multiple, value FROM prop WHERE node = ?1 AND name = ?2",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = st.query(params![id, name]).map_err(|e| self.err(e))?;
        match rows.next().map_err(|e| self.err(e))? {
            Some(r) => Ok(Some(self.decode_prop_row(r)?)),
            None => Ok(None),
        }
    }

    /// [`crate::repository::StoreRead::properties`].
    pub fn properties(&self, workspace: &str, p: &str) -> Result<Vec<Property>> {
        let p = path::normalized(p)?;
        let ws = self.require_ws(workspace)?;
        let row = self.require_row(workspace, ws, &p)?;
        self.props_of(row.id)
    }

    /// [`crate::repository::StoreRead::property`].
    pub fn property(&self, workspace: &str, p: &str, name: &str) -> Result<Option<Property>> {
        let p = path::normalized(p)?;
        let ws = self.require_ws(workspace)?;
        let row = self.require_row(workspace, ws, &p)?;
        self.prop_of(row.id, name)
    }

    /// The (id, path) of the node with `jcr:uuid` `uuid` in workspace `ws`.
    pub fn uuid_owner(&self, ws: i64, uuid: &str) -> Result<Option<(i64, String)>> {
        let mut st = self
            .conn
            .prepare_cached(
                // CROSS JOIN pins the join order: start from the uuid index on prop,
                // not from every node of the workspace (SQLite has no statistics
                // here and otherwise picks the node table, which made imports
                // quadratic).
                "SELECT n.id, n.path FROM prop p CROSS JOIN node n ON n.id = p.node
                 WHERE p.name = 'jcr:uuid' AND p.value = ?1 AND n.ws = ?2 LIMIT 1",
            )
            .map_err(|e| self.err(e))?;
        st.query_row(params![uuid, ws], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(|e| self.err(e))
    }

    /// [`crate::repository::StoreRead::find_by_uuid`].
    pub fn find_by_uuid(&self, workspace: &str, uuid: &str) -> Result<Option<String>> {
        let ws = self.require_ws(workspace)?;
        Ok(self.uuid_owner(ws, uuid)?.map(|(_, p)| p))
    }

    /// [`crate::repository::StoreRead::namespaces`].
    pub fn namespaces(&self) -> Result<NamespaceRegistry> {
        let mut st = self
            .conn
            .prepare_cached("SELECT prefix, uri FROM namespace ORDER BY prefix")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.err(e))?;
        // Built-ins first, in their usual order, then the rest by prefix.
        let mut reg = NamespaceRegistry::new();
        for row in rows {
            let (p, u) = row.map_err(|e| self.err(e))?;
            if reg.uri(&p) != Some(u.as_str()) {
                reg.set(&p, &u);
            }
        }
        Ok(reg)
    }

    /// [`crate::repository::StoreRead::node_types`].
    pub fn node_types(&self) -> Result<Vec<(String, String)>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT name, cnd FROM nodetype ORDER BY name")
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))
    }

    /// [`crate::repository::StoreRead::node_type`].
    pub fn node_type(&self, name: &str) -> Result<Option<String>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT cnd FROM nodetype WHERE name = ?1")
            .map_err(|e| self.err(e))?;
        st.query_row([name], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The workspace name of id `ws`.
    pub fn ws_name(&self, ws: i64) -> Result<String> {
        let mut st = self
            .conn
            .prepare_cached("SELECT name FROM workspace WHERE id = ?1")
            .map_err(|e| self.err(e))?;
        if let Some(name) = st
            .query_row([ws], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))?
        {
            return Ok(name);
        }
        // A deleted workspace: its deletion journaled its name with its id.
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT key FROM jreg WHERE kind = 'workspace' AND value = ?1
                 ORDER BY op DESC LIMIT 1",
            )
            .map_err(|e| self.err(e))?;
        st.query_row([ws.to_string()], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))?
            .ok_or_else(|| self.corrupt(format!("workspace id {ws} is unknown")))
    }
}

#[cfg(test)]
mod tests {
    use crate::node::Node;
    use crate::repository::content::StoredProperty::{Known, Read};
    use crate::repository::sqlite::SqliteStore;
    use crate::repository::{AddOptions, Store, DEFAULT_WORKSPACE as WS};
    use crate::value::{Property, PropertyType, Value};

    /// A stored property equal to the caller's comes back by index, undecoded;
    /// any other, decoded.
    #[test]
    fn equal_properties_are_answered_by_index() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::init(&dir.path().join("repo")).unwrap();
        let mut t = store.begin("against").unwrap();
        let mut n = Node::new("n", "nt:unstructured");
        let strings = |l: &[&str]| l.iter().map(|s| Value::String(s.to_string())).collect();
        n.set(Property::string("a", "x"));
        n.set(Property::single("b", Value::Long(3)));
        n.set(Property::multi(
            "c",
            PropertyType::String,
            strings(&["p", "q"]),
        ));
        n.set(Property::single("d", Value::Double(0.5)));
        t.add_node(WS, "/", &n, &AddOptions::append()).unwrap();
        let known = [
            Property::single("d", Value::Double(0.25)),
            Property::multi("c", PropertyType::String, strings(&["p", "q"])),
            Property::string("b", "3"),
            Property::string("a", "x"),
        ];
        let got = t.properties_against(WS, "/n", &known).unwrap();
        let stored = t.properties(WS, "/n").unwrap();
        assert_eq!(
            got,
            [
                Known(3),
                Read(stored[1].clone()),
                Known(1),
                Read(stored[3].clone())
            ]
        );
    }
}
