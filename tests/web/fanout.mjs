// The dashboard's UDP fan-out section (web/fanout.js) in real headless
// Chromium, driven by playwright-core.  tests/net/test_dashboard_fanout.sh
// runs it inside the server's namespace, against a daemon that starts with
// no contested port.
//
//   node fanout.mjs --url URL --signal DIR --port N --subscriber HOST:P
//                   [--token-file F] [--shots DIR]
//
// Through the forms it contests UDP port N and subscribes HOST:P to it,
// checks the live counters start at 0 and the datagram rate is computed,
// checks that the API's validation errors land next to the fields they
// name, switches the port off and on, registers a second subscriber through
// the registration port to see its badge, and deletes the subscribers and
// the port.  Like groups.mjs it prints TAP-like lines for the shell, and exits
// non-zero when a check failed.  Traffic is the shell's job and is only
// reported, never required: this script creates DIR/traffic.start once the
// subscriber is listed, then watches its counters for a while.
import { chromium } from "playwright-core";
import dgram from "node:dgram";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

const { values: opt } = parseArgs({
  options: {
    url: { type: "string" },
    signal: { type: "string" },
    port: { type: "string" },
    subscriber: { type: "string" },
    "token-file": { type: "string" },
    shots: { type: "string" },
  },
});
for (const k of ["url", "signal", "port", "subscriber"]) {
  if (!opt[k]) {
    console.error(`fanout.mjs: --${k} is required`);
    process.exit(2);
  }
}
const PORT = Number(opt.port);
const [subHost, subPort] = [opt.subscriber.slice(0, opt.subscriber.lastIndexOf(":")),
  Number(opt.subscriber.slice(opt.subscriber.lastIndexOf(":") + 1))];
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

// The API as another client sees it, to check what the page did.
async function api(p) {
  const headers = apiToken() ? { Authorization: `Bearer ${apiToken()}` } : {};
  const r = await fetch(`${origin}/api/v1${p}`, { headers, signal: AbortSignal.timeout(5000) });
  return { status: r.status, data: await r.json().catch(() => null) };
}

// The contested port with this id as the API lists it, or undefined.
async function contested(id) {
  const r = await api("/contested?limit=1000");
  return r.data && r.data.items ? r.data.items.find((p) => p.id === id) : undefined;
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

const signal = (name) => fs.writeFileSync(path.join(opt.signal, name), "");

// Subscribes host:from to the contested port the way an application does
// (the seed's registration protocol): "ADD host port" to the registration
// port, from the port the copies are to go to.  Resolves to the reply, or
// to "" when none came within 3 s.
function register(host, from, port, registrationPort) {
  return new Promise((resolve) => {
    const sock = dgram.createSocket("udp4");
    const done = (reply) => { clearTimeout(timer); sock.close(); resolve(reply); };
    const timer = setTimeout(() => done(""), 3000);
    sock.on("message", (m) => done(m.toString().trim()));
    sock.on("error", (e) => done(`(${e.message})`));
    sock.bind(from, host, () => sock.send(`ADD ${host} ${port}\r\n`, registrationPort, host));
  });
}

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "portshare-chromium-"));
const ctx = await chromium.launchPersistentContext(userDataDir, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  viewport: { width: 1366, height: 900 },
  colorScheme: "light",
  timeout: 30000,
});

