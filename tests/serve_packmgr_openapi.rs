//! `jcrpack serve` checked against `schemas/packmgr-openapi.yaml` (the Package
//! Manager's JSON endpoints) by schemathesis, with generated and malformed input:
//! no server error, every status, content type, header and JSON body as the
//! document says. Package-level failures are HTTP 200 with `"success":false`, as
//! AEM answers, so schemathesis's check that malformed data is refused with a 4xx
//! (`negative_data_rejection`) does not apply to this API and is not run.

mod serve_packmgr_support;

use serve_packmgr_support::*;

/// schemathesis (PyPI): `$JCRPACK_SCHEMATHESIS`, else `schemathesis` on PATH.
fn schemathesis() -> Result<String, String> {
    let exe = std::env::var("JCRPACK_SCHEMATHESIS").unwrap_or_else(|_| "schemathesis".into());
    match std::process::Command::new(&exe).arg("--version").output() {
        Ok(o) if o.status.success() => Ok(exe),
        _ => Err(format!(
            "schemathesis is missing ({exe} does not run): install it from PyPI \
             (.ci/run does, and sets JCRPACK_SCHEMATHESIS)"
        )),
    }
}

#[test]
fn the_package_manager_conforms_to_its_openapi_document_under_generated_and_malformed_input() {
    let exe = schemathesis().unwrap_or_else(|e| panic!("{e}"));
    let srv = Server::start(&[]);
    // The fixture the document's concrete paths name.
    let zip = package(
        "test",
        "pkg",
        "1",
        &["/apps/t"],
        &[("jcr_root/apps/t/a.txt", "a")],
    );
    let body = multipart(
        "b",
        &[
            ("cmd", None, None, b"upload"),
            ("package", Some("p.zip"), None, &zip),
        ],
    );
    let r = request(
        &srv.addr,
        "POST",
        "/crx/packmgr/service/.json",
        &format!("{ADMIN}Content-Type: multipart/form-data; boundary=b\r\n"),
        &body,
    );
    assert!(r.text().contains("\"success\":true"), "{}", r.text());
    let schema = std::fs::canonicalize("schemas/packmgr-openapi.yaml").unwrap();
    let work = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(&exe)
        .current_dir(work.path())
        .args(["run"])
        .arg(&schema)
        .args([
            "--url",
            &srv.base(),
            "--auth",
            "admin:admin",
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance",
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "20",
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
    // Every operation of the document was exercised.
    assert!(!text.contains("0 total"), "{text}");
}
