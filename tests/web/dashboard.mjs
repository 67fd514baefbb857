// The dashboard in real headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core).  tests/net/test_dashboard.sh runs it inside
// the server's namespace, so the daemon is on 127.0.0.1 there.
//
//   node dashboard.mjs --url URL --signal DIR --address A --shared-port N
//                      --assigned-port M [--token-file F] [--shots DIR]
//
// It prints TAP-like lines ("ok - …", "not ok - …", "# …") that the shell
// scenario turns into its own numbered results, and exits non-zero when a
// check failed.  A conflicting edit is made with curl, between the page's
// last read of the table and its write.  Traffic is the shell's job: this script creates
// DIR/traffic.start once the mapping is in the table, and DIR/traffic.stop
// once it has seen the counters rise.  Every wait is bounded; nothing here
// asserts on timing (the load time is only reported).  Screenshots are
// written only with --shots (PORTSHARE_SCREENSHOTS=1 in the scenario).
import { chromium } from "playwright-core";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

const { values: opt } = parseArgs({
  options: {
    url: { type: "string" },
    signal: { type: "string" },
    address: { type: "string" },
    "shared-port": { type: "string" },
    "assigned-port": { type: "string" },
    "token-file": { type: "string" },
    shots: { type: "string" },
  },
});
for (const k of ["url", "signal", "address", "shared-port", "assigned-port"]) {
  if (!opt[k]) {
    console.error(`dashboard.mjs: --${k} is required`);
    process.exit(2);
  }
}
const shared = Number(opt["shared-port"]);
const assigned = Number(opt["assigned-port"]);
const origin = new URL(opt.url).origin;

let failed = 0;
function check(what, cond, detail) {
  if (cond) console.log(`ok - ${what}`);
  else {
    failed++;
    console.log(`not ok - ${what}${detail ? ` (${detail})` : ""}`);
  }
  return cond;
}
const info = (s) => console.log(`# ${s}`);

// The token exists only once the daemon has API auth; read it at first use,
// since the daemon writes it on start.
function apiToken() {
  const f = opt["token-file"];
  return f && fs.existsSync(f) ? fs.readFileSync(f, "utf8").trim() : "";
}

// Runs fn until it returns a truthy value or ms pass; returns the last value.
async function until(fn, ms) {
  const end = Date.now() + ms;
  let v;
  do {
    v = await fn().catch(() => undefined);
    if (v) return v;
    await new Promise((r) => setTimeout(r, 200));
  } while (Date.now() < end);
  return v;
}

const count = (s) => Number(String(s).replace(/[^0-9]/g, "") || 0);

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "portshare-chromium-"));
const ctx = await chromium.launchPersistentContext(userDataDir, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  viewport: { width: 1366, height: 768 },
  colorScheme: "light",
  timeout: 30000,
});

