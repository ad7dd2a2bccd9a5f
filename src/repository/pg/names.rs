//! Names keyed by their MD5 (see "Long paths and identifiers" in [`super::schema`]):
//! the error for two different names with one hash, which are refused rather than
//! stored over each other.

use super::PgDb;
use crate::repository::{RepositoryError, Result};

impl PgDb {
    /// The error for property `name` of node `path` in workspace `ws`, which has the
    /// MD5 of the node's property `other`.
    pub(crate) fn md5_twin_property(
        &self,
        ws: i64,
        path: &str,
        name: &str,
        other: &str,
    ) -> Result<RepositoryError> {
        let workspace = match self
            .query("SELECT name FROM workspace WHERE id = $1", &[&ws])?
            .first()
        {
            Some(r) => self.get(r, 0)?,
            None => String::new(),
        };
        Ok(RepositoryError::InvalidProperty {
            workspace,
            path: path.to_string(),
            name: name.to_string(),
            reason: format!(
                "its name has the MD5 hash of the node's property '{other}', and a PostgreSQL \
                 repository keys a node's properties by that hash"
            ),
        })
    }

    /// The stored property of node `id` other than `name` with its MD5, if any.
    pub(crate) fn md5_twin_of(&self, id: i64, name: &str) -> Result<Option<String>> {
        match self
            .query(
                "SELECT name FROM prop WHERE node = $1 AND md5(name) = md5($2) AND name <> $2",
                &[&id, &name],
            )?
            .first()
        {
            Some(r) => self.get(r, 0).map(Some),
            None => Ok(None),
        }
    }

    /// The error for registering `key` of registry `kind` ("namespace", "node
    /// type"), which has the MD5 of the registered `other`.
    pub(crate) fn md5_twin_registration(kind: &str, key: &str, other: &str) -> RepositoryError {
        RepositoryError::NotAllowed {
            workspace: String::new(),
            path: key.to_string(),
            action: "register",
            reason: format!(
                "the {kind} name has the MD5 hash of the registered {kind} '{other}', and a \
                 PostgreSQL repository keys its registries by that hash"
            ),
        }
    }

    /// The key of registry table `table`'s column `column` other than `key` with
    /// its MD5, if any (`extra` narrows the rows, with `$2` and on).
    pub(crate) fn md5_twin_key(
        &self,
        table: &str,
        column: &str,
        key: &str,
        extra: &str,
        args: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Option<String>> {
        let mut all: Vec<&(dyn postgres::types::ToSql + Sync)> = vec![&key];
        all.extend_from_slice(args);
        match self
            .query(
                &format!(
                    "SELECT {column} FROM {table} WHERE md5({column}) = md5($1) AND {column} <> $1 {extra}"
                ),
                &all,
            )?
            .first()
        {
            Some(r) => self.get(r, 0).map(Some),
            None => Ok(None),
        }
    }
}