try {
  await run();
} catch (e) {
  check("the browser test ran to its end", false, e.message.split("\n")[0]);
} finally {
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
  const confirms = [];
  page.on("dialog", (d) => { confirms.push(d.message()); d.accept(); });
  const text = (sel) => page.locator(sel).textContent();
  const focused = () => page.evaluate(() => document.activeElement.id);

  // 1. A daemon without contested ports: the section says so, and there is
  // nothing to subscribe to.
  const resp = await page.goto(opt.url, { waitUntil: "load" });
  check("GET / serves the dashboard", resp.status() === 200);
  check("the health badge says healthy",
    await until(() => page.locator("#health").textContent().then((t) => t === "healthy"), 10000));
  check("with no contested port, the section shows its empty state",
    await until(async () => (await text("#c-count")) === "(0)" && page.locator("#c-empty").isVisible(), 10000),
    await text("#c-count"));
  check("with no contested port, Add subscriber is disabled", await page.locator("#s-submit").isDisabled());
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll("#contested-form, #subscriber-form")]
      .flatMap((f) => [...f.querySelectorAll("input, select")])
      .filter((e) => e.labels.length === 0).map((e) => e.id));
  check("every input of the fan-out forms has a label", unlabelled.length === 0, unlabelled.join(" "));

  // 2. A contested port through the form; the first change asks for the token.
  await page.fill("#c-port", String(PORT));
  await page.click("#c-submit");
  const card = page.locator(`#contested article[data-port="${PORT}"]`);
  const dialog = page.locator("#token-dialog[open]");
  await card.or(dialog).first().waitFor({ timeout: 10000 });
  if (await dialog.isVisible()) {
    await page.fill("#t-input", apiToken());
    await page.click("#t-ok");
  }
  check("the new contested port appears as a card", await card.waitFor().then(() => true, () => false));
  check("the form reports the new port", (await text("#c-msg")).startsWith(`Added contested port ${PORT}`),
    await text("#c-msg"));
  const listed = await api("/contested");
  const port = listed.data && listed.data.items.find((p) => p.port === PORT);
  check("the API lists the port the form made, on every address and enabled",
    !!port && port.address === null && port.enabled === true, JSON.stringify(listed.data));
  check("the card shows its address and registration port",
    (await card.locator(".service").textContent()) === "on every local address" &&
    (await card.locator(".group-head .hint").textContent()) === `registration port ${port && port.registration_port}`,
    await card.locator(".group-head").textContent());
  check("the card says enabled", (await card.locator(".group-head .pill").textContent()) === "enabled");
  check("the empty state is gone", await page.locator("#c-empty").isHidden());
  check("a port without subscribers says so", await card.locator("p.empty").isVisible());
  const counter = (key) => card.locator(`dd[data-counter="${key}"]`).textContent();
  check("the port's datagram and subscriber counts are 0",
    (await counter("datagrams")) === "0" && (await counter("subscribers")) === "0");
  check("the datagram rate is computed from two rounds",
    await until(async () => (await counter("rate")) === "0", 5000), await counter("rate"));

  // 3. The subscriber form: it has picked the new port, and a Unix socket
  // subscriber has a path and no port.
  check("the subscriber form has selected the new port", (await page.inputValue("#s-contested_port")) === String(PORT));
  await page.selectOption("#s-mode", "framed_unix");
  check("framed_unix hides and disables the port field and asks for a socket path",
    (await page.locator("#s-port").isHidden()) && (await page.locator("#s-port").isDisabled()) &&
    (await text("#s-address-label")) === "socket path");
  await page.selectOption("#s-mode", "raw");
  check("another mode shows the port field again",
    (await page.locator("#s-port").isVisible()) && (await text("#s-address-label")) === "address");

  // 4. A subscriber, through the card's own button and the keyboard.
  await card.locator('button[data-action="add-subscriber"]').click();
  check("the card's Add subscriber button moves the focus to the subscriber form", (await focused()) === "s-address");
  await page.keyboard.type(subHost);
  await page.keyboard.press("Tab");
  check("Tab goes from the address to the port", (await focused()) === "s-port");
  await page.keyboard.type(String(subPort));
  await page.keyboard.press("Enter");
  const sub = card.locator(`tbody tr[data-target="${opt.subscriber}"]`);
  check("the subscriber appears in its port's card", await sub.waitFor().then(() => true, () => false));
  const cell = (col) => sub.locator(`td[data-col="${col}"]`).textContent();
  check("its mode and sampling are shown", (await cell("mode")) === "raw" && (await cell("sample_every")) === "every datagram",
    `${await cell("mode")} / ${await cell("sample_every")}`);
  const zero = await Promise.all(["copies", "bytes", "errors", "drops", "last_sent"].map(cell));
  check("its copies, bytes, errors and drops are 0, and it never sent",
    JSON.stringify(zero) === JSON.stringify(["0", "0 B", "0", "0", "never"]), zero.join(" "));
  check("a subscriber made here has no registered badge", await sub.locator(".badge").isHidden());
  check("the card counts 1 subscriber", await until(async () => (await counter("subscribers")) === "1", 5000));
  const subs = await api(`/subscribers?contested_port=${PORT}`);
  const made = subs.data && subs.data.items.find((s) => s.address === subHost && s.port === subPort);
  check("the API lists the subscriber the form made",
    !!made && made.mode === "raw" && made.sample_every === 1 && made.registered === false, JSON.stringify(subs.data));

  // 5. Bad values: the API's error appears next to the field it names.
  const bad = async (fill, submit, prefix, field, what) => {
    await fill();
    await page.click(submit);
    const t = await until(async () => text(`#${prefix}-err-${field}`), 10000);
    check(`${what}: the API's error is shown next to ${field}`,
      !!t && (await page.getAttribute(`#${prefix}-${field}`, "aria-invalid")) === "true" &&
      (await text(`#${prefix}-msg`)) === "", `${JSON.stringify(t)} / msg ${JSON.stringify(await text(`#${prefix}-msg`))}`);
    check(`${what}: the field with the error has the focus`, (await focused()) === `${prefix}-${field}`);
  };
  await bad(() => page.fill("#c-port", "70000"), "#c-submit", "c", "port", "contested port 70000");
  check("the refused port adds no card", (await page.locator("#contested article").count()) === 1);
  await page.fill("#c-port", "");
  check("typing in the field clears its error",
    (await text("#c-err-port")) === "" && !(await page.getAttribute("#c-port", "aria-invalid")));
  await bad(async () => {
    await page.fill("#s-port", String(subPort + 1));
    await page.fill("#s-sample_every", "0");
  }, "#s-submit", "s", "sample_every", "sampling every 0");
  await page.fill("#s-sample_every", "");
  await bad(() => page.fill("#s-port", "70000"), "#s-submit", "s", "port", "subscriber port 70000");
  await page.fill("#s-port", "");
  check("the refused subscribers add no row", (await card.locator("tbody tr").count()) === 1);
  if (opt.shots) {
    await card.scrollIntoViewIfNeeded();
    await page.locator("section", { has: page.locator("#h-fanout") }).screenshot({ path: path.join(opt.shots, "fanout.png") });
    info(`wrote ${path.join(opt.shots, "fanout.png")}`);
  }

  // 6. Switch the port off with the mouse and on again from the keyboard.
  await card.locator('button[data-action="toggle"]').click();
  check("Disable marks the port disabled",
    await until(async () => (await card.locator(".group-head .pill").textContent()) === "disabled", 10000));
  const off = await contested(port.id);
  check("the API agrees the port is disabled", off && off.enabled === false, JSON.stringify(off));
  await card.locator('button[data-action="toggle"]').focus();
  await page.keyboard.press("Enter");
  check("Enable (by keyboard) marks it enabled again",
    await until(async () => (await card.locator(".group-head .pill").textContent()) === "enabled", 10000));
  const on = await contested(port.id);
  check("the API agrees the port is enabled", on && on.enabled === true, JSON.stringify(on));

  // 7. Datagrams to the port, if the data path takes them: the shell sends
  // them; they are reported, not required.
  signal("traffic.start");
  const moved = await until(async () => Number((await counter("datagrams")).replace(/,/g, "")) > 0 &&
                                        Number((await cell("copies")).replace(/,/g, "")) > 0, 10000);
  info(moved ? `the page shows the copies: datagrams ${await counter("datagrams")}, copies ${await cell("copies")} ` +
               `(${await cell("bytes")}), last sent ${await cell("last_sent")}`
             : `no copies seen in 10 s (datagrams ${await counter("datagrams")}, copies ${await cell("copies")}): ` +
               "the fan-out data path may not be ready (not required here)");

  // 8. A subscriber that registered itself has the registered badge; it
  // needs the registrar, so without an answer it is reported, not required.
  const reply = await register(subHost, subPort + 1, PORT, port.registration_port);
  if (reply.startsWith("100 OK")) {
    const self = card.locator(`tbody tr[data-target="${subHost}:${subPort + 1}"]`);
    check("a subscriber that registered itself is listed, with the registered badge",
      await self.waitFor().then(() => self.locator(".badge").isVisible(), () => false));
    confirms.length = 0;
    await self.locator('button[data-action="delete-subscriber"]').click();
    check("Delete removes the registered subscriber, after saying it may register again",
      await self.waitFor({ state: "detached" }).then(() => /may register again/.test(confirms[0]), () => false),
      confirms.join(" | "));
  } else {
    info(`the registration port ${port.registration_port} answered ${JSON.stringify(reply)}: ` +
         "the registrar may not be ready (not required here)");
  }

  // 9. Delete the subscriber, then the port, each after a confirmation.
  confirms.length = 0;
  await sub.locator('button[data-action="delete-subscriber"]').click();
  check("Delete removes the subscriber", await sub.waitFor({ state: "detached" }).then(() => true, () => false));
  check("the card says it has no subscribers again", await until(async () => card.locator("p.empty").isVisible(), 5000));
  await card.locator('button[data-action="delete-contested"]').click();
  check("Delete removes the port's card", await card.waitFor({ state: "detached" }).then(() => true, () => false));
  check("every delete asked first", confirms.length === 2 && confirms[0].includes(opt.subscriber) &&
    confirms[1].includes(`UDP port ${PORT}`), confirms.join(" | "));
  check("the empty state is back", await until(async () => page.locator("#c-empty").isVisible(), 10000));
  check("Add subscriber is disabled again", await until(async () => page.locator("#s-submit").isDisabled(), 5000));
  const after = await api("/contested");
  const afterSubs = await api("/subscribers");
  check("the API lists no contested port and no subscriber",
    after.data && after.data.total === 0 && afterSubs.data && afterSubs.data.total === 0,
    `${JSON.stringify(after.data)} ${JSON.stringify(afterSubs.data)}`);

  check("no write error was left on the page", (await text("#fanout-msg")) === "", await text("#fanout-msg"));
  check("no request left the daemon's origin (works offline)", foreign.length === 0, foreign.join(" "));
  check("no script error on the page", pageErrors.length === 0, pageErrors.join(" | "));
}