try {
  await run();
} catch (e) {
  check("the browser test ran to its end", false, e.message.split("\n")[0]);
} finally {
  fs.writeFileSync(path.join(opt.signal, "traffic.stop"), "");
  await ctx.close().catch(() => {});
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

async function run() {
  const page = ctx.pages()[0] || (await ctx.newPage());
  page.setDefaultTimeout(10000);
  const pageErrors = [];
  const foreign = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  page.on("console", (m) => {
    // Chromium logs every 4xx answer to fetch(); those are expected here.
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) pageErrors.push(m.text());
  });
  page.on("request", (r) => {
    const u = r.url();
    if (!u.startsWith("data:") && new URL(u).origin !== origin) foreign.push(u);
  });
  page.on("dialog", (d) => d.accept()); // the delete confirmation

  // 1. Load: report how long it took, assert only what it shows.
  const t0 = Date.now();
  const resp = await page.goto(opt.url, { waitUntil: "load" });
  const loaded = Date.now() - t0;
  check("GET / serves the dashboard", resp.status() === 200 && (await page.title()) === "portshare");
  const csp = resp.headers()["content-security-policy"] || "";
  check("the page is served with a policy that allows only its own origin",
    /default-src 'self'/.test(csp) && !/unsafe-inline/.test(csp), csp);
  const healthy = await until(() => page.locator("#health").textContent().then((t) => t === "healthy"), 10000);
  const firstData = Date.now() - t0;
  const nav = await page.evaluate(() => {
    const n = performance.getEntriesByType("navigation")[0];
    const d = performance.getEntriesByName("portshare:first-data")[0];
    return { dcl: Math.round(n.domContentLoadedEventEnd), load: Math.round(n.loadEventEnd),
             data: d ? Math.round(d.startTime) : -1, size: n.transferSize };
  });
  info(`load time: DOMContentLoaded ${nav.dcl} ms, load event ${nav.load} ms, first data on screen ` +
       `${nav.data} ms (goto ${loaded} ms, health seen ${firstData} ms), ${nav.size} bytes`);
  check("the health badge says healthy", healthy);
  const queues = await page.locator("#queues tbody tr").count();
  check(`the queue table lists the daemon's queues (${queues})`, queues >= 1);
  check("the version comes from /api/v1/status", /\d+\.\d+/.test(await page.locator("#f-version").textContent()));

  // 2. Add a mapping through the form.  The comment is markup on purpose:
  // it must come back as text.
  const comment = `<img src=x onerror="window.__xss=1">dashboard test`;
  await page.selectOption("#f-proto", "udp");
  await page.fill("#f-address", opt.address);
  await page.fill("#f-shared_port", String(shared));
  await page.fill("#f-assigned_port", String(assigned));
  await page.fill("#f-comment", comment);
  await page.click("#f-submit");

  const row = page.locator("#mappings tbody tr").filter({
    has: page.locator('td[data-col="ports"]', { hasText: `${shared} → ${assigned}` }),
  });
  const dialog = page.locator("#token-dialog[open]");
  await row.or(dialog).first().waitFor({ timeout: 10000 });
  const asked = await dialog.isVisible();
  if (asked) {
    await page.fill("#t-input", apiToken());
    await page.click("#t-ok");
  }
  if (apiToken()) check("the page asks for the API token on the first change", asked);
  else info(`the daemon has no API auth: the token was ${asked ? "asked for anyway" : "not asked for"}`);
  check("the new mapping appears in the table", await row.waitFor({ timeout: 10000 }).then(() => true, () => false));
  const id = await row.getAttribute("data-id");
  const cell = (col) => row.locator(`td[data-col="${col}"]`);
  check("the comment is shown as text, not markup",
    (await cell("comment").textContent()) === comment &&
    (await page.locator("#mappings img").count()) === 0 &&
    (await page.evaluate(() => window.__xss)) === undefined);
  check("the form reports the new mapping", (await page.locator("#form-msg").textContent()) === `Added mapping ${id}.`);

  // 3. Traffic through it: the shell sends it, the counters must rise.
  fs.writeFileSync(path.join(opt.signal, "traffic.start"), id);
  const rose = await until(async () => count(await cell("packets_in").textContent()) > 0 &&
                                       count(await cell("packets_out").textContent()) > 0, 30000);
  check("the mapping's packets in and out rise on the page", rose,
    `in ${await cell("packets_in").textContent()}, out ${await cell("packets_out").textContent()}`);
  check("its last hit is set", (await cell("last_hit").textContent()) !== "never");
  const rate = await until(async () => {
    const r = await page.locator('#queues td[data-col="rate"]').allTextContents();
    return r.some((t) => t !== "0" && t !== "–") && r.join(" ");
  }, 15000);
  check("a queue shows a packet rate above 0", !!rate, String(rate));
  const legend = await page.locator("#legend").textContent();
  check("the graph's legend names the queues", /queue \d/.test(legend), legend);
  if (opt.shots) {
    await page.waitForTimeout(20000); // two minutes would be nicer; 20 s of traffic shows the idea
    await page.mouse.move(0, 0);
    await page.screenshot({ path: path.join(opt.shots, "dashboard.png") });
    info(`wrote ${path.join(opt.shots, "dashboard.png")}`);
  }
  fs.writeFileSync(path.join(opt.signal, "traffic.stop"), "");

  // 4. Edit (PUT) through the same form.
  await row.locator('button[data-action="edit"]').click();
  check("Edit fills the form", (await page.locator("#form-title").textContent()) === `Edit mapping ${id}` &&
    (await page.inputValue("#f-address")) === opt.address);
  await page.fill("#f-comment", "edited in the browser");
  await page.click("#f-submit");
  check("saving the edit updates the row",
    await until(async () => (await cell("comment").textContent()) === "edited in the browser", 10000));
  check("the token is not asked for again", !(await dialog.isVisible()));

  // 4b. A conflicting edit.  The page's list polls are answered with the
  // table as it was, so it keeps that version, while curl changes the row;
  // the page's save must then be refused (412), reload the table and say so.
  await row.locator('button[data-action="edit"]').click();
  await page.fill("#f-comment", "edited after someone else");
  let stale = true, held = null, ifMatch = null, heldServed = 0;
  const isList = (u) => u.pathname === "/api/v1/mappings" && u.searchParams.has("limit");
  await page.route(isList, async (route) => {
    if (!stale) return route.fallback();
    if (!held) {
      const r = await route.fetch();
      held = { status: r.status(), headers: r.headers(), body: await r.body() };
    }
    heldServed++;
    return route.fulfill(held);
  });
  const onPut = (r) => {
    if (r.method() !== "PUT") return;
    ifMatch = r.headers()["if-match"] || "";
    stale = false;
  };
  page.on("request", onPut);
  await until(async () => heldServed >= 2, 10000);
  const curlArgs = ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "PATCH",
    "-H", "Content-Type: application/json", "--data", '{"comment":"changed by curl"}'];
  if (apiToken()) curlArgs.push("-H", `Authorization: Bearer ${apiToken()}`);
  const curlStatus = execFileSync("curl", [...curlArgs, `${origin}/api/v1/mappings/${id}`]).toString();
  check("curl changes the mapping behind the page's back", curlStatus === "200", curlStatus);
  await page.click("#f-submit");
  const conflict = await until(async () =>
    /changed by someone else — reloaded, please retry/.test(await page.locator("#form-msg").textContent()), 10000);
  check("a save over someone else's change shows the conflict next to the form", conflict,
    await page.locator("#form-msg").textContent());
  check("the refused save carried the version the page had seen as If-Match",
    !!held && ifMatch === held.headers.etag, `${ifMatch} vs ${held && held.headers.etag}`);
  check("the table was reloaded: the row shows the other change",
    await until(async () => (await cell("comment").textContent()) === "changed by curl", 10000));
  check("the form keeps the edit for a retry",
    (await page.inputValue("#f-comment")) === "edited after someone else" &&
    (await page.locator("#form-title").textContent()) === `Edit mapping ${id}`);
  page.off("request", onPut);
  await page.unrouteAll({ behavior: "ignoreErrors" });
  await page.click("#f-submit");
  check("the retry saves, now against the version it reloaded",
    await until(async () => (await cell("comment").textContent()) === "edited after someone else", 10000) &&
    (await page.locator("#form-msg").textContent()) === `Saved mapping ${id}.`);

  // 5. Disable and enable.
  await row.locator('button[data-action="toggle"]').click();
  check("Disable marks the mapping disabled",
    await until(async () => (await cell("state").textContent()) === "disabled", 10000));

  // 6. A refused token is asked for again, and the retry carries the new one.
  // Without auth in the daemon, one 401 is faked on the way.
  const real = apiToken();
  const typed = real || "token-typed-in-the-browser";
  let faked = false;
  const sent = [];
  const onRequest = (r) => { if (r.method() === "PATCH") sent.push(r.headers().authorization || ""); };
  page.on("request", onRequest);
  if (real) {
    await page.evaluate(() => sessionStorage.setItem("portshare.api_token", "a-wrong-token"));
  } else {
    await page.route(`**/api/v1/mappings/${id}`, (route) => {
      if (faked || route.request().method() !== "PATCH") return route.fallback();
      faked = true;
      return route.fulfill({ status: 401, contentType: "application/json",
        body: '{"error":{"code":"unauthorized","message":"a valid bearer token is required","field":null}}' });
    });
  }
  await row.locator('button[data-action="toggle"]').click();
  const reasked = await dialog.waitFor({ timeout: 10000 }).then(() => true, () => false);
  check("a 401 asks for the token again", reasked);
  if (reasked) {
    await page.fill("#t-input", typed);
    await page.click("#t-ok");
  }
  check("after the new token, Enable marks the mapping enabled",
    await until(async () => (await cell("state").textContent()) === "enabled", 10000));
  check("the retried request carries the new token", sent.at(-1) === `Bearer ${typed}`, sent.join(" | "));
  check("the token is kept in session storage",
    (await page.evaluate(() => sessionStorage.getItem("portshare.api_token"))) === typed);
  page.off("request", onRequest);
  await page.unrouteAll({ behavior: "ignoreErrors" });

  // 7. Bad values: the API's error appears next to the field it names.
  const rows = await page.locator("#mappings tbody tr").count();
  const bad = async (sharedPort, assignedPort, field, pattern, what) => {
    await page.fill("#f-address", opt.address);
    await page.fill("#f-shared_port", String(sharedPort));
    await page.fill("#f-assigned_port", String(assignedPort));
    await page.click("#f-submit");
    const text = await until(async () => page.locator(`#err-${field}`).textContent(), 10000);
    check(`${what}: the API's error is shown next to ${field}`,
      pattern.test(text || "") && (await page.getAttribute(`#f-${field}`, "aria-invalid")) === "true",
      JSON.stringify(text));
  };
  await bad(shared + 1, shared + 1, "assigned_port", /equals shared_port/, "assigned port equal to shared port");
  await bad(shared, assigned + 1, "shared_port", /already shares/, "a duplicate shared port");
  await bad(shared + 2, 70000, "assigned_port", /70000.*65535/, "assigned port 70000");
  check("the form-level message stays empty when a field is named",
    (await page.locator("#form-msg").textContent()) === "");
  check("bad values add no row", (await page.locator("#mappings tbody tr").count()) === rows);
  if (opt.shots) {
    await page.screenshot({ path: path.join(opt.shots, "dashboard-error.png") });
    info(`wrote ${path.join(opt.shots, "dashboard-error.png")}`);
  }

  // 8. Delete (the confirmation is accepted).
  await row.locator('button[data-action="delete"]').click();
  check("Delete removes the row", await row.waitFor({ state: "detached", timeout: 10000 }).then(() => true, () => false));

  check("no request left the daemon's origin (works offline)", foreign.length === 0, foreign.join(" "));
  check("no script error on the page", pageErrors.length === 0, pageErrors.join(" | "));
}
