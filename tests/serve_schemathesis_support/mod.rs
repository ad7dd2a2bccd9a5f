//! schemathesis (PyPI) over a running `jcrpack serve`: one invocation for the
//! OpenAPI documents in `schemas/` (`tests/serve_backups.rs`,
//! `tests/serve_packmgr_openapi.rs`). A missing schemathesis fails the test with
//! what to install; it never passes without having run.
#![allow(dead_code)]

/// schemathesis: `$JCRPACK_SCHEMATHESIS`, else `schemathesis` on PATH.
pub fn schemathesis() -> Result<String, String> {
    let exe = std::env::var("JCRPACK_SCHEMATHESIS").unwrap_or_else(|_| "schemathesis".into());
    match std::process::Command::new(&exe).arg("--version").output() {
        Ok(o) if o.status.success() => Ok(exe),
        _ => Err(format!(
            "schemathesis is missing ({exe} does not run): install it from PyPI \
             (.ci/run does, and sets JCRPACK_SCHEMATHESIS)"
        )),
    }
}

/// Runs schemathesis over `schema` (a path below the crate) against `url` as
/// `auth` (`user:password`) with `checks`, every phase (examples, coverage,
/// fuzzing: generated and malformed input), `max_examples` a operation, one
/// worker, a fixed seed and at most 150 s; asserts that it found no problem and
/// returns its output.
pub fn run(schema: &str, url: &str, auth: &str, checks: &str, max_examples: u32) -> String {
    let exe = schemathesis().unwrap_or_else(|e| panic!("{e}"));
    let schema = std::fs::canonicalize(schema).unwrap();
    let work = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(&exe)
        .current_dir(work.path())
        .args(["run"])
        .arg(&schema)
        .args([
            "--url",
            url,
            "--auth",
            auth,
            "--checks",
            checks,
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            &max_examples.to_string(),
            "--workers",
            "1",
            "--max-time",
            "150",
            "--seed",
            "21",
        ])
        .env("SCHEMATHESIS_TELEMETRY", "false")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{text}");
    assert!(out.status.success(), "schemathesis found problems:\n{text}");
    text
}
