//! `jcrpack serve` checked against `schemas/packmgr-openapi.yaml` (the Package
//! Manager's JSON endpoints) by schemathesis, with generated and malformed input:
//! no server error, every status, content type, header and JSON body as the
//! document says. Package-level failures are HTTP 200 with `"success":false`, as
//! AEM answers, so schemathesis's check that malformed data is refused with a 4xx
//! (`negative_data_rejection`) does not apply to this API and is not run.

mod serve_packmgr_support;
mod serve_schemathesis_support;

use serve_packmgr_support::*;

#[test]
fn the_package_manager_conforms_to_its_openapi_document_under_generated_and_malformed_input() {
    serve_schemathesis_support::schemathesis().unwrap_or_else(|e| panic!("{e}"));
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
    let text = serve_schemathesis_support::run(
        "schemas/packmgr-openapi.yaml",
        &srv.base(),
        "admin:admin",
        "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance",
        20,
    );
    // Every operation of the document was exercised.
    assert!(!text.contains("0 total"), "{text}");
}
