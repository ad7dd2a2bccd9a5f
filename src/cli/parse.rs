//! Parsing the command line while building only the command being run (issue 16).
//!
//! clap's derive builds every command's arguments before it parses: for `jcrpack`'s
//! 25 commands (and their subcommands) that was 870 thousand instructions and 130
//! page faults of fresh heap on every start (measured on a 1 % extract at 10k nodes:
//! a quarter of its CPU time). [`parse`] first builds the top level with its options and the one command
//! the first word names ([`one_command`]) and parses with that. Anything that does
//! not parse that way (no or an unknown command, `help`, `--help`, `--version`, a
//! usage error) is parsed again with the whole command tree, so that every message,
//! help text and exit code is the one the whole tree gives. A command line that
//! parses with one command parses to the same [`Cli`] with all of them: the command's
//! arguments are built by the same derive code, and the other commands take no part
//! in parsing it (no inferred names, no arguments that conflict with commands).

use super::{Cli, GlobalArgs};
use clap::{Args, FromArgMatches, Parser};
use std::ffi::OsString;

/// Parses `args` (the program name first) into a [`Cli`]; the error is the one
/// clap's whole command tree gives (help and version included).
pub fn parse(args: Vec<OsString>) -> Result<Cli, clap::Error> {
    if let Some(cli) = parse_one(&args) {
        return Ok(cli);
    }
    Cli::try_parse_from(args)
}

/// `args` parsed with the top level and the command they name only; `None` when that
/// does not parse (the whole tree then decides).
fn parse_one(args: &[OsString]) -> Option<Cli> {
    let name = command_name(args)?;
    let command = top().subcommand(one_command(name)?);
    let mut matches = command.try_get_matches_from(args).ok()?;
    Cli::from_arg_matches_mut(&mut matches).ok()
}

/// The first word after the program name and the global flags: the command's name.
/// `None` at `--` or when there is none.
fn command_name(args: &[OsString]) -> Option<&str> {
    // The global options are flags (no values), so the first word that is not an
    // option names the command.
    let word = args
        .iter()
        .skip(1)
        .map(|a| a.to_str())
        .find(|a| a.is_none_or(|a| a == "--" || !a.starts_with('-')))??;
    (word != "--").then_some(word)
}

/// The top level of [`Cli`] without its commands: its name, version and options.
fn top() -> clap::Command {
    let top = clap::Command::new("jcrpack")
        .version(env!("CARGO_PKG_VERSION"))
        .propagate_version(true);
    GlobalArgs::augment_args(top)
}

