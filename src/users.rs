//! The users of `jcrpack serve`, kept in the repository as Oak keeps them: a
//! `rep:User` node below `/home/users` in the default workspace, with
//! `rep:authorizableId`, `rep:principalName`, the `jcr:uuid` Oak derives from the id
//! (so a user is found by its id in one indexed lookup, wherever a package put it)
//! and `rep:password`, here an argon2id hash in PHC form (`$argon2id$v=19$...`).
//!
//! Why nodes and not a table of their own: every backend (SQLite, in-memory,
//! PostgreSQL) stores them without a schema change, they are in every backup and
//! restore with the content, `history` shows who added or removed a user, and a
//! package holding Oak users (`/home/users/...`) lands in the same place. A user
//! whose `rep:password` is not an argon2 hash (Oak's `{SHA-256}...` from a package)
//! cannot log in to `serve`: its password must be set again with `jcrpack user add`.
//!
//! Adding and removing are recorded operations (`history`, `undo`).

use crate::events::Actor;
use crate::import::authorizable_uuid;
use crate::node::Node;
use crate::repository::{
    AddOptions, OperationMeta, RepositoryError, Store, StoreRead, DEFAULT_WORKSPACE,
};
use crate::value::{Property, Value};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

/// Where users are kept, in the default workspace.
pub const USERS_ROOT: &str = "/home/users";

/// Why a user command failed.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    /// A user name `serve` does not accept.
    #[error("'{0}' is not a valid user name: use 1 to 64 letters, digits, '.', '_', '-' or '@', not starting with '.'")]
    InvalidName(String),
    /// An empty password.
    #[error("the password of '{0}' is empty")]
    EmptyPassword(String),
    /// No such user.
    #[error("no user '{0}'")]
    NotFound(String),
    /// Hashing failed (argon2's parameters or salt).
    #[error("cannot hash the password: {0}")]
    Hash(String),
    /// The repository failed.
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// One user as `user list` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UserInfo {
    /// The id (`rep:authorizableId`) a client logs in with.
    pub name: String,
    /// The node that holds it.
    pub path: String,
    /// Whether its password is an argon2 hash `serve` can check.
    #[serde(rename = "canLogIn")]
    pub can_log_in: bool,
}

/// Checks a user name: what `serve` accepts in HTTP Basic (no `:`) and in a node name.
pub fn check_name(name: &str) -> Result<(), UserError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(UserError::InvalidName(name.to_string()))
    }
}

/// The argon2id hash of `password` with `salt` (16 bytes the caller draws at random;
/// the library reads no randomness so that tests are deterministic).
pub fn hash_password(password: &str, salt: &[u8; 16]) -> Result<String, UserError> {
    let salt = SaltString::encode_b64(salt).map_err(|e| UserError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| UserError::Hash(e.to_string()))
}

/// Whether `password` matches the PHC `hash` (`false` for a hash that is not argon2).
pub fn verify_password(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(h) if h.algorithm.as_str().starts_with("argon2") => Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok(),
        _ => false,
    }
}

/// The node path of user `name`, found by Oak's identifier, or `None`.
pub fn find(store: &dyn StoreRead, name: &str) -> Result<Option<String>, UserError> {
    if !store.workspaces()?.iter().any(|w| w == DEFAULT_WORKSPACE) {
        return Ok(None);
    }
    let path = store.find_by_uuid(DEFAULT_WORKSPACE, &authorizable_uuid(name))?;
    match path {
        Some(p) if is_user(store, &p)? => Ok(Some(p)),
        _ => Ok(None),
    }
}

fn is_user(store: &dyn StoreRead, path: &str) -> Result<bool, UserError> {
    Ok(store
        .node(DEFAULT_WORKSPACE, path)?
        .is_some_and(|n| matches!(n.primary_type.as_str(), "rep:User" | "rep:SystemUser")))
}

/// The stored password hash of user `name`, or `None` when there is no such user or
/// it has no password.
pub fn password_hash(store: &dyn StoreRead, name: &str) -> Result<Option<String>, UserError> {
    let Some(path) = find(store, name)? else {
        return Ok(None);
    };
    Ok(store
        .property(DEFAULT_WORKSPACE, &path, "rep:password")?
        .and_then(|p| p.value().and_then(|v| v.as_str().map(str::to_string))))
}

/// Adds user `name` with the hash of `password`, or sets the password of the
/// existing user, in one recorded operation by `actor`. Returns whether it was new.
pub fn add(
    store: &mut dyn Store,
    name: &str,
    password: &str,
    salt: &[u8; 16],
    actor: &Actor,
) -> Result<bool, UserError> {
    check_name(name)?;
    if password.is_empty() {
        return Err(UserError::EmptyPassword(name.to_string()));
    }
    let hash = hash_password(password, salt)?;
    let existing = find(store, name)?;
    let mut txn = store.begin_operation(meta(
        format!(
            "user {} {name}",
            if existing.is_some() {
                "password"
            } else {
                "add"
            }
        ),
        actor,
    ))?;
    let password = Property::string("rep:password", hash);
    let new = match existing {
        Some(path) => {
            txn.set_property(DEFAULT_WORKSPACE, &path, &password)?;
            false
        }
        None => {
            for (parent, name) in [("/", "home"), ("/home", "users")] {
                let path = crate::path::join(parent, name);
                if txn.node(DEFAULT_WORKSPACE, &path)?.is_none() {
                    txn.add_node(
                        DEFAULT_WORKSPACE,
                        parent,
                        &Node::new(name, "rep:AuthorizableFolder"),
                        &AddOptions::append(),
                    )?;
                }
            }
            let user = Node::new(name, "rep:User")
                .with(Property::string("jcr:uuid", authorizable_uuid(name)))
                .with(Property::string("rep:authorizableId", name))
                .with(Property::string("rep:principalName", name))
                .with(password)
                .with(Property::single("jcr:created", Value::Date(actor.time)))
                .with(Property::string("jcr:createdBy", actor.user.clone()));
            txn.add_node(DEFAULT_WORKSPACE, USERS_ROOT, &user, &AddOptions::append())?;
            true
        }
    };
    txn.commit()?;
    Ok(new)
}

