//! The editor's restore in headless Chromium (Debian's `chromium`) driven by
//! `playwright-core` (npm) through `tests/browser/restore.cjs`: log in, open a
//! backup, tick one page subtree, read the differences, confirm, check the
//! content with `jcrpack dump`, undo from the activity log, and a phone-sized
//! screen; and the packages flow through `tests/browser/packages.cjs`: upload,
//! dry run, install reading the live log, `jcrpack dump`, the activity log,
//! uninstall, delete. Screenshots of each step go to
//! `$JCRPACK_SCREENSHOTS/{restore-flow,packages-flow}`, else
//! `target/screenshots/…` (the test prints the folder).
//!
//! What it needs, found through the environment `.ci/run` sets, and named when
//! missing (the test then fails, it does not pass without having run):
//! `JCRPACK_CHROMIUM` (else `/usr/bin/chromium`), `JCRPACK_NODE` (else `node`),
//! `JCRPACK_PLAYWRIGHT_CORE` (the module's folder; else `node` must resolve
//! `playwright-core`).

mod serve_web_support;

use serve_web_support::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn find_tools() -> Result<(String, String, String), Vec<String>> {
    let mut missing = Vec::new();
    let chromium = std::env::var("JCRPACK_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).is_file() {
        missing.push(format!(
            "chromium ({chromium} is not there: apt-get install chromium, or set JCRPACK_CHROMIUM)"
        ));
    }
    let node = std::env::var("JCRPACK_NODE").unwrap_or_else(|_| "node".into());
    let node_ok = Command::new(&node)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !node_ok {
        missing.push(format!(
            "node ({node} does not run: apt-get install nodejs, or set JCRPACK_NODE)"
        ));
    }
    let pw = match std::env::var("JCRPACK_PLAYWRIGHT_CORE") {
        Ok(p) if Path::new(&p).join("package.json").is_file() => p,
        Ok(p) => {
            missing.push(format!(
                "playwright-core ({p}, from JCRPACK_PLAYWRIGHT_CORE, has no package.json)"
            ));
            p
        }
        Err(_) => {
            let resolved = node_ok
                .then(|| {
                    Command::new(&node)
                        .args([
                            "-e",
                            "process.stdout.write(require.resolve('playwright-core'))",
                        ])
                        .output()
                        .ok()
                        .filter(|o| o.status.success())
                        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                })
                .flatten();
            match resolved {
                Some(p) => p,
                None => {
                    missing.push(
                        "playwright-core (npm install playwright-core, and set JCRPACK_PLAYWRIGHT_CORE to its folder)"
                            .into(),
                    );
                    String::new()
                }
            }
        }
    };
    if missing.is_empty() {
        Ok((chromium, node, pw))
    } else {
        Err(missing)
    }
}

/// The folder of one flow's screenshots: `$JCRPACK_SCREENSHOTS/FLOW`, else
/// `target/screenshots/FLOW` (emptied first).
fn screenshots(flow: &str) -> PathBuf {
    let base = match std::env::var("JCRPACK_SCREENSHOTS") {
        Ok(d) => PathBuf::from(d),
        Err(_) => {
            let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
            PathBuf::from(target).join("screenshots")
        }
    };
    let shots = base.join(flow);
    let _ = std::fs::remove_dir_all(&shots);
    std::fs::create_dir_all(&shots).unwrap();
    let shots = std::fs::canonicalize(&shots).unwrap();
    eprintln!("screenshots of the {flow}: {}", shots.display());
    shots
}

/// Runs the browser flow `script` (`tests/browser/FLOW.cjs`) against `srv` with
/// the common environment and `env`, and checks that it passed and wrote the
/// screenshots of `steps` to the `flow` folder.
fn run_flow(
    site: &Site,
    srv: &Server,
    script: &str,
    flow: &str,
    env: &[(&str, &std::ffi::OsStr)],
    steps: &[&str],
) {
    let (chromium, node, pw) = find_tools().unwrap_or_else(|missing| {
        panic!(
            "the browser test cannot run; missing: {} (.ci/run installs them)",
            missing.join("; ")
        )
    });
    let shots = screenshots(flow);
    let profile = site.dir.path().join("chromium-profile");
    let out = Command::new(&node)
        .arg(format!("tests/browser/{script}"))
        .env("BASE_URL", srv.url())
        .env("USER_NAME", USER)
        .env("USER_PASSWORD", PASSWORD)
        .envs(env.iter().copied())
        .env("JCRPACK", bin())
        .env("REPO", &site.repo)
        .env("SCREENSHOTS", &shots)
        .env("CHROMIUM", &chromium)
        .env("PLAYWRIGHT_CORE", &pw)
        .env("PROFILE", &profile)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{text}");
    assert!(out.status.success(), "the browser flow failed:\n{text}");
    let done = format!("{} flow: all steps passed", flow.trim_end_matches("-flow"));
    assert!(text.contains(&done), "{text}");
    for step in steps {
        assert!(
            shots.join(format!("{step}.png")).is_file(),
            "no screenshot {step}"
        );
    }
}

#[test]
fn an_editor_restores_a_page_subtree_in_the_browser_and_undoes_it() {
    let site = Site::new();
    let id = site.backup();
    site.delete_about();
    let before = run(&["dump", "--format", "json", "--repo", site.r()], None);
    let srv = Server::start(&site);
    run_flow(
        &site,
        &srv,
        "restore.cjs",
        "restore-flow",
        &[
            ("BACKUP_ID", id.as_ref()),
            ("ROOT", EN.as_ref()),
            ("GONE", ABOUT.as_ref()),
        ],
        &[
            "01-login",
            "02-backups",
            "03-restore-tree",
            "04-differences",
            "05-restored",
            "06-undone",
            "07-phone-restore",
        ],
    );
    // After restore and undo the repository is as the editor left it.
    assert_eq!(
        run(&["dump", "--format", "json", "--repo", site.r()], None),
        before
    );
}

#[test]
fn an_editor_uploads_dry_runs_installs_and_uninstalls_a_package_in_the_browser() {
    let site = Site::new();
    let content = || {
        run(
            &["dump", "--format", "json", "--repo", site.r(), "/content"],
            None,
        )
    };
    let before = content();
    let zip = site.dir.path().join("news-1.0.zip");
    std::fs::write(&zip, news_package()).unwrap();
    let srv = Server::start(&site);
    let root = format!("{NEWS}/second");
    run_flow(
        &site,
        &srv,
        "packages.cjs",
        "packages-flow",
        &[
            ("PACKAGE_FILE", zip.as_os_str()),
            ("PACKAGE_ID", NEWS_PID.as_ref()),
            ("PACKAGE_PATH", NEWS_ZIP.as_ref()),
            ("ROOT", root.as_ref()),
        ],
        &[
            "01-upload",
            "02-uploaded",
            "03-dry-run",
            "04-installed",
            "05-activity",
            "06-uninstalled",
            "07-phone-packages",
        ],
    );
    // Installed, uninstalled, the package deleted: the content is as it was.
    assert_eq!(content(), before);
}
