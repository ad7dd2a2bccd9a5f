//! The operation log on PostgreSQL: `op`, `jnode`, `jprop` and `jreg` beside the
//! content, in the same transaction, with the SQLite backend's row encodings.

use super::{PgDb, PgTxn};
use crate::repository::content::NodeId;
use crate::repository::oplog::{
    NodeBefore, NodeImage, OpLogRead, OpLogTxn, PropImage, RegImage, RegKind,
};
use crate::repository::sqlite::codec;
use crate::repository::{OperationId, OperationMeta, OperationSummary, Result};
use crate::value::Date;
use postgres::Row;

const SUMMARY_COLS: &str =
    "id, time, \"user\", description, install_id, package_id, undoes, nodes, props, regs";

fn kind_name(kind: RegKind) -> &'static str {
    match kind {
        RegKind::Namespace => "namespace",
        RegKind::NodeType => "nodetype",
        RegKind::Workspace => "workspace",
    }
}

fn kind_of(name: &str) -> RegKind {
    match name {
        "namespace" => RegKind::Namespace,
        "workspace" => RegKind::Workspace,
        _ => RegKind::NodeType,
    }
}

impl PgDb {
    fn summary(&self, r: &Row) -> Result<OperationSummary> {
        let id: i64 = self.get(r, 0)?;
        let time: String = self.get(r, 1)?;
        Ok(OperationSummary {
            id: OperationId(id),
            time: Date::parse(&time)
                .ok_or_else(|| self.corrupt(format!("operation {id} has the time '{time}'")))?,
            user: self.get(r, 2)?,
            description: self.get(r, 3)?,
            install_id: self.get(r, 4)?,
            package_id: self.get(r, 5)?,
            undoes: self.get::<Option<i64>>(r, 6)?.map(OperationId),
            nodes_touched: self.get::<i64>(r, 7)? as u64,
            properties_touched: self.get::<i64>(r, 8)? as u64,
            registrations_touched: self.get::<i64>(r, 9)? as u64,
        })
    }

    fn node_image_row(&self, r: &Row) -> Result<NodeImage> {
        let existed: bool = self.get(r, 3)?;
        let before = if existed {
            let mixins: Option<String> = self.get(r, 8)?;
            Some(NodeBefore {
                parent: self.get(r, 4)?,
                name: self.get::<Option<String>>(r, 5)?.unwrap_or_default(),
                position: self.get::<Option<i64>>(r, 6)?.unwrap_or_default(),
                primary_type: self.get::<Option<String>>(r, 7)?.unwrap_or_default(),
                mixins: codec::decode_mixins(&mixins.unwrap_or_default())
                    .map_err(|e| self.corrupt(e))?,
            })
        } else {
            None
        };
        Ok(NodeImage {
            node: self.get(r, 0)?,
            ws: self.get(r, 1)?,
            path: self.get(r, 2)?,
            before,
        })
    }
}

const NODE_IMAGE_COLS: &str = "node, ws, path, existed, parent, name, position, ptype, mixins";

impl OpLogRead for PgDb {
    fn history(&self) -> Result<Vec<OperationSummary>> {
        self.query(&format!("SELECT {SUMMARY_COLS} FROM op ORDER BY id"), &[])?
            .iter()
            .map(|r| self.summary(r))
            .collect()
    }

    fn operation_record(
        &self,
        id: OperationId,
    ) -> Result<Option<(OperationSummary, serde_json::Value)>> {
        let rows = self.query(
            &format!("SELECT {SUMMARY_COLS}, options FROM op WHERE id = $1"),
            &[&id.0],
        )?;
        let Some(r) = rows.first() else {
            return Ok(None);
        };
        let options: String = self.get(r, 10)?;
        let options: serde_json::Value = serde_json::from_str(&options)
            .map_err(|e| self.corrupt(format!("operation {id} has bad options: {e}")))?;
        Ok(Some((self.summary(r)?, options)))
    }

    fn node_images(
        &self,
        op: OperationId,
        after: Option<NodeId>,
        limit: usize,
    ) -> Result<Vec<NodeImage>> {
        self.query(
            &format!(
                "SELECT {NODE_IMAGE_COLS} FROM jnode WHERE op = $1 AND node > $2 ORDER BY node LIMIT $3"
            ),
            &[&op.0, &after.unwrap_or(i64::MIN), &(limit as i64)],
        )?
        .iter()
        .map(|r| self.node_image_row(r))
        .collect()
    }

