// The slot map marks a slot being migrated between two masters (tests/web/test_page_migrations.py):
//   node slot_moves_check.mjs URL OUT_DIR SLOT SOURCE TARGET
// Waits for the slot's band (migrating pattern, hover text naming both masters), the legend,
// the migration_started event, the master's hover detail, takes a screenshot, prints {"ok":true,...} or {"error":...} and exits.
import path from "node:path";
import { closeBrowser, collectProblems, launchBrowser, waitFor } from "./browser.mjs";

const [url, outDir, slotText, source, target] = process.argv.slice(2);
const slot = Number(slotText);
const say = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const problems = [];

const context = await launchBrowser();
let code = 0;
try {
  const page = context.pages()[0] || (await context.newPage());
  collectProblems(page, problems);
  await page.goto(url, { waitUntil: "load" });
  const sel = `#slot-map .range.migrating[data-slot="${slot}"]`;
  // Both ends: the masters are asked one after the other, so one poll may catch only one side.
  await waitFor(page, ([s, want]) => want.every((w) => (document.querySelector(s)?.title || "").includes(w)),
    [sel, [`migrating from ${source} to ${target}`, `importing into ${target} from ${source}`]], 15000,
    `slot ${slot} marked migrating, with both masters named`);
  const band = await page.$eval(sel, (d) => ({
    title: d.title, width: d.getBoundingClientRect().width, image: getComputedStyle(d).backgroundImage }));
  if (!band.title.includes(`migrating from ${source} to ${target}`) || !band.title.includes(`importing into ${target} from ${source}`)) {
    throw new Error("band title: " + band.title);
  }
  if (band.width < 6 || !band.image.includes("gradient")) throw new Error("band not visible: " + JSON.stringify(band));
  const legend = await page.textContent("#slot-legend");
  if (!legend.includes("migrating") || !legend.includes("importing") || !legend.includes(`slot ${slot}:`)) {
    throw new Error("legend: " + legend);
  }
  // The move is in the event list too.
  await waitFor(page, (want) => [...document.querySelectorAll('#events li[data-kind="migration_started"]')]
    .some((li) => li.textContent.includes(want)), `slot ${slot} migrating from ${source} to ${target}`, 15000,
    `a migration_started event for slot ${slot} in the event list`);
  await page.hover(`#nodes tr.master[data-address="${source}"]`);
  const detail = await page.textContent("#node-detail");
  if (!detail.includes(`slots moving: ${slot} → ${target}`)) throw new Error("hover detail: " + detail);
  await page.screenshot({ path: path.join(outDir, "slotgate-page-migrating.png"), fullPage: true });
  if (problems.length) throw new Error(problems.join("; "));
  say({ ok: true, title: band.title, width: band.width });
} catch (e) {
  say({ error: String(e && e.message || e), problems });
  code = 1;
} finally {
  await closeBrowser(context);
}
process.exit(code);
