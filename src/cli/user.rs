//! `jcrpack user add|list|rm --repo REPO`: the users of `jcrpack serve`.

use super::repo::{LockArgs, RepoArgs};
use super::{CliError, CliResult};
use crate::users;
use clap::{Args, Subcommand};
use std::io::BufRead;

/// `user` and its subcommands.
#[derive(Debug, Args)]
pub struct UserArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: UserCommand,
}

/// The `user` subcommands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user (or set the password of an existing one); the password is asked for
    /// on the terminal, or read from the first line of stdin with --password-stdin.
    Add(AddArgs),
    /// List the users.
    List(ListArgs),
    /// Remove a user.
    Rm(RmArgs),
}

/// `user add NAME`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// The user's id (letters, digits, '.', '_', '-', '@').
    pub name: String,
    #[command(flatten)]
    pub repo: RepoArgs,
    #[command(flatten)]
    pub lock: LockArgs,
    /// Read the password from the first line of stdin (for scripts).
    #[arg(long)]
    pub password_stdin: bool,
}

/// `user list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub repo: RepoArgs,
    /// Print JSON (schema: schemas/user-list.schema.json).
    #[arg(long)]
    pub json: bool,
}

/// `user rm NAME`.
#[derive(Debug, Args)]
pub struct RmArgs {
    /// The user's id.
    pub name: String,
    #[command(flatten)]
    pub repo: RepoArgs,
    #[command(flatten)]
    pub lock: LockArgs,
}

/// Runs `user`.
pub fn run(a: UserArgs) -> CliResult<i32> {
    match a.command {
        UserCommand::Add(a) => add(a),
        UserCommand::List(a) => list(a),
        UserCommand::Rm(a) => rm(a),
    }
}

fn add(a: AddArgs) -> CliResult<i32> {
    users::check_name(&a.name).map_err(|e| CliError::usage(e.to_string()))?;
    let password = if a.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| CliError::context("reading the password from stdin", e))?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else {
        let first =
            rpassword::prompt_password(format!("password for {}: ", a.name)).map_err(|e| {
                CliError::context("reading the password from the terminal", e)
                    .hint("in a script, pipe it in with --password-stdin")
            })?;
        let again = rpassword::prompt_password("again: ")
            .map_err(|e| CliError::context("reading the password from the terminal", e))?;
        if first != again {
            return Err(CliError::failure(
                "the two passwords differ; nothing was changed",
            ));
        }
        first
    };
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt)
        .map_err(|e| CliError::internal(format!("cannot draw a random salt: {e}")))?;
    let mut store = a.repo.open_locking(&a.lock)?;
    let actor = super::repo::recorded_actor()?;
    let new = users::add(store.as_mut(), &a.name, &password, &salt, &actor)?;
    status!(
        "{} user {}",
        if new { "added" } else { "set the password of" },
        a.name
    );
    Ok(0)
}

fn list(a: ListArgs) -> CliResult<i32> {
    let store = a.repo.open()?;
    let list = users::list(store.as_ref())?;
    if a.json {
        super::print_json(&serde_json::json!({ "users": list }))?;
    } else {
        use std::io::Write;
        let mut out = super::out::stdout();
        for u in &list {
            let note = if u.can_log_in {
                ""
            } else {
                "  (no argon2 password: cannot log in to serve)"
            };
            writeln!(out, "{}\t{}{}", u.name, u.path, note)?;
        }
        out.flush()?;
    }
    Ok(0)
}

fn rm(a: RmArgs) -> CliResult<i32> {
    let mut store = a.repo.open_locking(&a.lock)?;
    let actor = super::repo::recorded_actor()?;
    users::remove(store.as_mut(), &a.name, &actor)?;
    status!("removed user {}", a.name);
    Ok(0)
}