    fn node_image(&self, op: OperationId, node: NodeId) -> Result<Option<NodeImage>> {
        match self
            .query(
                &format!("SELECT {NODE_IMAGE_COLS} FROM jnode WHERE op = $1 AND node = $2"),
                &[&op.0, &node],
            )?
            .first()
        {
            Some(r) => self.node_image_row(r).map(Some),
            None => Ok(None),
        }
    }

    fn prop_images(
        &self,
        op: OperationId,
        after: Option<(NodeId, String)>,
        limit: usize,
    ) -> Result<Vec<PropImage>> {
        let (node, name) = after.unwrap_or((i64::MIN, String::new()));
        let rows = self.query(
            "SELECT node, name, ws, path, existed, type, multiple, value FROM jprop
             WHERE op = $1 AND (node, left(name, 600)) >= ($2, left($3, 600))
               AND (node, name) > ($2, $3)
             ORDER BY node, left(name, 600), name LIMIT $4",
            &[&op.0, &node, &name, &(limit as i64)],
        )?;
        rows.iter()
            .map(|r| {
                let name: String = self.get(r, 1)?;
                let path: String = self.get(r, 3)?;
                let existed: bool = self.get(r, 4)?;
                let code: Option<i32> = self.get(r, 5)?;
                let multiple: Option<bool> = self.get(r, 6)?;
                let value: Option<String> = self.get(r, 7)?;
                let before = match (existed, code, multiple, value) {
                    (true, Some(c), Some(m), Some(v)) => Some(
                        codec::decode_property(&name, c as i64, m, &v)
                            .map_err(|e| self.corrupt(e))?,
                    ),
                    (true, ..) => {
                        return Err(self.corrupt(format!(
                            "operation {op} journaled property {name} of {path} without its value"
                        )))
                    }
                    _ => None,
                };
                Ok(PropImage {
                    node: self.get(r, 0)?,
                    name,
                    ws: self.get(r, 2)?,
                    path,
                    before,
                })
            })
            .collect()
    }

    fn reg_images(&self, op: OperationId) -> Result<Vec<RegImage>> {
        self.query(
            "SELECT kind, key, existed, value FROM jreg WHERE op = $1 ORDER BY kind, key",
            &[&op.0],
        )?
        .iter()
        .map(|r| {
            let kind: String = self.get(r, 0)?;
            let existed: bool = self.get(r, 2)?;
            let value: Option<String> = self.get(r, 3)?;
            Ok(RegImage {
                kind: kind_of(&kind),
                key: self.get(r, 1)?,
                before: if existed { value } else { None },
            })
        })
        .collect()
    }

    fn ops_touching_node(&self, node: NodeId, after: OperationId) -> Result<Vec<OperationId>> {
        self.query(
            "SELECT op FROM jnode WHERE node = $1 AND op > $2
             UNION SELECT op FROM jprop WHERE node = $1 AND op > $2 ORDER BY 1",
            &[&node, &after.0],
        )?
        .iter()
        .map(|r| self.get(r, 0).map(OperationId))
        .collect()
    }
}

