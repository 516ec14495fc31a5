// Drives the slotgate admin page in headless Debian chromium (playwright-core, no browser
// download). Protocol with tests/web/test_page.py, one JSON line each way:
//   node page_check.mjs URL OUT_DIR MASTERS
//   -> {"ready":true,"masters":[addresses on the page],"node_latency":[{node,p50,p99}]}
//      after the first checks + screenshot
//   <- {"new_master":"host:port","old_master":"host:port"} once CLUSTER FAILOVER is done
//   -> {"done":true,"seconds":N}   when the page shows the new master and a failover event
// Exits 1 with {"error":...} on a console error, an uncaught exception or a timeout.
import path from "node:path";
import readline from "node:readline";
import { closeBrowser, collectProblems, launchBrowser, waitFor } from "./browser.mjs";

const [url, outDir, mastersText] = process.argv.slice(2);
const expectMasters = Number(mastersText || 3);
const problems = [];
const say = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();

const context = await launchBrowser();
let code = 0;
try {
  const page = context.pages()[0] || (await context.newPage());
  collectProblems(page, problems);
  page.on("response", (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.url()}`); });
  page.on("requestfailed", (r) => problems.push("request failed: " + r.url() + " " + r.failure()?.errorText));

  await page.goto(url, { waitUntil: "load" });
  await waitFor(page, (n) => document.querySelector("#slot-map")?.dataset.masters === String(n) &&
      Number(document.body.dataset.polls || 0) >= 3, expectMasters, 15000, `${expectMasters} masters on the slot map`);
  const masters = await page.$$eval("#nodes tr.master", (rows) => rows.map((r) => r.dataset.address));
  const ranges = await page.$$eval("#slot-map .range", (d) => d.length);
  if (masters.length !== expectMasters) throw new Error(`${masters.length} master rows, want ${expectMasters}`);
  if (ranges < expectMasters) throw new Error(`${ranges} slot ranges drawn`);
  // Every master's p50/p99 (sent to the node until its reply) in its row and in the
  // per-node table, once the page has two samples of traffic.
  const timed = /^[0-9.]+ (µs|ms|s)$/;
  await waitFor(page, (ms) => ms.every((a) => {
    const cells = document.querySelector(`#nodes tr.master[data-address="${a}"]`)?.children;
    const row = document.querySelector(`#node-latency tr[data-node="${a}"]`)?.children;
    const t = /^[0-9.]+ (µs|ms|s)$/;
    return cells && row && t.test(cells[6].textContent) && t.test(cells[7].textContent) &&
        t.test(row[2].textContent) && t.test(row[3].textContent);
  }), masters, 10000, "p50/p99 latency for every master");
  const nodeLatency = await page.$$eval("#node-latency tbody tr", (rows) => rows.map((r) => ({
    node: r.dataset.node, p50: r.children[2].textContent, p99: r.children[3].textContent })));
  for (const m of masters) {
    const row = nodeLatency.find((r) => r.node === m);
    if (!row || !timed.test(row.p50) || !timed.test(row.p99)) throw new Error(`no latency for ${m}: ` + JSON.stringify(nodeLatency));
  }
  // Hovering a master shows its details, its latency included.
  await page.hover("#nodes tr.master >> nth=0");
  const detail = await page.textContent("#node-detail");
  if (!detail.includes(masters[0]) || !detail.includes("replicas:")) throw new Error("hover detail: " + detail);
  if (!/latency \(sent to reply\): p50 [0-9.]+ (µs|ms|s), p99 [0-9.]+ (µs|ms|s)/.test(detail)) {
    throw new Error("no per-node latency in the hover detail: " + detail);
  }
  const events = await page.$$eval("#events li", (li) => li.map((e) => e.dataset.kind));
  if (!events.includes("discovered")) throw new Error("no 'discovered' event on the page: " + events);
  const rps = await page.textContent("#tiles .tile:first-child .value");
  await page.screenshot({ path: path.join(outDir, "slotgate-page-before-failover.png"), fullPage: true });
  await page.emulateMedia({ colorScheme: "dark" });
  await page.screenshot({ path: path.join(outDir, "slotgate-page-dark.png"), fullPage: true });
  await page.emulateMedia({ colorScheme: "light" });
  say({ ready: true, masters, requests_per_second: rps, node_latency: nodeLatency });

  const { value } = await lines.next();
  const { new_master: newMaster } = JSON.parse(value);
  const t0 = Date.now();
  await waitFor(page, (nm) =>
      [...document.querySelectorAll("#nodes tr.master")].some((r) => r.dataset.address === nm) &&
      [...document.querySelectorAll('#events li[data-kind="failover"]')].some((li) => li.textContent.includes(nm)),
    newMaster, 10000, `the new master ${newMaster} and its failover event on the page`);
  const seconds = (Date.now() - t0) / 1000;
  // A few more polls, so the screenshot shows the rates and the demoted master settled.
  await new Promise((r) => setTimeout(r, 3000));
  await page.hover(`#nodes tr.master[data-address="${newMaster}"]`);
  await page.screenshot({ path: path.join(outDir, "slotgate-page-after-failover.png"), fullPage: true });
  if (problems.length) throw new Error(problems.join("; "));
  say({ done: true, seconds });
} catch (e) {
  say({ error: String(e && e.message || e), problems });
  code = 1;
} finally {
  await closeBrowser(context);
}
process.exit(code);
