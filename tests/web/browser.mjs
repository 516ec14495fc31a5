// What the browser checks share: Debian's chromium started headless by playwright-core (it
// never downloads a browser), and a wait that works under the page's Content-Security-Policy.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

// A fresh profile; the flags keep chromium off the network this machine does not have.
// closeBrowser(context) closes it and removes the profile.
const profiles = new Map();
export async function launchBrowser() {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "slotgate-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1440, height: 1000 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  profiles.set(context, userDataDir);
  return context;
}

export async function closeBrowser(context) {
  await context.close();
  fs.rmSync(profiles.get(context), { recursive: true, force: true });
  profiles.delete(context);
}

// Console errors and uncaught exceptions of the page go to `problems`.
export function collectProblems(page, problems) {
  page.on("console", (m) => { if (m.type() === "error") problems.push("console error: " + m.text()); });
  page.on("pageerror", (e) => problems.push("uncaught exception: " + e.message));
}

// page.waitForFunction evaluates a string in the page, which the page's CSP (no
// 'unsafe-eval') rightly refuses; page.evaluate goes through the DevTools protocol instead.
export async function waitFor(page, fn, arg, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await page.evaluate(fn, arg)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
