/*
 * The portshare dashboard's script: no CDN, no build step, no framework.
 * It polls /healthz, /api/v1/status and /api/v1/mappings once a second (and
 * groups.js and fanout.js, in the same round, the groups and the fan-out) and
 * computes every rate itself from counter deltas.  API data only ever reaches the page through
 * textContent and attributes, never as markup.
 * Every write carries If-Match with the table version of the last list the
 * page showed, so it never overwrites a change it has not seen: on 412 the
 * table is reloaded and the user asked to retry.
 */
"use strict";
(() => {
  const API = "/api/v1";
  const LIST = API + "/mappings?limit=1000";
  const POLL_MS = 1000;
  const WINDOW_MS = 120 * 1000;
  const TOKEN_KEY = "portshare.api_token";
  const FIELDS = ["proto", "address", "shared_port", "assigned_port", "comment", "enabled"];
  const COLORS = ["#2f6fe4", "#0f9d8a", "#9b4dca", "#e07b12", "#0a8fb8", "#6a9a18", "#d6457f", "#6b7280"];
  const DROP_COLOR = "#d92d20";
  const $ = (id) => document.getElementById(id);
  const nf = new Intl.NumberFormat("en-US");

  /* ---- small DOM and format helpers -------------------------------------- */

  // Every text that came from the API goes through here: textContent, never markup.
  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function setText(node, text) {
    const s = String(text);
    if (node.textContent !== s) node.textContent = s;
  }

  function setAttr(node, name, value) {
    if (value === null || value === undefined) node.removeAttribute(name);
    else if (node.getAttribute(name) !== String(value)) node.setAttribute(name, String(value));
  }

  const fmtInt = (n) => nf.format(n);

  function fmtBytes(n) {
    const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? String(n) : n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0)) + " " + units[i];
  }

  function fmtRate(r) {
    if (r === null || r === undefined || !isFinite(r)) return "–";
    if (r >= 1e6) return (r / 1e6).toFixed(r >= 1e7 ? 0 : 1) + "M";
    if (r >= 1e4) return (r / 1e3).toFixed(0) + "k";
    if (r >= 10) return r.toFixed(0);
    return r === 0 ? "0" : r.toFixed(1);
  }

  function fmtDuration(s) {
    if (s < 60) return s + " s";
    if (s < 3600) return Math.floor(s / 60) + " min " + (s % 60) + " s";
    if (s < 86400) return Math.floor(s / 3600) + " h " + Math.floor(s % 3600 / 60) + " min";
    return Math.floor(s / 86400) + " d " + Math.floor(s % 86400 / 3600) + " h";
  }

  function fmtAgo(iso) {
    if (!iso) return "never";
    const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
    if (!isFinite(s)) return String(iso);
    return s <= 1 ? "just now" : fmtDuration(s) + " ago";
  }

  /* ---- HTTP, auth ------------------------------------------------------ */

  class ApiError extends Error {
    constructor(status, e) {
      super(e && e.message ? String(e.message) : "HTTP " + status);
      this.status = status;
      this.code = e && e.code ? String(e.code) : "http_" + status;
      this.field = e && typeof e.field === "string" ? e.field : null;
    }
  }

  async function request(method, url, body, token, ifMatch) {
    const opts = { method, headers: {}, cache: "no-store", signal: AbortSignal.timeout(5000) };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    if (token) opts.headers.Authorization = "Bearer " + token;
    if (ifMatch) opts.headers["If-Match"] = ifMatch;
    const res = await fetch(url, opts);
    const data = res.status === 204 ? null : await res.json().catch(() => null);
    return { status: res.status, data, etag: res.headers.get("ETag") };
  }

  /*
   * The table version the page last saw, as an ETag ("<version>").  Versions
   * only grow, so an answer that comes late, carrying an older one, never
   * takes the place of a newer one.
   */
  const version = {
    tag: null,
    seen(tag) {
      if (!tag || !/^"\d+"$/.test(tag)) return;
      if (this.tag === null || BigInt(tag.slice(1, -1)) > BigInt(this.tag.slice(1, -1))) this.tag = tag;
    },
  };

  const CONFLICT = "changed by someone else — reloaded, please retry";

  function errorOf(r) {
    return new ApiError(r.status, r.data && typeof r.data.error === "object" ? r.data.error : null);
  }

  const token = {
    get: () => sessionStorage.getItem(TOKEN_KEY) || "",
    set(t) {
      if (t) sessionStorage.setItem(TOKEN_KEY, t);
      else sessionStorage.removeItem(TOKEN_KEY);
      setText($("token-btn"), "API token: " + (t ? "set" : "not set"));
    },
  };

  // One dialog at a time: concurrent 401s share the same question.
  let asking = null;
  function askToken(reason) {
    if (asking) return asking;
    const dlg = $("token-dialog");
    setText($("t-reason"), reason);
    $("t-input").value = "";
    $("t-forget").hidden = !token.get();
    dlg.returnValue = "";
    asking = new Promise((resolve) => {
      dlg.addEventListener("close", () => {
        asking = null;
        const v = $("t-input").value.trim();
        if (dlg.returnValue === "ok" && v) { token.set(v); resolve(v); return; }
        if (dlg.returnValue === "forget") token.set("");
        resolve(null);
      }, { once: true });
    });
    dlg.showModal();
    $("t-input").focus();
    return asking;
  }

  /*
   * A mutation carries the token when this tab has one, and If-Match with
   * the version of the table the page shows.  A 401 asks for the token
   * (again) and retries, so a daemon without auth never asks at all.  A 412
   * means someone else changed the table since: it is reloaded, and the
   * error says so.  Resolves to the response, with a warning for 503
   * (stored, not live yet); rejects with an ApiError.
   */
  async function mutate(method, path, body) {
    for (let tries = 0; ; tries++) {
      const had = token.get();
      const r = await request(method, API + path, body, had, version.tag);
      if (r.status === 401 && tries < 3) {
        token.set("");
        const reason = had ? "The daemon refused this token (" + errorOf(r).message + "). Enter the current one."
                           : "Changes need the daemon's API token.";
        if (await askToken(reason)) continue;
        throw new ApiError(401, { code: "unauthorized", message: "Not saved: changes need the API token." });
      }
      if (r.status === 412) {
        await reload();
        throw new ApiError(412, { code: "precondition_failed", message: "Not saved: the table was " + CONFLICT + "." });
      }
      version.seen(r.etag);
      if (r.status === 503) return { data: r.data && r.data.stored, warning: errorOf(r).message };
      if (r.status < 200 || r.status >= 300) throw errorOf(r);
      return { data: r.data, warning: null };
    }
  }

  /* ---- state ------------------------------------------------------------ */

  const state = {
    samples: [],        // {t, rates: Map(queue -> pkt/s), drops: pkt/s} or {t, gap: true}
    prevQueues: null,   // {t, byQueue: Map(queue -> {packets, dropped})}
    prevMappings: new Map(), // id -> {t, packets}
    mappingRate: new Map(),  // id -> pkt/s
    queueRate: new Map(),
    rows: new Map(),    // mapping id -> row object
    qrows: new Map(),   // queue -> row object
    mappings: new Map(),
    colorOf: new Map(),
  };

  function queueColor(q) {
    if (!state.colorOf.has(q)) state.colorOf.set(q, COLORS[state.colorOf.size % COLORS.length]);
    return state.colorOf.get(q);
  }

  /* ---- health and status ---------------------------------------------- */

  function renderHealth(hz, st) {
    const h = $("health");
    let cls = "off", text = "offline", title = "the daemon does not answer";
    if (hz) {
      const healthy = hz.status === 200 && (!st || st.healthy !== false);
      const reason = (hz.data && hz.data.reason) || (st && st.reason) || "";
      cls = healthy ? "ok" : "bad";
      text = healthy ? "healthy" : "unhealthy" + (reason ? ": " + reason : "");
      title = healthy ? "every worker made progress in the last 5 s" : reason;
    }
    setText(h, text);
    h.className = "pill " + cls;
    document.body.classList.toggle("stale", !hz);
    h.title = title;
  }

  function renderStatus(st, now) {
    setText($("f-version"), st.version);
    setText($("f-uptime"), fmtDuration(st.uptime_seconds));
    setText($("f-mappings"), fmtInt(st.mappings));
    setText($("f-table"), st.table_version);
    setText($("f-updated"), new Date().toLocaleTimeString());

    // Rates from counter deltas; a counter that went backwards (a restart) gives no point.
    const byQueue = new Map();
    const rates = new Map();
    let drops = 0, dropsKnown = false, kernel = 0, user = 0;
    for (const q of st.queues) {
      const dropped = q.kernel_dropped + q.user_dropped;
      byQueue.set(q.queue, { packets: q.packets, dropped });
      kernel += q.kernel_dropped;
      user += q.user_dropped;
      const prev = state.prevQueues && state.prevQueues.byQueue.get(q.queue);
      const dt = state.prevQueues ? (now - state.prevQueues.t) / 1000 : 0;
      if (prev && dt > 0 && q.packets >= prev.packets) rates.set(q.queue, (q.packets - prev.packets) / dt);
      if (prev && dt > 0 && dropped >= prev.dropped) { drops += (dropped - prev.dropped) / dt; dropsKnown = true; }
    }
    state.prevQueues = { t: now, byQueue };
    state.queueRate = rates;
    if (rates.size) state.samples.push({ t: now, rates, drops: dropsKnown ? drops : null });
    renderQueues(st.queues);

    const d = $("drops");
    if (kernel + user === 0) { setText(d, "no drops"); d.style.color = ""; }
    else {
      setText(d, fmtInt(kernel) + " dropped by the kernel, " + fmtInt(user) + " undeliverable");
      d.style.color = "var(--bad)";
    }
  }

  const QCOLS = [
    ["rate", (q) => fmtRate(state.queueRate.get(q.queue))],
    ["packets", (q) => fmtInt(q.packets)],
    ["rewritten", (q) => fmtInt(q.rewritten)],
    ["passed", (q) => fmtInt(q.passed)],
    ["truncated", (q) => fmtInt(q.truncated), (q) => q.truncated > 0],
    ["kernel_dropped", (q) => fmtInt(q.kernel_dropped), (q) => q.kernel_dropped > 0],
    ["user_dropped", (q) => fmtInt(q.user_dropped), (q) => q.user_dropped > 0],
    ["nl_errors", (q) => fmtInt(q.nl_errors + q.enobufs), (q) => q.nl_errors + q.enobufs > 0],
    ["progress", (q) => q.last_progress_age_seconds + " s", (q) => q.last_progress_age_seconds >= 5],
  ];

  function renderQueues(queues) {
    const tbody = $("queues").tBodies[0];
    const seen = new Set();
    queues.forEach((q, i) => {
      seen.add(q.queue);
      let r = state.qrows.get(q.queue);
      if (!r) {
        r = { tr: el("tr"), cells: {} };
        r.tr.dataset.queue = q.queue;
        const name = el("th");
        name.scope = "row";
        const sw = el("span", "swatch");
        sw.style.background = queueColor(q.queue);
        name.append(sw, " " + q.queue);
        r.tr.append(name);
        for (const [key] of QCOLS) {
          r.cells[key] = el("td", "num");
          r.cells[key].dataset.col = key;
          r.tr.append(r.cells[key]);
        }
        state.qrows.set(q.queue, r);
      }
      for (const [key, fmt, alarm] of QCOLS) {
        setText(r.cells[key], fmt(q));
        r.cells[key].classList.toggle("alarm", !!(alarm && alarm(q)));
      }
      r.cells.nl_errors.title = "nl_errors " + q.nl_errors + ", enobufs " + q.enobufs + ", batches " + q.batches;
      if (tbody.children[i] !== r.tr) tbody.insertBefore(r.tr, tbody.children[i] || null);
    });
    for (const [q, r] of state.qrows) if (!seen.has(q)) { r.tr.remove(); state.qrows.delete(q); }
  }

  /* ---- the rate graph -------------------------------------------------- */

  // The graph's top: 4 when idle, so its four steps are whole packets.
  function niceMax(v) {
    if (v <= 4) return 4;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  function drawGraph(now) {
    const c = $("graph");
    const dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth, h = c.clientHeight;
    if (!w || !h) return;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
    }
    const ctx = c.getContext("2d");
    const css = getComputedStyle(document.documentElement);
    const grid = css.getPropertyValue("--grid").trim(), dim = css.getPropertyValue("--dim").trim();
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);

    while (state.samples.length && state.samples[0].t < now - WINDOW_MS - 2 * POLL_MS) state.samples.shift();
    const queues = [...state.qrows.keys()];
    let max = 0, anyDrops = false;
    for (const s of state.samples) {
      if (s.gap) continue;
      for (const r of s.rates.values()) max = Math.max(max, r);
      if (s.drops > 0) { anyDrops = true; max = Math.max(max, s.drops); }
    }
    const top = niceMax(max);
    const L = 44, R = 6, T = 6, B = 18;
    const pw = w - L - R, ph = h - T - B;
    const x = (t) => L + pw * (1 - (now - t) / WINDOW_MS);
    const y = (v) => T + ph * (1 - v / top);

    ctx.font = "11px system-ui, sans-serif";
    ctx.lineWidth = 1;
    ctx.fillStyle = dim;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (let i = 0; i <= 4; i++) {
      const v = top * i / 4, yy = Math.round(y(v)) + 0.5;
      ctx.strokeStyle = grid;
      ctx.beginPath(); ctx.moveTo(L, yy); ctx.lineTo(L + pw, yy); ctx.stroke();
      ctx.fillText(v >= 1e4 ? fmtRate(v) : String(+v.toFixed(2)), L - 6, yy);
    }
    ctx.textBaseline = "top";
    for (const sec of [120, 90, 60, 30, 0]) {
      const xx = L + pw * (1 - sec / 120);
      ctx.textAlign = sec === 120 ? "left" : sec === 0 ? "right" : "center";
      ctx.fillText(sec ? "−" + sec + " s" : "now", xx, h - B + 4);
    }

    const line = (pick, color, dash) => {
      ctx.strokeStyle = color;
      ctx.lineWidth = 1.8;
      ctx.lineJoin = "round";
      ctx.setLineDash(dash || []);
      ctx.beginPath();
      let pen = false;
      for (const s of state.samples) {
        const v = s.gap ? undefined : pick(s);
        if (v === undefined || v === null) { pen = false; continue; }
        const px = Math.max(L, x(s.t)), py = y(v);
        if (pen) ctx.lineTo(px, py); else ctx.moveTo(px, py);
        pen = true;
      }
      ctx.stroke();
      ctx.setLineDash([]);
    };
    ctx.save();
    ctx.beginPath(); ctx.rect(L, 0, pw, h); ctx.clip();
    for (const q of queues) line((s) => s.rates.get(q), queueColor(q));
    if (anyDrops) line((s) => s.drops, DROP_COLOR, [4, 3]);
    ctx.restore();

    renderLegend(queues, anyDrops);
  }

  function renderLegend(queues, anyDrops) {
    const items = queues.map((q) => ["queue " + q, queueColor(q), state.queueRate.get(q)]);
    const last = state.samples.length ? state.samples[state.samples.length - 1] : null;
    if (anyDrops) items.push(["drops", DROP_COLOR, last && !last.gap ? last.drops : null]);
    const ul = $("legend");
    while (ul.children.length > items.length) ul.lastChild.remove();
    items.forEach(([name, color, rate], i) => {
      let li = ul.children[i];
      if (!li) {
        li = el("li");
        li.append(el("span", "swatch"), el("span"), el("b"));
        ul.append(li);
      }
      li.children[0].style.background = color;
      setText(li.children[1], name);
      setText(li.children[2], fmtRate(rate) + " pkt/s");
    });
    $("graph").setAttribute("aria-label", "packet rate, last 2 minutes: " +
      items.map(([name, , rate]) => name + " " + fmtRate(rate) + " packets per second").join(", "));
  }

  /* ---- mappings table ---------------------------------------------------- */

  function newRow(id) {
    const tr = el("tr");
    tr.dataset.id = id;
    const cells = {};
    const add = (key, cls) => {
      const td = el("td", cls);
      td.dataset.col = key;
      tr.append(td);
      cells[key] = td;
      return td;
    };
    add("id", "num");
    add("proto");
    const addr = add("address");
    cells.addrMain = el("span");
    cells.addrSub = el("span", "sub");
    addr.append(cells.addrMain, cells.addrSub);
    add("ports");
    const st = add("state");
    cells.pill = el("span", "pill state");
    st.append(cells.pill);
    add("comment", "comment");
    for (const k of ["rate", "packets_in", "bytes_in", "packets_out", "bytes_out"]) add(k, "num");
    const hit = add("last_hit");
    cells.hitTime = el("time");
    hit.append(cells.hitTime);
    const act = el("div");
    add("actions", "actions").append(act);
    const edit = el("button", "small", "Edit");
    edit.type = "button";
    edit.dataset.action = "edit";
    edit.addEventListener("click", () => startEdit(id));
    const toggle = el("button", "small");
    toggle.type = "button";
    toggle.dataset.action = "toggle";
    toggle.addEventListener("click", () => rowAction(id, "PATCH", { enabled: !state.mappings.get(id).enabled }));
    const del = el("button", "small danger", "Delete");
    del.type = "button";
    del.dataset.action = "delete";
    del.setAttribute("aria-label", "Delete mapping " + id);
    del.addEventListener("click", () => {
      const m = state.mappings.get(id);
      if (m && confirm("Delete mapping " + id + " (" + m.proto + " " + m.address + ":" + m.shared_port +
                       " → " + m.assigned_port + ")?")) rowAction(id, "DELETE");
    });
    edit.setAttribute("aria-label", "Edit mapping " + id);
    act.append(edit, toggle, del);
    cells.toggle = toggle;
    return { tr, cells };
  }

  function updateRow(r, m) {
    const c = r.cells, k = m.counters || {};
    setText(c.id, m.id);
    setText(c.proto, m.proto);
    setText(c.addrMain, m.address);
    const resolved = (m.addresses || []).join(", ");
    if (m.resolve_error) setText(c.addrSub, m.resolve_error);
    else if (!m.resolved) setText(c.addrSub, "not resolved");
    else setText(c.addrSub, resolved && resolved !== m.address ? resolved : "");
    c.addrSub.classList.toggle("bad", !!m.resolve_error || !m.resolved);
    setText(c.ports, m.shared_port + " → " + m.assigned_port);
    setText(c.pill, m.enabled ? "enabled" : "disabled");
    c.pill.className = "pill state " + (m.enabled ? "ok" : "off");
    setText(c.comment, m.comment || "");
    setAttr(c.comment, "title", m.comment || null);
    setText(c.rate, fmtRate(state.mappingRate.get(m.id)));
    setText(c.packets_in, fmtInt(k.packets_in || 0));
    setText(c.bytes_in, fmtBytes(k.bytes_in || 0));
    setAttr(c.bytes_in, "title", fmtInt(k.bytes_in || 0) + " bytes");
    setText(c.packets_out, fmtInt(k.packets_out || 0));
    setText(c.bytes_out, fmtBytes(k.bytes_out || 0));
    setAttr(c.bytes_out, "title", fmtInt(k.bytes_out || 0) + " bytes");
    setText(c.hitTime, fmtAgo(k.last_hit));
    setAttr(c.hitTime, "datetime", k.last_hit || null);
    setAttr(c.hitTime, "title", k.last_hit ? new Date(k.last_hit).toLocaleString() : null);
    setText(c.toggle, m.enabled ? "Disable" : "Enable");
    c.toggle.setAttribute("aria-label", (m.enabled ? "Disable" : "Enable") + " mapping " + m.id);
    r.tr.classList.toggle("disabled", !m.enabled);
  }

  function matches(m, f) {
    if (!f) return true;
    const hay = [m.id, m.proto, m.address, (m.addresses || []).join(" "), m.shared_port, m.assigned_port, m.comment || ""]
      .join(" ").toLowerCase();
    return f.split(/\s+/).every((w) => hay.includes(w));
  }

  function renderMappings(list, now) {
    const tbody = $("mappings").tBodies[0];
    const f = $("filter").value.trim().toLowerCase();
    const seen = new Set();
    const rates = new Map(), prev = new Map();
    let shown = 0;
    state.mappingRate = rates;
    list.items.forEach((m, i) => {
      seen.add(m.id);
      const k = m.counters || {};
      const packets = (k.packets_in || 0) + (k.packets_out || 0);
      const p = state.prevMappings.get(m.id);
      if (p && now > p.t && packets >= p.packets) rates.set(m.id, (packets - p.packets) * 1000 / (now - p.t));
      prev.set(m.id, { t: now, packets });
      state.mappings.set(m.id, m);
      let r = state.rows.get(m.id);
      if (!r) { r = newRow(m.id); state.rows.set(m.id, r); }
      updateRow(r, m);
      r.tr.hidden = !matches(m, f);
      if (!r.tr.hidden) shown++;
      // Rows move only when the order changes, so focus and hover stay put.
      if (tbody.children[i] !== r.tr) tbody.insertBefore(r.tr, tbody.children[i] || null);
    });
    state.prevMappings = prev;
    for (const [id, r] of state.rows) {
      if (!seen.has(id)) { r.tr.remove(); state.rows.delete(id); state.mappings.delete(id); }
    }
    let count = "(" + fmtInt(list.total) + ")";
    if (list.total > list.items.length) count = "(first " + fmtInt(list.items.length) + " of " + fmtInt(list.total) + ")";
    if (f) count += " · " + shown + " match the filter";
    setText($("m-count"), count);
    $("m-empty").hidden = list.total !== 0;
  }

  /* ---- the add / edit form ------------------------------------------- */

  const form = $("mapping-form");
  let editing = null;

  function clearErrors() {
    for (const name of FIELDS) {
      setText($("err-" + name), "");
      $("f-" + name).removeAttribute("aria-invalid");
    }
    formMsg("", "");
  }

  function formMsg(text, kind) {
    const p = $("form-msg");
    setText(p, text);
    p.className = "msg " + kind;
  }

  // Shows an API error next to the field it names, or under the form.
  function showError(e) {
    if (e.field && FIELDS.includes(e.field)) {
      setText($("err-" + e.field), e.message);
      const input = $("f-" + e.field);
      input.setAttribute("aria-invalid", "true");
      input.focus();
    } else {
      formMsg(e.message, "bad");
    }
  }

  function port(v) {
    v = v.trim();
    if (v === "") return undefined;
    const n = Number(v);
    return Number.isFinite(n) ? n : v;
  }

  function formBody() {
    return {
      proto: form.proto.value,
      address: form.address.value.trim(),
      shared_port: port(form.shared_port.value),
      assigned_port: port(form.assigned_port.value),
      enabled: form.enabled.checked,
      comment: form.comment.value,
    };
  }

  function setMode(id) {
    editing = id;
    form.classList.toggle("editing", id !== null);
    setText($("form-title"), id === null ? "Add a mapping" : "Edit mapping " + id);
    setText($("f-submit"), id === null ? "Add mapping" : "Save changes");
    $("f-cancel").hidden = id === null;
  }

  function startEdit(id) {
    const m = state.mappings.get(id);
    if (!m) return;
    clearErrors();
    setMode(id);
    form.proto.value = m.proto;
    form.address.value = m.address;
    form.shared_port.value = m.shared_port;
    form.assigned_port.value = m.assigned_port;
    form.comment.value = m.comment || "";
    form.enabled.checked = !!m.enabled;
    form.scrollIntoView({ block: "nearest" });
    form.address.focus();
  }

  function stopEdit() {
    setMode(null);
    form.reset();
    clearErrors();
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors();
    const id = editing;
    const btn = $("f-submit");
    btn.disabled = true;
    try {
      const r = id === null ? await mutate("POST", "/mappings", formBody())
                            : await mutate("PUT", "/mappings/" + id, formBody());
      const done = r.data && r.data.id !== undefined ? r.data.id : id;
      stopEdit();
      if (r.warning) formMsg("Mapping " + done + " is saved but not live yet: " + r.warning, "warn");
      else formMsg(id === null ? "Added mapping " + done + "." : "Saved mapping " + done + ".", "ok");
      poll.now();
    } catch (e) {
      showError(e instanceof ApiError ? e : new ApiError(0, { message: "The daemon did not answer: " + e.message }));
    } finally {
      btn.disabled = false;
    }
  });
  $("f-cancel").addEventListener("click", stopEdit);
  form.addEventListener("input", (ev) => {
    const name = ev.target.name;
    if (FIELDS.includes(name) && ev.target.getAttribute("aria-invalid")) {
      ev.target.removeAttribute("aria-invalid");
      setText($("err-" + name), "");
    }
  });

  async function rowAction(id, method, body) {
    setText($("table-msg"), "");
    try {
      const r = await mutate(method, "/mappings/" + id, body);
      if (r.warning) setText($("table-msg"), "Mapping " + id + " is saved but not live yet: " + r.warning);
      if (method === "DELETE" && editing === id) stopEdit();
    } catch (e) {
      setText($("table-msg"), "Mapping " + id + ": " + e.message);
    }
    poll.now();
  }

  $("filter").addEventListener("input", () => {
    const f = $("filter").value.trim().toLowerCase();
    for (const [id, r] of state.rows) r.tr.hidden = !matches(state.mappings.get(id), f);
  });

  $("token-btn").addEventListener("click", () => askToken(token.get()
    ? "A token is set for this tab. Enter a new one, or forget it."
    : "Changes need the daemon's API token (when the daemon has one)."));

  /* ---- polling --------------------------------------------------------- */

  const get = (url) => request("GET", url).catch(() => null);

  /*
   * Other parts of the page (groups.js, fanout.js) refresh in the same
   * round through portshare.onPoll.  A failing one is logged and the round
   * goes on, so it cannot stop the loop.
   */
  const sections = [];
  const run = (refresh) => refresh().catch((e) => console.error("portshare:", e));

  // One round at a time: the next starts a second after this one started,
  // or at once when it took longer, so a slow daemon is never piled on.
  let timer = null, running = false, again = false;
  async function poll() {
    if (running) { again = true; return; }
    running = true;
    clearTimeout(timer);
    const started = performance.now();
    const [hz, st, ml] = await Promise.all([get("/healthz"), get(API + "/status"), get(LIST), ...sections.map(run)]);
    const now = performance.now();
    const status = st && st.status === 200 ? st.data : null;
    renderHealth(hz, status);
    if (status) renderStatus(status, now);
    else {
      state.samples.push({ t: now, gap: true });
      state.queueRate = new Map();
    }
    if (ml && ml.status === 200) {
      version.seen(ml.etag);
      renderMappings(ml.data, now);
    } else if (ml) setText($("m-count"), "(could not list them: " + errorOf(ml).message + ")");
    drawGraph(now);
    if (status && !performance.getEntriesByName("portshare:first-data").length) performance.mark("portshare:first-data");
    running = false;
    if (again) { again = false; poll(); return; }
    timer = setTimeout(poll, Math.max(0, POLL_MS - (performance.now() - started)));
  }
  poll.now = () => poll();

  // Reads the table at once, for a write that found it changed: the page
  // shows it, and the next write carries its version, before the user can
  // try again.
  async function reload() {
    const [ml] = await Promise.all([get(LIST), ...sections.map(run)]);
    if (!ml || ml.status !== 200) return;
    version.seen(ml.etag);
    renderMappings(ml.data, performance.now());
  }

  /* ---- forms of the other sections ----------------------------------- */

  /*
   * One of groups.js's or fanout.js's forms.  Its inputs are named after
   * the API's JSON fields and their error spans are PREFIX-err-NAME, so an
   * error the API pins on a field is shown next to that field; any other
   * error, or one on a field that is disabled (hidden), goes under the
   * form, in PREFIX-msg.  send(elements) makes the request and resolves to
   * the {text, kind} to show; every try ends with a refresh.
   */
  class ApiForm {
    constructor(id, prefix, send) {
      this.form = $(id);
      this.prefix = prefix;
      this.names = [...this.form.elements].filter((e) => e.name).map((e) => e.name);
      this.form.addEventListener("submit", (ev) => { ev.preventDefault(); this.submit(send); });
      // Typing in a field clears its error; the others stay until the next try.
      this.form.addEventListener("input", (ev) => {
        if (ev.target.name && ev.target.getAttribute("aria-invalid")) this.fieldError(ev.target.name, "");
      });
    }

    fieldError(name, text) {
      setText($(this.prefix + "-err-" + name), text);
      setAttr(this.form.elements[name], "aria-invalid", text ? "true" : null);
    }

    msg(text, kind) {
      const p = $(this.prefix + "-msg");
      setText(p, text);
      p.className = "msg " + kind;
    }

    async submit(send) {
      for (const name of this.names) this.fieldError(name, "");
      this.msg("", "");
      const btn = this.form.querySelector("button[type=submit]");
      btn.disabled = true;
      try {
        const done = await send(this.form.elements);
        this.msg(done.text, done.kind);
      } catch (e) {
        const err = e instanceof ApiError ? e : new ApiError(0, { message: "The daemon did not answer: " + e.message });
        const input = err.field && this.names.includes(err.field) ? this.form.elements[err.field] : null;
        // A hidden field cannot show its error: it goes under the form.
        if (input && !input.disabled) {
          this.fieldError(err.field, err.message);
          input.focus();
        } else {
          this.msg(err.message, "bad");
        }
      } finally {
        btn.disabled = false;
      }
      poll.now();
    }
  }

  // An empty number field is left out, for the API's default; anything else
  // goes as typed when it is not a number, so that the API names the mistake.
  function formNumber(input) {
    const v = input.value.trim();
    if (v === "") return undefined;
    const n = Number(v);
    return Number.isFinite(n) ? n : v;
  }

  // The confirmation of a write, or its warning when it is stored but not live yet.
  const savedMessage = (r, what) => (r.warning ? { text: what + " is saved but not live yet: " + r.warning, kind: "warn" }
                                               : { text: what + ".", kind: "ok" });

  /*
   * What groups.js and fanout.js share, rather than keeping their own
   * copies: the helpers that keep API data out of markup, the formats, the
   * writes that carry the one token and table version, their forms, and
   * the refresh loop.
   */
  window.portshare = Object.freeze({
    el, setText, setAttr, fmtInt, fmtDuration, fmtBytes, fmtRate, fmtAgo, ApiError, errorOf, mutate,
    ApiForm, formNumber, savedMessage,
    get: (url) => get(API + url),
    onPoll: (refresh) => { sections.push(refresh); },
    refresh: () => poll.now(),
  });

  new ResizeObserver(() => drawGraph(performance.now())).observe($("graph"));
  token.set(token.get());
  // Deferred scripts all run before DOMContentLoaded: by the first round,
  // groups.js and fanout.js have joined the loop.
  document.addEventListener("DOMContentLoaded", poll, { once: true });
})();
