// Checks weir's dashboard in headless Chromium: loads the page from a
// running weir, waits until it has drawn its charts, checks the pipeline
// graph shows the expected stages, that nothing failed in the page and that
// it asked for nothing outside weir's own origin, and saves a screenshot.
//
// Usage:
//   bash scripts/browser.sh install
//   WEIR_BROWSER_DIR="$(bash scripts/browser.sh dir)" node tests/dashboard/check.mjs \
//     --url http://127.0.0.1:PORT/ --screenshot out/dashboard.png \
//     [--token T] [--expect-stage NAME]... [--min-points N] [--timeout-ms MS]
//
// Prints one line of JSON ({"ok": true|false, …}); exits 0 when every check
// passed, 1 otherwise (with what failed on stderr), 2 on bad usage.
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

const CHROMIUM = "/usr/bin/chromium";
const started = Date.now();

function usage(message) {
  process.stderr.write(
    `dashboard check: ${message}\n` +
      "usage: node tests/dashboard/check.mjs --url URL --screenshot PATH [--token T]\n" +
      "         [--expect-stage NAME]... [--min-points N] [--timeout-ms MS]\n" +
      "env: WEIR_BROWSER_DIR=\"$(bash scripts/browser.sh dir)\" (after bash scripts/browser.sh install)\n"
  );
  process.exit(2);
}

