//! One rule for exit codes over every command that reads an input file: a package,
//! folder or file that is missing is a failure (exit 1, naming it); a command line
//! clap cannot parse is a usage error (exit 2).

mod common;

use common::{init, jcrpack};

#[test]
fn a_missing_input_exits_1_from_every_command_and_a_usage_error_2() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = init(tmp.path()).display().to_string();
    let t = tmp.path().display().to_string();
    let pkg = format!("{t}/missing.zip");
    let dir = format!("{t}/missing-folder");
    let xml = format!("{t}/missing.xml");
    let out = format!("{t}/out.zip");
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["import".into(), pkg.clone(), "--repo".into(), repo.clone()],
            &pkg,
        ),
        (vec!["validate".into(), pkg.clone()], &pkg),
        (vec!["validate".into(), dir.clone()], &dir),
        (
            vec!["diff".into(), pkg.clone(), "--repo".into(), repo.clone()],
            &pkg,
        ),
        (vec!["info".into(), pkg.clone()], &pkg),
        (vec!["ls".into(), pkg.clone()], &pkg),
        (vec!["dump".into(), pkg.clone()], &pkg),
        (
            vec![
                "extract".into(),
                pkg.clone(),
                "--root".into(),
                "/a".into(),
                "-o".into(),
                out.clone(),
            ],
            &pkg,
        ),
        (
            vec!["unpack".into(), pkg.clone(), format!("{t}/unpacked")],
            &pkg,
        ),
        (
            vec![
                "restore".into(),
                pkg.clone(),
                "--repo".into(),
                repo.clone(),
                "--yes".into(),
            ],
            &pkg,
        ),
        (
            vec!["build".into(), dir.clone(), "-o".into(), out.clone()],
            &dir,
        ),
        (
            vec!["load".into(), xml.clone(), "--repo".into(), repo.clone()],
            &xml,
        ),
        (
            vec!["filter".into(), "explain".into(), xml.clone(), "/a".into()],
            &xml,
        ),
        (
            vec![
                "export".into(),
                "--repo".into(),
                repo.clone(),
                "--filter".into(),
                xml.clone(),
                "-o".into(),
                out.clone(),
            ],
            &xml,
        ),
        (vec!["lm".into(), "validate".into(), dir.clone()], &dir),
        (
            vec![
                "lm".into(),
                "validate".into(),
                t.clone(),
                "--externals".into(),
                xml.clone(),
            ],
            &xml,
        ),
        (
            vec![
                "lm".into(),
                "pack".into(),
                dir.clone(),
                "-o".into(),
                out.clone(),
            ],
            &dir,
        ),
        (
            vec!["lm".into(), "diff".into(), dir.clone(), t.clone()],
            &dir,
        ),
        (
            vec![
                "lm".into(),
                "check-content".into(),
                pkg.clone(),
                "--repo".into(),
                repo.clone(),
            ],
            &pkg,
        ),
    ];
    for (args, missing) in &cases {
        let run = jcrpack().args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains(*missing),
            "{args:?} names {missing}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        // The same command with an option clap does not know: a usage error.
        let mut wrong = args.clone();
        wrong.push("--no-such-option".into());
        let run = jcrpack().args(&wrong).output().unwrap();
        assert_eq!(run.status.code(), Some(2), "{wrong:?}: {run:?}");
    }
}

/// build.rs links the unwinder statically on Linux with glibc: the binary does not
/// name `libgcc_s.so.1`, whose loading and constructor (12 `cpuid` instructions,
/// each trapped by a virtual machine) cost every process start (issue 16). Without
/// build.rs the dynamic section names it.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn the_binary_does_not_load_libgcc_s() {
    let binary = std::fs::read(env!("CARGO_BIN_EXE_jcrpack")).unwrap();
    let needle = b"libgcc_s.so.1";
    assert!(
        !binary.windows(needle.len()).any(|w| w == needle),
        "the binary names libgcc_s.so.1: is build.rs's linker script searched?"
    );
    jcrpack().arg("--version").assert().success();
}

/// On Linux the binary allocates with jemalloc under the options src/main.rs
/// gives it (issue 16): jemalloc reads `_RJEM_MALLOC_CONF` from the environment
/// and prints its options at exit when asked; with glibc's malloc nothing is
/// printed.
#[cfg(target_os = "linux")]
#[test]
fn the_binary_allocates_with_jemalloc_under_its_options() {
    let run = jcrpack()
        .arg("--version")
        .env("_RJEM_MALLOC_CONF", "stats_print:true")
        .output()
        .unwrap();
    assert!(run.status.success(), "{run:?}");
    let stats = String::from_utf8_lossy(&run.stderr);
    assert!(stats.contains("opt.dirty_decay_ms: 1000"), "{stats}");
    assert!(stats.contains("opt.muzzy_decay_ms: 0"), "{stats}");
}