/// Removes user `name` in one recorded operation by `actor`.
pub fn remove(store: &mut dyn Store, name: &str, actor: &Actor) -> Result<(), UserError> {
    let path = find(store, name)?.ok_or_else(|| UserError::NotFound(name.to_string()))?;
    let mut txn = store.begin_operation(meta(format!("user rm {name}"), actor))?;
    txn.remove_node(DEFAULT_WORKSPACE, &path)?;
    txn.commit()?;
    Ok(())
}

/// Every user below [`USERS_ROOT`] (at any depth, as Oak's hashed folders put them),
/// sorted by name.
pub fn list(store: &dyn StoreRead) -> Result<Vec<UserInfo>, UserError> {
    let mut users = Vec::new();
    if !store.workspaces()?.iter().any(|w| w == DEFAULT_WORKSPACE)
        || store.node(DEFAULT_WORKSPACE, USERS_ROOT)?.is_none()
    {
        return Ok(users);
    }
    let mut paths = Vec::new();
    for entry in store.walk(DEFAULT_WORKSPACE, USERS_ROOT)? {
        let entry = entry?;
        if matches!(
            entry.node.primary_type.as_str(),
            "rep:User" | "rep:SystemUser"
        ) {
            paths.push(entry.path.clone());
        }
    }
    for path in paths {
        let text = |n: &str| -> Result<Option<String>, UserError> {
            Ok(store
                .property(DEFAULT_WORKSPACE, &path, n)?
                .and_then(|p| p.value().and_then(|v| v.as_str().map(str::to_string))))
        };
        let name =
            text("rep:authorizableId")?.unwrap_or_else(|| crate::path::name(&path).to_string());
        let can_log_in = text("rep:password")?.is_some_and(|h| h.starts_with("$argon2"));
        users.push(UserInfo {
            name,
            path,
            can_log_in,
        });
    }
    users.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(users)
}

/// Whether any user can log in (`serve` refuses a non-loopback address otherwise).
pub fn any_can_log_in(store: &dyn StoreRead) -> Result<bool, UserError> {
    Ok(list(store)?.iter().any(|u| u.can_log_in))
}

fn meta(description: String, actor: &Actor) -> OperationMeta {
    OperationMeta {
        description,
        install_id: None,
        package_id: None,
        time: actor.time,
        user: actor.user.clone(),
        options: serde_json::json!({}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repository::memory::MemoryStore;
    use crate::value::Date;

    fn actor() -> Actor {
        Actor {
            user: "tester".into(),
            time: Date::from_epoch_millis(1_700_000_000_000),
        }
    }

    #[test]
    fn add_find_verify_list_remove() {
        let mut store = MemoryStore::in_memory("mem").unwrap();
        assert!(list(&store).unwrap().is_empty());
        assert!(add(&mut store, "alice", "s3cret", &[7; 16], &actor()).unwrap());
        let hash = password_hash(&store, "alice").unwrap().unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("s3cret", &hash));
        assert!(!verify_password("wrong", &hash));
        assert_eq!(
            find(&store, "ALICE").unwrap().as_deref(),
            Some("/home/users/alice")
        );
        // Setting the password again keeps one user.
        assert!(!add(&mut store, "alice", "other", &[8; 16], &actor()).unwrap());
        let users = list(&store).unwrap();
        assert_eq!(users.len(), 1);
        assert!(users[0].can_log_in);
        assert!(any_can_log_in(&store).unwrap());
        remove(&mut store, "alice", &actor()).unwrap();
        assert!(find(&store, "alice").unwrap().is_none());
        assert!(matches!(
            remove(&mut store, "alice", &actor()),
            Err(UserError::NotFound(_))
        ));
    }

    #[test]
    fn names_and_passwords_are_checked() {
        let mut store = MemoryStore::in_memory("mem").unwrap();
        for bad in ["", "a:b", ".x", "a/b", "a b"] {
            assert!(matches!(
                add(&mut store, bad, "p", &[1; 16], &actor()),
                Err(UserError::InvalidName(_))
            ));
        }
        assert!(matches!(
            add(&mut store, "bob", "", &[1; 16], &actor()),
            Err(UserError::EmptyPassword(_))
        ));
    }

    #[test]
    fn a_non_argon2_hash_never_verifies() {
        assert!(!verify_password("admin", "{SHA-256}abc-1000-def"));
        assert!(!verify_password("admin", ""));
    }
}