function options() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        url: { type: "string" },
        screenshot: { type: "string" },
        token: { type: "string" },
        "expect-stage": { type: "string", multiple: true },
        "min-points": { type: "string" },
        "timeout-ms": { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    usage(e.message);
  }
  if (!values.url) usage("--url is required");
  if (!values.screenshot) usage("--screenshot is required");
  let url;
  try {
    url = new URL(values.url);
  } catch (_) {
    usage(`--url ${values.url} is not a URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") usage(`--url ${values.url} is not http(s)`);
  const count = (name, dflt) => {
    const v = values[name];
    if (v === undefined) return dflt;
    if (!/^\d+$/.test(v)) usage(`--${name} ${v} is not a whole number`);
    return Number(v);
  };
  const dir = process.env.WEIR_BROWSER_DIR;
  if (!dir) usage("WEIR_BROWSER_DIR is not set");
  if (values.token !== undefined) url.hash = "token=" + encodeURIComponent(values.token);
  return {
    url,
    origin: url.origin,
    screenshot: path.resolve(values.screenshot),
    stages: values["expect-stage"] || [],
    minPoints: count("min-points", 10),
    timeoutMs: count("timeout-ms", 30000),
    dir: path.resolve(dir),
  };
}

const opts = options();

// Whatever happens, this process ends: a hard stop well after the timeout.
// Exiting kills the browser (playwright-core does so on process exit).
const watchdog = setTimeout(() => {
  finish({ failures: [`the check itself hung for ${opts.timeoutMs + 60000} ms; stopped`] });
}, opts.timeoutMs + 60000);
watchdog.unref();

let playwright;
try {
  const require = createRequire(path.join(opts.dir, "package.json"));
  playwright = require("playwright-core");
} catch (e) {
  usage(`cannot load playwright-core from ${opts.dir}/node_modules (${e.message.split("\n")[0]})`);
}

const summary = {
  ok: false,
  url: opts.url.origin + opts.url.pathname,
  points: null,
  stages: null,
  screenshot: null,
  failures: [],
};

let finished = false;
function finish(extra) {
  if (finished) return;
  finished = true;
  Object.assign(summary, extra || {});
  summary.ok = summary.failures.length === 0;
  summary.elapsed_ms = Date.now() - started;
  process.stdout.write(JSON.stringify(summary) + "\n");
  if (!summary.ok) {
    process.stderr.write("dashboard check failed:\n" + summary.failures.map((f) => "  - " + f + "\n").join(""));
  }
  process.exit(summary.ok ? 0 : 1);
}

const failures = summary.failures;
const outside = []; // requests to another origin, aborted
const pageErrors = [];
const consoleErrors = [];
const httpErrors = []; // responses from the origin with status >= 400
const failedRequests = []; // requests to the origin that got no answer

const clip = (s, n = 300) => (s.length > n ? s.slice(0, n) + "…" : s);
const remaining = () => Math.max(1000, opts.timeoutMs - (Date.now() - started));

async function run(browser) {
  const context = await browser.newContext({
    viewport: { width: 1400, height: 900 },
    serviceWorkers: "block",
  });
  await context.route("**/*", (route) => {
    const url = route.request().url();
    let origin = null;
    try {
      origin = new URL(url).origin;
    } catch (_) {
      // not a URL with an origin: treated as outside
    }
    if (origin === opts.origin) return route.continue();
    outside.push(url);
    return route.abort("blockedbyclient");
  });
  const page = await context.newPage();
  page.on("pageerror", (e) => pageErrors.push(clip(String(e && e.message ? e.message : e))));
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(clip(m.text()));
  });
  page.on("websocket", (ws) => {
    if (new URL(ws.url()).origin.replace(/^ws/, "http") !== opts.origin) outside.push(ws.url());
  });
  page.on("response", (r) => {
    if (r.status() >= 400 && r.url().startsWith(opts.origin)) httpErrors.push(`${r.status()} ${r.url()}`);
  });
  page.on("requestfailed", (r) => {
    if (r.url().startsWith(opts.origin)) failedRequests.push(`${r.url()}: ${r.failure() ? r.failure().errorText : "failed"}`);
  });

  try {
    await page.goto(opts.url.href, { waitUntil: "load", timeout: remaining() });
  } catch (e) {
    failures.push(`loading ${opts.url.origin}${opts.url.pathname} failed: ${e.message.split("\n")[0]}`);
    return;
  }

  try {
    await page.waitForFunction(
      (min) => !!(window.weirDashboard && window.weirDashboard.ready && window.weirDashboard.points() >= min),
      opts.minPoints,
      { timeout: remaining(), polling: 100 }
    );
    // One more refresh, so its updates are checked too.
    await page.waitForTimeout(1500);
  } catch (e) {
    const state = await page
      .evaluate(() => ({
        api: typeof window.weirDashboard,
        ready: window.weirDashboard ? window.weirDashboard.ready : null,
        points: window.weirDashboard ? window.weirDashboard.points() : null,
        notice: (document.getElementById("notice") || {}).textContent || "",
      }))
      .catch(() => null);
    if (!state || state.api !== "object") failures.push("window.weirDashboard was never defined (did app.js load?)");
    else if (!state.ready) failures.push(`the dashboard was not ready within ${opts.timeoutMs} ms` + (state.notice ? `; the page says: ${state.notice.trim()}` : ""));
    else failures.push(`the charts showed ${state.points} points after ${opts.timeoutMs} ms; wanted at least ${opts.minPoints}`);
  }

  const shown = await page
    .evaluate(() => ({
      points: window.weirDashboard ? window.weirDashboard.points() : null,
      stages: window.weirDashboard ? window.weirDashboard.stages() : null,
    }))
    .catch((e) => {
      failures.push(`reading window.weirDashboard failed: ${e.message.split("\n")[0]}`);
      return { points: null, stages: null };
    });
  summary.points = shown.points;
  summary.stages = shown.stages;

  for (const stage of opts.stages) {
    if (!(shown.stages || []).includes(stage)) {
      failures.push(`stage ${JSON.stringify(stage)} is not in the graph (it shows ${JSON.stringify(shown.stages)})`);
      continue;
    }
    const boxes = page.getByTestId("stage-" + stage);
    let visible = false;
    const n = await boxes.count();
    for (let i = 0; i < n && !visible; i++) visible = await boxes.nth(i).isVisible();
    if (!visible) failures.push(`stage ${JSON.stringify(stage)} is in the graph but not visible`);
  }

  try {
    mkdirSync(path.dirname(opts.screenshot), { recursive: true });
    await page.screenshot({ path: opts.screenshot, fullPage: true, timeout: 30000 });
    summary.screenshot = opts.screenshot;
  } catch (e) {
    failures.push(`saving the screenshot to ${opts.screenshot} failed: ${e.message.split("\n")[0]}`);
  }
}

let browser = null;
try {
  browser = await playwright.chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox"],
    timeout: 60000,
  });
  summary.chromium = browser.version();
  await run(browser);
} catch (e) {
  const first = String(e && e.message ? e.message : e).split("\n")[0];
  failures.push(browser ? `the browser check broke: ${first}` : `launching ${CHROMIUM} failed: ${first} (install it with: bash scripts/browser.sh install)`);
} finally {
  if (browser) {
    await Promise.race([browser.close().catch(() => {}), new Promise((r) => setTimeout(r, 10000).unref())]);
  }
}

const uniq = (xs) => [...new Set(xs)];
if (outside.length) failures.push(`the page asked for ${outside.length} URL(s) outside ${opts.origin} (blocked): ${uniq(outside).slice(0, 5).join(", ")}`);
if (pageErrors.length) failures.push(`${pageErrors.length} error(s) in the page: ${uniq(pageErrors).slice(0, 5).join(" | ")}`);
if (consoleErrors.length) failures.push(`${consoleErrors.length} console error(s): ${uniq(consoleErrors).slice(0, 5).join(" | ")}`);
if (httpErrors.length) failures.push(`${httpErrors.length} failed response(s) from weir: ${uniq(httpErrors).slice(0, 5).join(", ")}`);
if (failedRequests.length) failures.push(`${failedRequests.length} request(s) to weir got no answer: ${uniq(failedRequests).slice(0, 5).join(", ")}`);
if (outside.length) summary.outside = uniq(outside);
finish();
