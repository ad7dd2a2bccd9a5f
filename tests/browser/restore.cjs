// The editor's restore in a real browser (headless Chromium driven by
// playwright-core), run by tests/serve_web_browser.rs against a running
// `jcrpack serve`: log in, open a backup, tick one page subtree, read the
// differences, confirm, check the content with `jcrpack dump`, undo from the
// activity log. A screenshot of each step goes to $SCREENSHOTS.
//
// Environment (all set by the Rust test): BASE_URL, USER_NAME, USER_PASSWORD,
// BACKUP_ID, ROOT (the page subtree to restore), GONE (a page below ROOT the
// editor deleted and the backup has), JCRPACK (the binary), REPO, SCREENSHOTS,
// CHROMIUM (the browser), PLAYWRIGHT_CORE (the module's folder), PROFILE (a fresh
// --user-data-dir).
"use strict";
const { env, dump, check, open } = require("./harness.cjs");

const BASE = env("BASE_URL");
const ROOT = env("ROOT");
const GONE = env("GONE");
const ID = env("BACKUP_ID");

(async () => {
  const { context, page, shot } = await open();
  try {
    // 1. Log in, with the keyboard alone.
    await page.goto(`${BASE}/web/backups`);
    check(page.url().includes("/web/login"), "an anonymous visit is sent to the login form");
    await page.getByRole("textbox", { name: "User" }).focus();
    await page.keyboard.type(env("USER_NAME"));
    await page.keyboard.press("Tab");
    await page.keyboard.type(env("USER_PASSWORD"));
    await shot("login");
    await page.keyboard.press("Enter");
    await page.waitForURL((u) => u.pathname === "/web/backups");
    await page.getByRole("link", { name: "Repository" }).waitFor();
    check(await page.getByRole("link", { name: "Repository" }).isVisible(), "link Repository");
    check(await page.getByRole("link", { name: "Packages" }).isVisible(), "link Packages");
    check(await page.getByRole("link", { name: "Activity" }).isVisible(), "link Activity");
    // 2. The backups: one is listed with its Restore button.
    await page.getByRole("link", { name: "Backups" }).click();
    check(await page.getByRole("button", { name: "Create backup" }).isVisible(), "button Create backup");
    const row = page.locator(`tr[data-backup="${ID}"]`);
    check(await row.count() === 1, `backup ${ID} is listed`);
    await shot("backups");
    // 3. Open the backup.
    await row.getByRole("button", { name: "Restore" }).click();
    await page.waitForURL((u) => u.pathname.endsWith("/restore"));
    // 4. Tick one page subtree (keyboard: focus, Space).
    const box = page.getByRole("checkbox", { name: ROOT, exact: true });
    await box.focus();
    await page.keyboard.press("Space");
    check(await box.isChecked(), `checkbox ${ROOT} is ticked`);
    await shot("restore-tree");
    // 5. The differences.
    await page.getByRole("button", { name: "Show differences" }).click();
    const diff = page.getByRole("region", { name: "Differences" });
    await diff.waitFor();
    const text = await diff.innerText();
    check(text.includes(GONE) && /added/.test(text), `the differences name ${GONE} as added`);
    check(await page.getByRole("checkbox", { name: ROOT, exact: true }).isChecked(), "the ticked subtree stays ticked");
    check(dump(GONE).status !== 0, "nothing is written before the confirmation");
    await shot("differences");
    // 6. Confirm: the restore is in the activity log.
    await page.getByRole("button", { name: "Confirm restore" }).click();
    await page.waitForURL((u) => u.pathname === "/web/activity");
    const op = page.locator("tr", { hasText: `restore ${ID} ${ROOT}` });
    check(await op.count() === 1, "the activity log lists the restore");
    await shot("restored");
    // 7. The content is back (jcrpack dump reads the repository itself).
    const back = dump(GONE);
    check(back.status === 0 && back.stdout.length > 0, `jcrpack dump shows ${GONE} again`);
    // 8. Undo from the activity log.
    await op.getByRole("button", { name: "Undo" }).click();
    await page.getByRole("status").filter({ hasText: "Undid" }).waitFor();
    check(true, "the undo is confirmed");
    check(dump(GONE).status !== 0, `after the undo ${GONE} is gone again`);
    await shot("undone");
    // 9. A phone-sized screen: nothing wider than the screen.
    await page.setViewportSize({ width: 375, height: 740 });
    for (const where of ["backups", "activity", "repository"]) {
      await page.goto(`${BASE}/web/${where}`);
      const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      check(wide <= 1, `the ${where} page fits a 375 px screen (${wide} px too wide)`);
    }
    await page.goto(`${BASE}/web/backups/${ID}/restore`);
    await shot("phone-restore");
    console.log("restore flow: all steps passed");
  } catch (e) {
    try { await shot("failure"); } catch (_) { /* the browser is gone */ }
    console.error(e && e.stack || String(e));
    process.exitCode = 1;
  } finally {
    await context.close();
  }
})();
