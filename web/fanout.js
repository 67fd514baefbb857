/*
 * The dashboard's UDP fan-out section (issue 5): each contested port with
 * its registration port, its enabled state and its live datagram count and
 * rate, and its subscribers with their live copy counters; forms to add a
 * contested port and a subscriber.  Like groups.js it keeps no loop, token or
 * HTTP code of its own: app.js shares them as window.portshare and refreshes
 * this section in each of its rounds, and API data reaches the page only
 * through textContent and attributes.
 */
"use strict";
(() => {
  const { el, setText, setAttr, fmtInt, fmtBytes, fmtRate, fmtAgo, mutate, get, errorOf, onPoll, refresh, ApiForm,
          formNumber, savedMessage } = window.portshare;
  const $ = (id) => document.getElementById(id);
  // The API lists at most this many rows at once; a contested port takes at
  // most 256 subscribers, so a page this size holds every usual setup.
  const LIMIT = 1000;
  const MODE = { raw: "raw", spoof: "spoof", framed_udp: "framed, UDP", framed_tcp: "framed, TCP",
                 framed_unix: "framed, Unix socket" };
  const MODE_HINT = {
    raw: "raw: each copy is the datagram's payload, sent in a UDP datagram from the registration port.",
    spoof: "spoof: each copy is the datagram as it came, its source address and port kept, " +
           "so the subscriber sees the real sender.",
    framed_udp: "framed, UDP: each copy is a 28-byte header (the sender's address and port, the contested port, the length) and the payload, in a UDP datagram.",
    framed_tcp: "framed, TCP: header and payload, as a stream over one TCP connection to the subscriber.",
    framed_unix: "framed, Unix socket: header and payload, as a datagram on the Unix socket at that path; " +
                 "there is no port.",
  };

  const state = {
    ports: new Map(),    // contested port id -> item, as the API last listed it
    cards: new Map(),    // contested port id -> card object
    prevPorts: new Map(), // contested port id -> {t, value: datagrams}, for the rate
    prevSubs: new Map(), // subscriber id -> {t, value: copies}
    // The port number just added: the subscriber form selects it once it is
    // listed, as its subscribers most likely come next.
    pendingPort: null,
  };

  // IPv6 addresses are bracketed before a port, the way URLs write them.
  const hostPort = (a, p) => (String(a).includes(":") ? "[" + a + "]" : a) + ":" + p;
  const where = (c) => (c.address === null || c.address === undefined ? "every local address" : c.address);
  // A Unix socket subscriber is its path; the others an address and a port.
  const target = (s) => (s.mode === "framed_unix" ? s.address : hostPort(s.address, s.port));

  function button(text, cls, action, onClick) {
    const b = el("button", cls, text);
    b.type = "button";
    b.dataset.action = action;
    b.addEventListener("click", onClick);
    return b;
  }

  // Rate per second of a counter since the previous round; none on the first
  // round, nor when the counter went backwards (the daemon restarted).
  function rate(prev, next, id, value, now) {
    const p = prev.get(id);
    next.set(id, { t: now, value });
    return p && now > p.t && value >= p.value ? (value - p.value) * 1000 / (now - p.t) : null;
  }

  /* ---- forms (ApiForm, formNumber, savedMessage: app.js) ---------------- */

  new ApiForm("contested-form", "c", async (f) => {
    const body = { port: formNumber(f.port), enabled: f.enabled.checked };
    if (f.address.value.trim()) body.address = f.address.value.trim();
    if (formNumber(f.registration_port) !== undefined) body.registration_port = formNumber(f.registration_port);
    const r = await mutate("POST", "/contested", body);
    $("contested-form").reset();
    state.pendingPort = body.port;
    const reg = r.data && r.data.registration_port ? " (registration port " + r.data.registration_port + ")" : "";
    return savedMessage(r, "Added contested port " + body.port + reg);
  });

  new ApiForm("subscriber-form", "s", async (f) => {
    const unix = f.mode.value === "framed_unix";
    const body = { contested_port: formNumber(f.contested_port), mode: f.mode.value, address: f.address.value.trim(),
                   sample_every: formNumber(f.sample_every) };
    if (!unix) body.port = formNumber(f.port);
    const r = await mutate("POST", "/subscribers", body);
    // The next subscriber most likely differs in its port, or for a socket in its path.
    if (unix) f.address.value = ""; else f.port.value = "";
    return savedMessage(r, "Added subscriber " + target(body) + " to port " + body.contested_port);
  });

  // A Unix socket subscriber has a path where the others have an address,
  // and no port: the port field is hidden and disabled, so that it is
  // neither sent nor reached by the keyboard.
  function syncMode() {
    const mode = $("s-mode").value, unix = mode === "framed_unix";
    $("s-port-field").hidden = unix;
    $("s-port").disabled = unix;
    setText($("s-address-label"), unix ? "socket path" : "address");
    $("s-address").placeholder = unix ? "/run/snmptrapd/copies.sock" : "127.0.0.1";
    setText($("s-mode-hint"), MODE_HINT[mode] || "");
  }
  $("s-mode").addEventListener("change", syncMode);
  syncMode();

  // A button's write: its outcome goes to the message under the form.
  async function act(what, method, path, body) {
    const msg = $("fanout-msg");
    setText(msg, "");
    try {
      const r = await mutate(method, path, body);
      if (r.warning) setText(msg, what + " is saved but not live yet: " + r.warning);
    } catch (e) {
      setText(msg, what + ": " + e.message);
    }
    refresh();
  }

  /* ---- contested port cards ---------------------------------------------- */

  const COUNTERS = [
    ["datagrams", "datagrams", "datagrams seen on the port since the daemon started"],
    ["rate", "datagrams/s", "since the previous refresh"],
    ["bytes", "bytes", "payload bytes of those datagrams"],
    ["subscribers", "subscribers", "subscribers that get copies, made here or by the registration protocol"],
  ];

  const SUB_COLS = [
    ["id", "id", "num"], ["target", "subscriber"], ["mode", "mode"],
    ["sample_every", "sampling", "", "how many of the port's datagrams make one copy"],
    ["copies", "copies", "num", "copies sent"], ["rate", "copies/s", "num", "since the previous refresh"],
    ["bytes", "bytes", "num", "payload bytes of the copies sent"],
    ["errors", "errors", "num", "sends that failed: unreachable, refused, no route"],
    ["drops", "drops", "num", "copies not sent because the subscriber could not take them " +
                              "(socket full, TCP not connected)"],
    ["last_sent", "last sent"], ["actions"],
  ];

  function newCard(id) {
    const art = el("article", "contested");
    art.dataset.id = id;
    const c = { art, subs: new Map() };
    const head = el("div", "group-head");
    c.name = el("h3", "group-name");
    c.name.id = "contested-" + id + "-name";
    art.setAttribute("aria-labelledby", c.name.id);
    c.where = el("span", "service");
    c.reg = el("span", "hint");
    c.pill = el("span", "pill state");
    c.toggle = button("", "small", "toggle", () => {
      const p = state.ports.get(id);
      act("Contested port " + p.port, "PATCH", "/contested/" + id, { enabled: !p.enabled });
    });
    c.add = button("Add subscriber", "small", "add-subscriber", () => {
      $("s-contested_port").value = String(state.ports.get(id).port);
      $("s-address").focus();
    });
    c.del = button("Delete", "small danger", "delete-contested", () => {
      const p = state.ports.get(id), n = p.subscribers || 0;
      if (confirm("Stop sharing UDP port " + p.port + " on " + where(p) + " and delete its " + n + " subscriber" +
                  (n === 1 ? "" : "s") + "? Subscribers that registered themselves get a SHUTDOWN notice.")) {
        act("Contested port " + p.port, "DELETE", "/contested/" + id);
      }
    });
    head.append(c.name, c.where, c.reg, c.pill, el("span", "spacer"), c.toggle, c.add, c.del);

    const dl = el("dl", "counters");
    c.counters = {};
    for (const [key, label, title] of COUNTERS) {
      const div = el("div");
      const dt = el("dt", null, label);
      dt.title = title;
      c.counters[key] = el("dd");
      c.counters[key].dataset.counter = key;
      div.append(dt, c.counters[key]);
      dl.append(div);
    }

    const table = el("table", "subscribers");
    c.caption = el("caption", "visually-hidden");
    const tr = el("tr");
    for (const [, text, cls, title] of SUB_COLS) {
      const th = el("th", cls || null, text === "actions" ? null : text);
      if (text === "actions") th.append(el("span", "hint", text));
      th.scope = "col";
      if (title) th.title = title;
      tr.append(th);
    }
    table.append(c.caption, el("thead"), el("tbody"));
    table.tHead.append(tr);
    c.tbody = table.tBodies[0];
    const scroll = el("div", "scroll");
    scroll.append(table);
    c.empty = el("p", "empty", "No subscribers: datagrams reach the local listener only.");
    art.append(head, dl, scroll, c.empty);
    return c;
  }

  function updateCard(c, p, subs, rates) {
    const name = "UDP port " + p.port;
    c.art.dataset.port = p.port;
    setText(c.name, name);
    setText(c.where, "on " + where(p));
    setText(c.reg, "registration port " + p.registration_port);
    setText(c.pill, p.enabled ? "enabled" : "disabled");
    c.pill.className = "pill state " + (p.enabled ? "ok" : "off");
    setText(c.toggle, p.enabled ? "Disable" : "Enable");
    c.toggle.setAttribute("aria-label", (p.enabled ? "Disable " : "Enable ") + name);
    c.add.setAttribute("aria-label", "Add a subscriber to " + name);
    c.del.setAttribute("aria-label", "Delete " + name);
    c.art.classList.toggle("disabled", !p.enabled);
    setText(c.counters.datagrams, fmtInt(p.datagrams || 0));
    setText(c.counters.rate, fmtRate(rates.port));
    setText(c.counters.bytes, fmtBytes(p.bytes || 0));
    setAttr(c.counters.bytes, "title", fmtInt(p.bytes || 0) + " bytes");
    setText(c.counters.subscribers, fmtInt(p.subscribers || 0));
    setText(c.caption, "Subscribers of " + name);

    const seen = new Set();
    subs.forEach((s, i) => {
      seen.add(s.id);
      let r = c.subs.get(s.id);
      if (!r) { r = newSubRow(s.id); c.subs.set(s.id, r); }
      updateSubRow(r, s, rates.subs.get(s.id));
      if (c.tbody.children[i] !== r.tr) c.tbody.insertBefore(r.tr, c.tbody.children[i] || null);
    });
    for (const [id, r] of c.subs) if (!seen.has(id)) { r.tr.remove(); c.subs.delete(id); }
    c.empty.hidden = subs.length !== 0;
  }

  function newSubRow(id) {
    const tr = el("tr");
    tr.dataset.id = id;
    const r = { tr };
    for (const [key, , cls] of SUB_COLS) {
      const td = el("td", key === "actions" ? "actions" : cls || null);
      td.dataset.col = key;
      tr.append(td);
      r[key] = td;
    }
    r.addr = el("span", "service");
    r.badge = el("span", "pill state badge", "registered");
    r.badge.title = "it subscribed itself through the registration protocol";
    r.target.append(r.addr, r.badge);
    r.time = el("time");
    r.last_sent.append(r.time);
    r.del = button("Delete", "small danger", "delete-subscriber", () => {
      const s = r.s;
      const also = s.registered ? " It registered itself, and may register again." : "";
      if (confirm("Delete subscriber " + target(s) + " of UDP port " + s.contested_port + "?" + also)) {
        act("Subscriber " + target(s), "DELETE", "/subscribers/" + id);
      }
    });
    const box = el("div");
    box.append(r.del);
    r.actions.append(box);
    return r;
  }

  function updateSubRow(r, s, copyRate) {
    r.s = s;
    r.tr.dataset.target = target(s);
    setText(r.id, s.id);
    setText(r.addr, target(s));
    r.badge.hidden = !s.registered;
    setText(r.mode, MODE[s.mode] || s.mode);
    setText(r.sample_every, s.sample_every > 1 ? "1 in " + fmtInt(s.sample_every) : "every datagram");
    setText(r.copies, fmtInt(s.copies || 0));
    setText(r.rate, fmtRate(copyRate));
    setText(r.bytes, fmtBytes(s.bytes || 0));
    setAttr(r.bytes, "title", fmtInt(s.bytes || 0) + " bytes");
    setText(r.errors, fmtInt(s.errors || 0));
    r.errors.classList.toggle("alarm", s.errors > 0);
    setText(r.drops, fmtInt(s.drops || 0));
    r.drops.classList.toggle("alarm", s.drops > 0);
    setText(r.time, fmtAgo(s.last_sent));
    setAttr(r.time, "datetime", s.last_sent || null);
    setAttr(r.time, "title", s.last_sent ? new Date(s.last_sent).toLocaleString() : null);
    r.del.setAttribute("aria-label", "Delete subscriber " + target(s) + " of UDP port " + s.contested_port);
  }

  // Keeps the subscriber form's choice of contested port in step with the list.
  function syncPortSelect(items) {
    const select = $("s-contested_port");
    const want = [];
    for (const p of items) {
      if (!want.some(([v]) => v === String(p.port))) {
        want.push([String(p.port), p.address === null || p.address === undefined ? String(p.port)
                                                                                 : p.port + " on " + p.address]);
      }
    }
    const have = [...select.options].map((o) => [o.value, o.textContent]);
    if (JSON.stringify(want) !== JSON.stringify(have)) {
      const keep = select.value;
      select.replaceChildren(...want.map(([v, t]) => { const o = el("option", null, t); o.value = v; return o; }));
      if (want.some(([v]) => v === keep)) select.value = keep;
    }
    if (state.pendingPort !== null && want.some(([v]) => v === String(state.pendingPort))) {
      select.value = String(state.pendingPort);
      state.pendingPort = null;
    }
    // Without a contested port there is nothing to subscribe to.
    $("s-submit").disabled = want.length === 0;
  }

  function render(list, subList, now) {
    // Subscribers name their contested port by its number; when one number
    // is contested on several addresses, its first card shows them.
    const byPort = new Map();
    for (const s of subList.items) {
      if (!byPort.has(s.contested_port)) byPort.set(s.contested_port, []);
      byPort.get(s.contested_port).push(s);
    }
    const prevPorts = new Map(), prevSubs = new Map();
    const box = $("contested");
    const seen = new Set();
    list.items.forEach((p, i) => {
      seen.add(p.id);
      state.ports.set(p.id, p);
      const subs = byPort.get(p.port) || [];
      byPort.delete(p.port);
      const rates = { port: rate(state.prevPorts, prevPorts, p.id, p.datagrams || 0, now), subs: new Map() };
      for (const s of subs) rates.subs.set(s.id, rate(state.prevSubs, prevSubs, s.id, s.copies || 0, now));
      let c = state.cards.get(p.id);
      if (!c) { c = newCard(p.id); state.cards.set(p.id, c); }
      updateCard(c, p, subs, rates);
      if (box.children[i] !== c.art) box.insertBefore(c.art, box.children[i] || null);
    });
    state.prevPorts = prevPorts;
    state.prevSubs = prevSubs;
    for (const [id, c] of state.cards) {
      if (!seen.has(id)) { c.art.remove(); state.cards.delete(id); state.ports.delete(id); }
    }
    let count = "(" + fmtInt(list.total) + ")";
    if (list.total > list.items.length) count = "(first " + fmtInt(list.items.length) + " of " + fmtInt(list.total) + ")";
    setText($("c-count"), count);
    $("c-empty").hidden = list.total !== 0;
    syncPortSelect(list.items);
  }

  onPoll(async () => {
    const [cl, sl] = await Promise.all([get("/contested?limit=" + LIMIT), get("/subscribers?limit=" + LIMIT)]);
    // Fan-out shares the mappings' table version, which app.js takes from
    // the mapping list it reads in the same round: these ETags are left alone.
    if (cl && cl.status === 200 && sl && sl.status === 200) render(cl.data, sl.data, performance.now());
    else {
      const bad = cl && cl.status !== 200 ? cl : sl && sl.status !== 200 ? sl : null;
      if (bad) setText($("c-count"), "(could not list them: " + errorOf(bad).message + ")");
    }
  });
})();
