// What the browser flows share: reading their environment, running `jcrpack
// dump`, checks that print `ok - ...`, and a headless Chromium with a numbered
// screenshot per step. Required by restore.cjs and packages.cjs.
"use strict";
const { spawnSync } = require("child_process");
const path = require("path");
const { chromium } = require(process.env.PLAYWRIGHT_CORE || "playwright-core");

// The variable `k`, or an error naming the script and the variable.
function env(k) {
  const v = process.env[k];
  if (!v) { throw new Error(`${path.basename(require.main.filename)}: ${k} is not set`); }
  return v;
}

// `jcrpack dump --repo $REPO P`, its output and status.
function dump(p) {
  return spawnSync(env("JCRPACK"), ["dump", "--repo", env("REPO"), p], { encoding: "utf8" });
}

function check(cond, what) {
  if (!cond) { throw new Error(`check failed: ${what}`); }
  console.log(`ok - ${what}`);
}

// Chromium on a fresh profile ($PROFILE), its first page, and `shot(name)`, which
// writes $SCREENSHOTS/NN-name.png, NN counting the steps.
async function open() {
  const context = await chromium.launchPersistentContext(env("PROFILE"), {
    executablePath: env("CHROMIUM"),
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1100, height: 800 },
  });
  let step = 0;
  const page = context.pages()[0] || await context.newPage();
  const shot = async (name) => {
    step += 1;
    const file = path.join(env("SCREENSHOTS"), `${String(step).padStart(2, "0")}-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    console.log(`screenshot ${file}`);
  };
  return { context, page, shot };
}

module.exports = { env, dump, check, open };