// The log reads of a transaction go to its connection.
crate::repository::oplog::forward_oplog_read!(PgTxn<'_>, |t| t.db);

impl OpLogTxn for PgTxn<'_> {
    fn insert_operation(&mut self, meta: &OperationMeta) -> Result<OperationId> {
        let id = self.draw_operation_id()?;
        let db = self.db;
        let rows = db.query(
            "INSERT INTO op(id, time, \"user\", description, install_id, package_id, options)
             VALUES ($7, $1, $2, $3, $4, $5, $6)
             RETURNING id",
            &[
                &meta.time.to_string(),
                &meta.user,
                &meta.description,
                &meta.install_id,
                &meta.package_id,
                &meta.options.to_string(),
                &id,
            ],
        )?;
        db.get(&rows[0], 0).map(OperationId)
    }

    fn record_node(&mut self, op: OperationId, image: &NodeImage) -> Result<()> {
        let b = image.before.as_ref();
        self.db.execute(
            "INSERT INTO jnode(op, node, ws, path, existed, parent, name, position, ptype, mixins)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
            &[
                &op.0,
                &image.node,
                &image.ws,
                &image.path,
                &b.is_some(),
                &b.and_then(|b| b.parent),
                &b.map(|b| b.name.as_str()),
                &b.map(|b| b.position),
                &b.map(|b| b.primary_type.as_str()),
                &b.map(|b| codec::encode_mixins(&b.mixins)),
            ],
        )?;
        Ok(())
    }

    fn record_prop(&mut self, op: OperationId, image: &PropImage) -> Result<()> {
        let db = self.db;
        let stored = match &image.before {
            Some(p) => Some((
                codec::type_code(p.ptype) as i32,
                p.multiple,
                codec::encode_values(p).ok_or_else(|| {
                    db.corrupt(format!(
                        "property {} of {} cannot be encoded",
                        p.name, image.path
                    ))
                })?,
            )),
            None => None,
        };
        let added = db.execute(
            "INSERT INTO jprop(op, node, name, ws, path, existed, type, multiple, value)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
            &[
                &op.0,
                &image.node,
                &image.name,
                &image.ws,
                &image.path,
                &stored.is_some(),
                &stored.as_ref().map(|s| s.0),
                &stored.as_ref().map(|s| s.1),
                &stored.as_ref().map(|s| s.2.as_str()),
            ],
        )?;
        if added == 0 {
            // The property's first image in this operation is kept; a row of
            // another name with the same key (one MD5) is refused.
            let rows = db.query(
                "SELECT name FROM jprop WHERE op = $1 AND node = $2
                 AND left(name, 600) = left($3, 600) AND md5(name) = md5($3) AND name <> $3",
                &[&op.0, &image.node, &image.name],
            )?;
            if let Some(r) = rows.first() {
                let other: String = db.get(r, 0)?;
                return Err(db.md5_twin_property(image.ws, &image.path, &image.name, &other)?);
            }
        }
        Ok(())
    }

    fn record_reg(&mut self, op: OperationId, image: &RegImage) -> Result<()> {
        if self.scoped_workspace().is_some() {
            // Other workspaces' operations may have registered since this one read
            // the registry: under the registry lock, the image must still hold.
            self.lock_registry()?;
            let db = self.db;
            let now = match image.kind {
                RegKind::Namespace => {
                    db.query("SELECT uri FROM namespace WHERE prefix = $1", &[&image.key])?
                }
                RegKind::NodeType => {
                    db.query("SELECT cnd FROM nodetype WHERE name = $1", &[&image.key])?
                }
                RegKind::Workspace => db.query(
                    "SELECT name FROM workspace WHERE name = $1 AND live",
                    &[&image.key],
                )?,
            };
            let now: Option<String> = match now.first() {
                Some(r) => Some(db.get(r, 0)?),
                None => None,
            };
            if now != image.before {
                return Err(crate::repository::RepositoryError::NotAllowed {
                    workspace: self.scoped_workspace().unwrap_or_default().to_string(),
                    path: "/".to_string(),
                    action: "register",
                    reason: format!(
                        "{} {} was changed by an operation on another workspace meanwhile; run it again",
                        kind_name(image.kind),
                        image.key
                    ),
                });
            }
        }
        let added = self.db.execute(
            "INSERT INTO jreg(op, kind, key, existed, value) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT DO NOTHING",
            &[
                &op.0,
                &kind_name(image.kind),
                &image.key,
                &image.before.is_some(),
                &image.before,
            ],
        )?;
        if added == 0 {
            // The first image of the key in this operation is kept; another key
            // with one MD5 is refused.
            let kind = kind_name(image.kind);
            if let Some(other) = self.db.md5_twin_key(
                "jreg",
                "key",
                &image.key,
                "AND op = $2 AND kind = $3",
                &[&op.0, &kind],
            )? {
                return Err(PgDb::md5_twin_registration(kind, &image.key, &other));
            }
        }
        Ok(())
    }

    fn set_undoes(&mut self, op: OperationId, target: OperationId) -> Result<()> {
        let db = self.db;
        if db.operation_record(target)?.is_none() {
            return Err(db.corrupt(format!("operation {target} does not exist")));
        }
        db.execute(
            "UPDATE op SET undoes = $2 WHERE id = $1",
            &[&op.0, &target.0],
        )?;
        Ok(())
    }

    fn set_counts(
        &mut self,
        op: OperationId,
        nodes: u64,
        properties: u64,
        registrations: u64,
    ) -> Result<()> {
        self.db.execute(
            "UPDATE op SET nodes = $2, props = $3, regs = $4 WHERE id = $1",
            &[
                &op.0,
                &(nodes as i64),
                &(properties as i64),
                &(registrations as i64),
            ],
        )?;
        Ok(())
    }

    fn drop_operations_through(&mut self, through: OperationId) -> Result<()> {
        let db = self.db;
        for sql in [
            "DELETE FROM jnode WHERE op <= $1",
            "DELETE FROM jprop WHERE op <= $1",
            "DELETE FROM jreg WHERE op <= $1",
            "DELETE FROM op WHERE id <= $1",
        ] {
            db.execute(sql, &[&through.0])?;
        }
        db.execute(
            "UPDATE meta SET value = greatest(value::bigint, $1)::text WHERE key = 'pruned_through'",
            &[&through.0],
        )?;
        Ok(())
    }
}
