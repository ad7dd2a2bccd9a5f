// The editor's package flow in a real browser (headless Chromium driven by
// playwright-core), run by tests/serve_web_browser.rs against a running
// `jcrpack serve`: log in, upload a package, dry run it, install it reading the
// live log, check with `jcrpack dump`, find it in the activity log, uninstall it,
// check again, delete it; the packages page on a phone-sized screen. A screenshot
// of each step goes to $SCREENSHOTS.
//
// Environment (all set by the Rust test): BASE_URL, USER_NAME, USER_PASSWORD,
// PACKAGE_FILE (the zip to upload), PACKAGE_ID (group:name:version), PACKAGE_PATH
// (where the server keeps it), ROOT (a node the package adds), JCRPACK (the
// binary), REPO, SCREENSHOTS, CHROMIUM, PLAYWRIGHT_CORE, PROFILE.
"use strict";
const path = require("path");
const { env, dump, check, open } = require("./harness.cjs");

const BASE = env("BASE_URL");
const ROOT = env("ROOT");
const PID = env("PACKAGE_ID");
const ZIP = env("PACKAGE_PATH");

(async () => {
  const { context, page, shot } = await open();
  // Presses a control with the keyboard alone: focus, then Enter.
  const press = async (locator) => { await locator.focus(); await page.keyboard.press("Enter"); };
  const live = page.locator("#live-log");
  // Runs Install or Dry run of the package and waits for the streamed log's end.
  const run = async (name) => {
    const row = page.locator(`tr[data-package="${ZIP}"]`);
    await press(row.getByRole("button", { name, exact: true }));
    await page.locator("#live-log[data-done]").waitFor({ timeout: 60000 });
    check(new URL(page.url()).pathname === "/web/packages", `${name}: the log came into the page, no page load`);
    const status = await live.locator("[data-log-status]").innerText();
    const log = await page.getByRole("log", { name: "Install log" }).innerText();
    return { status, log, done: await live.getAttribute("data-done"), lines: +(await live.getAttribute("data-lines")) };
  };
  try {
    // 1. Log in with the keyboard alone; back on the packages page.
    await page.goto(`${BASE}/web/packages`);
    check(page.url().includes("/web/login"), "an anonymous visit is sent to the login form");
    await page.getByRole("textbox", { name: "User" }).focus();
    await page.keyboard.type(env("USER_NAME"));
    await page.keyboard.press("Tab");
    await page.keyboard.type(env("USER_PASSWORD"));
    await page.keyboard.press("Enter");
    await page.waitForURL((u) => u.pathname === "/web/packages");
    check(await page.getByRole("link", { name: "Packages" }).getAttribute("aria-current") === "page", "the Packages section is shown");
    check(await page.getByText("No packages uploaded yet.").isVisible(), "no packages yet");
    // 2. Upload the package (the file chooser is the browser's; the rest by keyboard).
    await page.getByLabel("Package file (.zip)").setInputFiles(env("PACKAGE_FILE"));
    await shot("upload");
    await press(page.getByRole("button", { name: "Upload package" }));
    await page.getByRole("status").filter({ hasText: `Uploaded package ${PID}` }).waitFor();
    const row = page.locator(`tr[data-package="${ZIP}"]`);
    check(await row.count() === 1, `${ZIP} is listed`);
    for (const b of ["Install", "Dry run", "Uninstall", "Delete"]) {
      check(await row.getByRole("button", { name: b, exact: true }).isVisible(), `button ${b}`);
    }
    await shot("uploaded");
    // 3. Dry run: the log, nothing written.
    let r = await run("Dry run");
    check(r.done === "ok" && r.status.startsWith(`Dry run of package ${PID}:`), `dry run: ${r.status}`);
    check(r.log.includes(`A ${ROOT}`) && r.lines > 0, `the dry run's log names ${ROOT} (${r.lines} lines)`);
    check(dump(ROOT).status !== 0, "nothing is written by the dry run");
    await shot("dry-run");
    // 4. Install, reading the live log.
    r = await run("Install");
    check(r.done === "ok" && r.status.startsWith(`Installed package ${PID} as operation`), `install: ${r.status}`);
    check(r.log.includes(`A ${ROOT}`), `the install's log names ${ROOT}`);
    const cell = await page.locator(`tr[data-package="${ZIP}"] [data-installed]`).innerText();
    check(/ by .* \(operation \d+\)$/.test(cell), `the row says installed: ${cell}`);
    const got = dump(ROOT);
    check(got.status === 0 && got.stdout.length > 0, `jcrpack dump shows ${ROOT}`);
    await shot("installed");
    // 5. The activity log lists the install with its Undo.
    await press(page.getByRole("link", { name: "Activity" }));
    await page.waitForURL((u) => u.pathname === "/web/activity");
    const op = page.locator("tr", { hasText: path.basename(ZIP) }).filter({ hasText: "install" });
    check(await op.count() === 1, "the activity log lists the install");
    check(await op.getByRole("button", { name: "Undo" }).isVisible(), "the install has its Undo");
    await shot("activity");
    // 6. Uninstall: jcrpack's undo of the install.
    await press(page.getByRole("link", { name: "Packages" }));
    await page.waitForURL((u) => u.pathname === "/web/packages");
    await press(page.locator(`tr[data-package="${ZIP}"]`).getByRole("button", { name: "Uninstall", exact: true }));
    await page.getByRole("status").filter({ hasText: `Uninstalled package ${PID}` }).waitFor();
    check(true, "the uninstall is confirmed");
    check(dump(ROOT).status !== 0, `after the uninstall ${ROOT} is gone`);
    await shot("uninstalled");
    // 7. The uninstall is in the activity log too.
    await page.goto(`${BASE}/web/activity`);
    const un = page.locator("tr", { hasText: `uninstall package ${PID}` });
    check(await un.count() === 1 && await un.getByRole("button", { name: "Undo" }).isVisible(), "the activity log lists the uninstall with its Undo");
    // 8. A phone-sized screen: nothing wider than the screen.
    await page.setViewportSize({ width: 375, height: 740 });
    await page.goto(`${BASE}/web/packages`);
    const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(wide <= 1, `the packages page fits a 375 px screen (${wide} px too wide)`);
    r = await run("Dry run");
    check(r.done === "ok", "a dry run on the phone-sized screen");
    await shot("phone-packages");
    // 9. Delete.
    await press(page.locator(`tr[data-package="${ZIP}"]`).getByRole("button", { name: "Delete", exact: true }));
    await page.getByRole("status").filter({ hasText: `Deleted package ${PID}` }).waitFor();
    check(await page.getByText("No packages uploaded yet.").isVisible(), "the package is deleted");
    console.log("packages flow: all steps passed");
  } catch (e) {
    try { await shot("failure"); } catch (_) { /* the browser is gone */ }
    console.error(e && e.stack || String(e));
    process.exitCode = 1;
  } finally {
    await context.close();
  }
})();
