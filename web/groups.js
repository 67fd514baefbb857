/*
 * The dashboard's groups section (virtual port multiplexing): each group with
 * its service, policy, counters and backends, whose active flows are drawn
 * live; forms to add groups, backends and source rules; and the flow list.
 * It keeps no loop, token or HTTP code of its own: app.js shares them as
 * window.portshare, and refreshes this section in each of its rounds.  As
 * there, API data reaches the page only through textContent and attributes.
 */
"use strict";
(() => {
  const { el, setText, setAttr, fmtInt, fmtDuration, errorOf, mutate, get, onPoll, refresh, ApiForm, formNumber,
          savedMessage } = window.portshare;
  const $ = (id) => document.getElementById(id);
  const FLOW_PAGE = 50;
  const POLICY = { round_robin: "round robin", least_flows: "least flows", source_hash: "source hash" };
  const STATE_PILL = { active: "ok", drain: "warn", down: "off" };

  const state = {
    groups: new Map(),  // id -> group, as the API last listed it
    cards: new Map(),   // group id -> card object
    rules: new Map(),   // rule id -> rule
    ruleRows: new Map(), // rule id -> <tr>
    flowOffset: 0,
    // The name of a group just added: the backend and rule forms select it
    // once it is listed, as its backends most likely come next.
    pendingGroup: null,
  };

  // IPv6 addresses are bracketed before a port, the way URLs write them.
  const hostPort = (a, p) => (String(a).includes(":") ? "[" + a + "]" : a) + ":" + p;
  const service = (g) => hostPort(g.address === null || g.address === undefined ? "any" : g.address, g.virtual_port) +
    " " + g.proto;

  function button(text, cls, action, label, onClick) {
    const b = el("button", cls, text);
    b.type = "button";
    b.dataset.action = action;
    b.setAttribute("aria-label", label);
    b.addEventListener("click", onClick);
    return b;
  }

  /* ---- forms (ApiForm, formNumber, savedMessage: app.js) ---------------- */

  new ApiForm("group-form", "g", async (f) => {
    const body = {
      name: f.name.value.trim(),
      address: f.address.value.trim() || null,
      virtual_port: formNumber(f.virtual_port),
      proto: f.proto.value,
      policy: f.policy.value,
      max_wait_ms: formNumber(f.max_wait_ms),
      on_timeout: f.on_timeout.value,
      default: f.default.checked,
    };
    if (f.aid.value.trim()) body.aid = f.aid.value.trim();
    const r = await mutate("POST", "/groups", body);
    $("group-form").reset();
    state.pendingGroup = body.name;
    return savedMessage(r, "Added group " + body.name);
  });

  new ApiForm("backend-form", "b", async (f) => {
    const body = { group: f.group.value, port: formNumber(f.port), weight: formNumber(f.weight),
                   max_flows: formNumber(f.max_flows), state: f.state.value };
    const r = await mutate("POST", "/backends", body);
    f.port.value = "";
    return savedMessage(r, "Added backend " + body.port + " to " + body.group);
  });

  new ApiForm("rule-form", "r", async (f) => {
    const body = { cidr: f.cidr.value.trim(), source_ports: f.source_ports.value.trim() || null, group: f.group.value };
    const r = await mutate("POST", "/rules", body);
    f.cidr.value = "";
    f.source_ports.value = "";
    return savedMessage(r, "Added rule " + body.cidr + " → " + body.group);
  });

  // A button's write: its outcome goes to the message under the group list.
  async function act(what, method, path, body) {
    const msg = $("groups-msg");
    setText(msg, "");
    try {
      const r = await mutate(method, path, body);
      if (r.warning) setText(msg, what + " is saved but not live yet: " + r.warning);
    } catch (e) {
      setText(msg, what + ": " + e.message);
    }
    refresh();
  }

  /* ---- group cards ------------------------------------------------------- */

  const COUNTERS = [
    ["active_flows", "active flows", "flows open now, on all its backends"],
    ["flows", "new flows", "flows admitted since the daemon started"],
    ["waits", "waits", "new flows that had to wait for a free backend"],
    ["wait_admitted", "admitted after waiting", "of those, admitted before max wait ran out"],
    ["timeouts", "timeouts", "waited max wait in vain, then refused"],
    ["refused", "refused", "refused without waiting: no wait configured, or the queue or flow table full"],
  ];

  function newCard(id) {
    const art = el("article", "group");
    art.dataset.id = id;
    const c = { art, backends: new Map() };
    const head = el("div", "group-head");
    c.name = el("h3", "group-name");
    c.name.id = "group-" + id + "-name";
    art.setAttribute("aria-labelledby", c.name.id);
    c.service = el("span", "service");
    c.dflt = el("span", "pill ok state", "default");
    c.policy = el("span", "hint");
    c.add = button("Add backend", "small", "add-backend", "", () => {
      const g = state.groups.get(id);
      $("b-group").value = g.name;
      $("b-port").focus();
    });
    c.del = button("Delete group", "small danger", "delete-group", "", () => {
      const g = state.groups.get(id);
      const n = g.backends.length;
      if (confirm("Delete group " + g.name + " (" + service(g) + ") with its " + n + " backend" + (n === 1 ? "" : "s") +
                  " and its rules? Their open flows will break: drain the backends first.")) {
        act("Group " + g.name, "DELETE", "/groups/" + id);
      }
    });
    head.append(c.name, c.service, c.dflt, c.policy, el("span", "spacer"), c.add, c.del);

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

    const table = el("table", "backends");
    const cap = el("caption", "visually-hidden");
    c.caption = cap;
    const tr = el("tr");
    for (const [text, cls, title] of [["id", "num"], ["port", "num"], ["weight", "num"],
      ["max flows", "num", "0: unlimited"], ["state"], ["active flows", "", "open now, and the share of the group's"],
      ["flows", "num", "admitted since the daemon started"], ["actions"]]) {
      const th = el("th", cls || null, text === "actions" ? null : text);
      if (text === "actions") th.append(el("span", "hint", text));
      th.scope = "col";
      if (title) th.title = title;
      tr.append(th);
    }
    table.append(cap, el("thead"), el("tbody"));
    table.tHead.append(tr);
    c.tbody = table.tBodies[0];
    const scroll = el("div", "scroll");
    scroll.append(table);
    c.empty = el("p", "empty", "No backends: this group refuses its new flows until it has one.");
    art.append(head, dl, scroll, c.empty);
    return c;
  }

  function updateCard(c, g) {
    c.art.dataset.name = g.name;
    setText(c.name, g.aid && g.aid !== g.name ? g.name + " (" + g.aid + ")" : g.name);
    setText(c.service, service(g));
    c.dflt.hidden = !g.default;
    const wait = g.max_wait_ms ? "waits up to " + fmtInt(g.max_wait_ms) + " ms, then " + g.on_timeout
                               : "no wait: " + g.on_timeout + " at once";
    setText(c.policy, (POLICY[g.policy] || g.policy) + " · " + wait);
    c.add.setAttribute("aria-label", "Add a backend to group " + g.name);
    c.del.setAttribute("aria-label", "Delete group " + g.name);
    setText(c.caption, "Backends of group " + g.name);
    for (const [key] of COUNTERS) setText(c.counters[key], fmtInt(g[key] || 0));

    const total = g.active_flows || 0;
    const seen = new Set();
    g.backends.forEach((b, i) => {
      seen.add(b.id);
      let r = c.backends.get(b.id);
      if (!r) { r = newBackendRow(b.id); c.backends.set(b.id, r); }
      updateBackendRow(r, b, total);
      if (c.tbody.children[i] !== r.tr) c.tbody.insertBefore(r.tr, c.tbody.children[i] || null);
    });
    for (const [id, r] of c.backends) if (!seen.has(id)) { r.tr.remove(); c.backends.delete(id); }
    c.empty.hidden = g.backends.length !== 0;
  }

  function newBackendRow(id) {
    const tr = el("tr");
    tr.dataset.id = id;
    const r = { tr };
    const add = (key, cls) => {
      const td = el("td", cls);
      td.dataset.col = key;
      tr.append(td);
      return (r[key] = td);
    };
    for (const k of ["id", "port", "weight", "max_flows"]) add(k, "num");
    r.pill = el("span", "pill state");
    add("state").append(r.pill);
    // The bar only repeats the number beside it, so screen readers skip it.
    const bar = el("span", "bar");
    bar.setAttribute("aria-hidden", "true");
    r.fill = el("span", "fill");
    bar.append(r.fill);
    r.active = el("span", "count");
    const share = el("div", "share");
    share.append(r.active, bar);
    add("active_flows", "active").append(share);
    add("flows", "num");
    const box = el("div");
    r.toggle = button("", "small", "", "", () => {
      const b = r.b, what = "Backend " + b.port + " of " + b.group;
      if (b.state === "active") act(what, "POST", "/backends/" + id + "/drain");
      else if (b.state === "drain") act(what, "POST", "/backends/" + id + "/undrain");
      else act(what, "PATCH", "/backends/" + id, { state: "active" });
    });
    r.del = button("Delete", "small danger", "delete-backend", "", () => {
      const b = r.b;
      if (confirm("Delete backend " + b.port + " of group " + b.group + "? Its open flows will break: drain it first.")) {
        act("Backend " + b.port + " of " + b.group, "DELETE", "/backends/" + id);
      }
    });
    box.append(r.toggle, r.del);
    add("actions", "actions").append(box);
    return r;
  }

  function updateBackendRow(r, b, total) {
    r.b = b;
    setText(r.id, b.id);
    setText(r.port, b.port);
    setText(r.weight, b.weight);
    setText(r.max_flows, b.max_flows ? fmtInt(b.max_flows) : "unlimited");
    setText(r.pill, b.state);
    r.pill.className = "pill state " + (STATE_PILL[b.state] || "bad");
    const active = b.active_flows || 0;
    const share = total > 0 ? Math.min(100, 100 * active / total) : 0;
    setText(r.active, fmtInt(active));
    r.fill.style.width = share.toFixed(1) + "%";
    setAttr(r.active, "title", total > 0 ? Math.round(share) + "% of the group's " + fmtInt(total) + " active flows" : null);
    setText(r.flows, fmtInt(b.flows || 0));
    // Drain stops new flows and keeps the open ones; undrain takes new flows
    // again; a backend that is down is brought back as active.
    const verb = b.state === "active" ? "Drain" : b.state === "drain" ? "Undrain" : "Activate";
    setText(r.toggle, verb);
    r.toggle.dataset.action = verb.toLowerCase();
    r.toggle.setAttribute("aria-label", verb + " backend " + b.port + " of group " + b.group);
    r.del.setAttribute("aria-label", "Delete backend " + b.port + " of group " + b.group);
    r.tr.classList.toggle("disabled", b.state !== "active");
  }

  // Keeps a <select> of group names in step with the list, and its choice.
  function syncGroupSelect(select, names, first) {
    const want = (first ? [first] : []).concat(names.map((n) => [n, n]));
    const have = [...select.options].map((o) => [o.value, o.textContent]);
    if (JSON.stringify(want) === JSON.stringify(have)) return;
    const keep = select.value;
    select.replaceChildren(...want.map(([v, t]) => { const o = el("option", null, t); o.value = v; return o; }));
    if (want.some(([v]) => v === keep)) select.value = keep;
  }

  function renderGroups(list) {
    const box = $("groups");
    const seen = new Set();
    list.items.forEach((g, i) => {
      seen.add(g.id);
      state.groups.set(g.id, g);
      let c = state.cards.get(g.id);
      if (!c) { c = newCard(g.id); state.cards.set(g.id, c); }
      updateCard(c, g);
      if (box.children[i] !== c.art) box.insertBefore(c.art, box.children[i] || null);
    });
    for (const [id, c] of state.cards) {
      if (!seen.has(id)) { c.art.remove(); state.cards.delete(id); state.groups.delete(id); }
    }
    let count = "(" + fmtInt(list.total) + ")";
    if (list.total > list.items.length) count = "(first " + fmtInt(list.items.length) + " of " + fmtInt(list.total) + ")";
    setText($("g-count"), count);
    $("g-empty").hidden = list.total !== 0;

    const names = list.items.map((g) => g.name);
    syncGroupSelect($("b-group"), names);
    syncGroupSelect($("r-group"), names);
    syncGroupSelect($("fl-group"), names, ["", "all groups"]);
    if (state.pendingGroup !== null && names.includes(state.pendingGroup)) {
      $("b-group").value = state.pendingGroup;
      $("r-group").value = state.pendingGroup;
      state.pendingGroup = null;
    }
    // Without a group there is nothing to add a backend or a rule to.
    for (const id of ["b-submit", "r-submit"]) $(id).disabled = names.length === 0;
  }

  /* ---- source rules ------------------------------------------------------ */

  function newRuleRow(id) {
    const tr = el("tr");
    tr.dataset.id = id;
    for (const [key, cls] of [["id", "num"], ["cidr"], ["source_ports"], ["group"]]) {
      const td = el("td", cls || null);
      td.dataset.col = key;
      tr.append(td);
    }
    const del = button("Delete", "small danger", "delete-rule", "Delete rule " + id, () => {
      const r = state.rules.get(id);
      if (confirm("Delete rule " + r.cidr + (r.source_ports ? " ports " + r.source_ports : "") + " → " + r.group + "?")) {
        act("Rule " + id, "DELETE", "/rules/" + id);
      }
    });
    const td = el("td", "actions");
    td.append(del);
    tr.append(td);
    return tr;
  }

  function renderRules(list) {
    const tbody = $("rules").tBodies[0];
    const seen = new Set();
    list.items.forEach((r, i) => {
      seen.add(r.id);
      state.rules.set(r.id, r);
      let tr = state.ruleRows.get(r.id);
      if (!tr) { tr = newRuleRow(r.id); state.ruleRows.set(r.id, tr); }
      const [id, cidr, ports, group] = tr.children;
      setText(id, r.id);
      setText(cidr, r.cidr);
      setText(ports, r.source_ports || "any");
      setText(group, r.group);
      if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] || null);
    });
    for (const [id, tr] of state.ruleRows) {
      if (!seen.has(id)) { tr.remove(); state.ruleRows.delete(id); state.rules.delete(id); }
    }
    setText($("r-count"), "(" + fmtInt(list.total) + ")");
    $("r-empty").hidden = list.total !== 0;
  }

  /* ---- flows ------------------------------------------------------------- */

  // Flows come and go every second, so rows are simply rebuilt; the list is
  // read only while it is open.
  function flowsUrl() {
    const q = new URLSearchParams({ limit: FLOW_PAGE, offset: state.flowOffset });
    if ($("fl-group").value) q.set("group", $("fl-group").value);
    if ($("fl-client").value.trim()) q.set("client", $("fl-client").value.trim());
    return "/flows?" + q;
  }

  function renderFlows(list) {
    if (list.total > 0 && state.flowOffset >= list.total) {
      // The page emptied under us (flows ended): the next round reads the last one.
      state.flowOffset = Math.floor((list.total - 1) / FLOW_PAGE) * FLOW_PAGE;
    }
    $("flows").tBodies[0].replaceChildren(...list.items.map((f) => {
      const tr = el("tr");
      for (const [text, cls] of [[f.proto], [hostPort(f.client, f.client_port)],
        [hostPort(f.address, f.virtual_port)], [f.backend_port, "num"], [f.group ?? "(removed)"], [f.state],
        [fmtDuration(f.created_s_ago), "num"], [fmtDuration(f.idle_s), "num"]]) {
        tr.append(el("td", cls || null, text));
      }
      return tr;
    }));
    const filtered = $("fl-group").value || $("fl-client").value.trim();
    setText($("fl-count"), "(" + fmtInt(list.total) + (filtered ? " match" : "") + ")");
    $("fl-empty").hidden = list.items.length !== 0;
    setText($("fl-empty"), filtered ? "No flows match." : "No flows.");
    const from = list.items.length ? list.offset + 1 : 0;
    setText($("fl-page"), fmtInt(from) + "–" + fmtInt(list.offset + list.items.length) + " of " + fmtInt(list.total));
    $("fl-prev").disabled = list.offset === 0;
    $("fl-next").disabled = list.offset + list.items.length >= list.total;
  }

  function page(delta) {
    state.flowOffset = Math.max(0, state.flowOffset + delta);
    refresh();
  }
  $("fl-prev").addEventListener("click", () => page(-FLOW_PAGE));
  $("fl-next").addEventListener("click", () => page(FLOW_PAGE));
  // A new filter starts from its first page.
  for (const id of ["fl-group", "fl-client"]) {
    $(id).addEventListener("input", () => { state.flowOffset = 0; refresh(); });
  }
  $("flow-filter").addEventListener("submit", (ev) => ev.preventDefault());
  $("flows-box").addEventListener("toggle", () => { if ($("flows-box").open) refresh(); });

  $("fl-flush").addEventListener("click", async () => {
    if (!confirm("Flush all flows? Every open connection through a group loses its backend: " +
                 "its next packet is routed as a new flow.")) return;
    const msg = $("fl-msg");
    try {
      const r = await mutate("DELETE", "/flows");
      const n = r.data && typeof r.data.flushed === "number" ? r.data.flushed : 0;
      setText(msg, "Flushed " + fmtInt(n) + " flow" + (n === 1 ? "" : "s") + ".");
      msg.className = "msg ok";
    } catch (e) {
      setText(msg, "Not flushed: " + e.message);
      msg.className = "msg bad";
    }
    refresh();
  });

  /* ---- the refresh --------------------------------------------------------- */

  function failed(r, id) {
    if (r) setText($(id), "(could not list them: " + errorOf(r).message + ")");
  }

  onPoll(async () => {
    const open = $("flows-box").open;
    const [gl, rl, fl] = await Promise.all([get("/groups?limit=1000"), get("/rules?limit=1000"),
                                            open ? get(flowsUrl()) : null]);
    // Groups and mappings share one version, which every write sends as
    // If-Match: app.js takes it from the mapping list it reads in the same
    // round, so this list's ETag is left alone.
    if (gl && gl.status === 200) renderGroups(gl.data); else failed(gl, "g-count");
    if (rl && rl.status === 200) renderRules(rl.data); else failed(rl, "r-count");
    if (fl && fl.status === 200) renderFlows(fl.data); else failed(fl, "fl-count");
    // A client filter the API cannot read (not an address or a network) is marked.
    if (fl) setAttr($("fl-client"), "aria-invalid", fl.status !== 200 && errorOf(fl).field === "client" ? "true" : null);
  });
})();