/// The command `name` as [`super::Command`]'s derive builds it (its help text aside);
/// `None` for a name that is not a command.
fn one_command(name: &str) -> Option<clap::Command> {
    use super::*;
    let (name, augment): (&'static str, fn(clap::Command) -> clap::Command) = match name {
        "filter" => ("filter", filter::FilterArgs::augment_args),
        "init" => ("init", repo::InitArgs::augment_args),
        "import" => ("import", import::ImportArgs::augment_args),
        "load" => ("load", load::LoadArgs::augment_args),
        "rm" => ("rm", rm::RmArgs::augment_args),
        "dump" => ("dump", dump::DumpArgs::augment_args),
        "diff" => ("diff", diff::DiffArgs::augment_args),
        "export" => ("export", export::ExportArgs::augment_args),
        "history" => ("history", history::HistoryArgs::augment_args),
        "undo" => ("undo", history::UndoArgs::augment_args),
        "build" => ("build", build::BuildArgs::augment_args),
        "unpack" => ("unpack", unpack::UnpackArgs::augment_args),
        "validate" => ("validate", validate::ValidateArgs::augment_args),
        "info" => ("info", info::InfoArgs::augment_args),
        "ls" => ("ls", ls::LsArgs::augment_args),
        "extract" => ("extract", extract::ExtractArgs::augment_args),
        "gc" => ("gc", gc::GcArgs::augment_args),
        "bootstrap" => ("bootstrap", bootstrap::BootstrapArgs::augment_args),
        "lm" => ("lm", lm::LmArgs::augment_args),
        "workspace" => ("workspace", workspace::WorkspaceArgs::augment_args),
        "backup" => ("backup", backup::BackupArgs::augment_args),
        "restore" => ("restore", restore::RestoreArgs::augment_args),
        "generate" => ("generate", generate::GenerateArgs::augment_args),
        "serve" => ("serve", serve::ServeArgs::augment_args),
        "user" => ("user", user::UserArgs::augment_args),
        _ => return None,
    };
    Some(augment(clap::Command::new(name)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn args(line: &[&str]) -> Vec<OsString> {
        std::iter::once("jcrpack")
            .chain(line.iter().copied())
            .map(OsString::from)
            .collect()
    }

    /// What a command is for parsing: its arguments, groups and subcommands, built
    /// as parsing builds them; help text, display order and visibility left out.
    fn shape(c: &clap::Command) -> String {
        let mut c = c.clone();
        c.build();
        let mut s = format!(
            "{} {:?} {:?}",
            c.get_name(),
            c.get_arguments().collect::<Vec<_>>(),
            c.get_groups().collect::<Vec<_>>()
        );
        for sub in c.get_subcommands() {
            s.push_str(&shape(&sub.clone().about(None).long_about(None)));
        }
        s
    }

    #[test]
    fn every_command_is_built_as_the_whole_tree_builds_it() {
        let full = Cli::command();
        let mut names = Vec::new();
        for sub in full.get_subcommands() {
            let name = sub.get_name();
            names.push(name.to_string());
            let one = one_command(name).unwrap_or_else(|| panic!("{name} is not in one_command"));
            let in_top = top().subcommand(one);
            let one = in_top.find_subcommand(name).unwrap();
            // Propagated global options are compared too: both are built in a top level.
            let mut full_top = full.clone();
            full_top.build();
            let mut in_top = in_top.clone();
            in_top.build();
            assert_eq!(
                shape(full_top.find_subcommand(name).unwrap()),
                shape(in_top.find_subcommand(name).unwrap()),
                "{name}"
            );
            assert_eq!(one.get_name(), name);
        }
        assert!(names.len() >= 25, "{names:?}");
        assert!(one_command("help").is_none());
    }

    #[test]
    fn the_top_level_is_the_whole_trees() {
        let full = Cli::command();
        let top = top();
        assert_eq!(full.get_name(), top.get_name());
        assert_eq!(full.get_version(), top.get_version());
        assert!(top.is_propagate_version_set());
        assert_eq!(
            format!("{:?}", full.get_arguments().collect::<Vec<_>>()),
            format!("{:?}", top.get_arguments().collect::<Vec<_>>())
        );
    }

    #[test]
    fn a_command_line_parses_as_with_the_whole_tree() {
        let lines: &[&[&str]] = &[
            &[
                "-q",
                "extract",
                "p.zip",
                "--root",
                "/content/a",
                "-o",
                "o.zip",
            ],
            &[
                "extract", "p.zip", "--root", "/a", "/b", "-o", "o.zip", "-vv",
            ],
            &["-v", "-q", "import", "p.zip", "--repo", "r"],
            &["-vq", "backup", "list", "--catalogue", "c", "--json"],
            &["--quiet", "--verbose", "dump", "--repo", "r", "/"],
            &["filter", "explain", "f.xml", "/content"],
            &["history", "--repo", "r"],
            &["undo", "--repo", "r"],
            &["generate", "--nodes", "10", "-o", "d"],
        ];
        for line in lines {
            let full = Cli::try_parse_from(args(line)).map(|c| format!("{c:?}"));
            let one = parse_one(&args(line)).map(|c| format!("{c:?}"));
            match full {
                Ok(full) => assert_eq!(Some(full), one, "{line:?}"),
                Err(e) => panic!("{line:?} does not parse: {e}"),
            }
        }
    }

    #[test]
    fn what_does_not_parse_with_one_command_is_left_to_the_whole_tree() {
        let lines: &[&[&str]] = &[
            &[],
            &["--help"],
            &["-V"],
            &["help"],
            &["help", "extract"],
            &["extract", "--help"],
            &["extract", "--version"],
            &["extract", "p.zip"],
            &["extract", "p.zip", "--root", "/a", "-o", "o.zip", "--nope"],
            &["nope"],
            &["--", "extract"],
            &["-x", "extract"],
        ];
        for line in lines {
            assert!(parse_one(&args(line)).is_none(), "{line:?}");
            let whole = Cli::try_parse_from(args(line)).map(|c| format!("{c:?}"));
            let parsed = parse(args(line)).map(|c| format!("{c:?}"));
            match (whole, parsed) {
                (Ok(a), Ok(b)) => assert_eq!(a, b),
                (Err(a), Err(b)) => {
                    assert_eq!(a.kind(), b.kind(), "{line:?}");
                    assert_eq!(a.to_string(), b.to_string(), "{line:?}");
                }
                (a, b) => panic!("{line:?}: {a:?} against {b:?}"),
            }
        }
    }

    #[test]
    fn the_command_name_is_the_first_word_after_the_flags() {
        assert_eq!(command_name(&args(&["-q", "-vv", "ls", "x"])), Some("ls"));
        assert_eq!(command_name(&args(&["ls", "-q"])), Some("ls"));
        assert_eq!(command_name(&args(&["--", "ls"])), None);
        assert_eq!(command_name(&args(&["-q"])), None);
        assert_eq!(command_name(&args(&[])), None);
    }
}
