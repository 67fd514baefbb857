#!/usr/bin/env python3
"""Traffic through application groups, for tests/net/test_groups.sh.

  groups_checks.py PHASE URL TOKEN_FILE [ARGS...]

Runs in the client namespace; URL is the daemon's API on the server's veth
address, which also serves the virtual ports.  Three TCP servers on the
server, 9001-9003, greet with their names (srv9001...).  The client has the
addresses 198.18.0.10-12 and 198.18.5.10.  Phases:
  policies   round robin spreads 30 connections evenly; least_flows evens out
             long-lived flows and fills the backend that lost its flows;
             source_hash keeps each client on one backend
  rules      a source rule sends one CIDR to group A, the default group B
             takes the rest on the same virtual port; without a default,
             unmatched clients are refused at once
  wait       two backends with max_flows 1: a third client waits and is
             admitted when a slot frees; with none freeing it is refused
             (reset) within max_wait_ms + 100 ms; retransmitted SYNs do not
             queue twice; on_timeout drop leaves the client to its timeout
  drain      a drained backend keeps its connection and takes no new ones
  setup      the group the shell's restart check uses (virtual port 9000)
  active NAME N   backend NAME (srv9001...) shows N active flows
  flows NAME N    GET /api/v1/flows lists N flows pinned to backend NAME
  flush      DELETE /api/v1/flows empties the flow table
  ops NAME [N]    /api/v1/status and /metrics show group keep, its backends
                  and the held flow on backend NAME; with N, that the group
                  and that backend counted N flows and the queues the
                  earlier phases' refusals

Each check prints "PASS what" or "FAIL what (why)", then "DONE" at the end.
Every socket has a timeout and every loop a bound.
"""
import collections
import socket
import sys
import threading
import time

from api_checks import Api, check, sample, scrape

SERVER = "198.18.0.1"
CLIENTS = ["198.18.0.10", "198.18.0.11", "198.18.0.12"]
OTHER_NET = "198.18.5.10"
BACKENDS = [9001, 9002, 9003]


def connect(src, port, timeout=5.0):
    """A connection from src to the server's port, and the server's greeting."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.bind((src, 0))
        s.connect((SERVER, port))
        name = b""
        while not name.endswith(b"\n") and len(name) < 64:
            chunk = s.recv(1)
            if not chunk:
                raise OSError("closed before the greeting")
            name += chunk
        return s, name.decode().strip()
    except BaseException:
        s.close()
        raise


def names(src, port, n):
    """The servers that n successive connections from src reach."""
    got = []
    for _ in range(n):
        s, name = connect(src, port)
        got.append(name)
        s.close()
    return got


def echo_ok(s):
    msg = b"still here\n"
    try:
        s.sendall(msg)
        data = b""
        while len(data) < len(msg):
            chunk = s.recv(len(msg) - len(data))
            if not chunk:
                return False
            data += chunk
        return data == msg
    except OSError:
        return False


def close_all(conns):
    for s, _ in conns:
        s.close()


def make_group(api, body, backends):
    """Creates a group and its backends (ports, or dicts); returns the group's id."""
    r = api.call("POST", "/api/v1/groups", body)
    if not check(r.status == 201, "group %s created" % body["name"], repr(r)):
        return None
    gid = r.json()["id"]
    for b in backends:
        b = dict(b) if isinstance(b, dict) else {"port": b}
        b["group"] = body["name"]
        r = api.call("POST", "/api/v1/backends", b)
        check(r.status == 201, "backend %d of %s created" % (b["port"], body["name"]), repr(r))
    return gid


def delete_group(api, gid):
    r = api.call("DELETE", "/api/v1/groups/%d" % gid)
    check(r.status in (200, 204), "group %d deleted" % gid, repr(r))


def group(api, gid):
    r = api.call("GET", "/api/v1/groups/%d" % gid)
    return r.json() if r.status == 200 else None


def backend_of(g, name):
    """The backend object of group g that server name (srv9001) is."""
    for b in g["backends"]:
        if "srv%d" % b["port"] == name:
            return b
    return None


def wait_active(api, gid, name, want, seconds=5.0):
    """Waits until backend name of group gid shows want active flows."""
    deadline = time.monotonic() + seconds
    seen = None
    while time.monotonic() < deadline:
        g = group(api, gid)
        b = backend_of(g, name) if g else None
        seen = b["active_flows"] if b else None
        if seen == want:
            return True, seen
        time.sleep(0.05)
    return False, seen


def flush(api):
    r = api.call("DELETE", "/api/v1/flows")
    return r.status == 200


def phase_policies(api):
    gid = make_group(api, {"name": "web", "virtual_port": 9000, "policy": "round_robin", "default": True},
                     BACKENDS)
    if gid is None:
        return
    got = collections.Counter(names(CLIENTS[0], 9000, 30))
    check(sorted(got.values()) == [10, 10, 10] and len(got) == 3,
          "round_robin: 30 connections land 10 on each backend", dict(got))

    r = api.call("PATCH", "/api/v1/groups/%d" % gid, {"policy": "least_flows"})
    check(r.status == 200, "policy switched to least_flows", repr(r))
    flush(api)
    held = [connect(CLIENTS[0], 9000) for _ in range(30)]
    got = collections.Counter(name for _, name in held)
    check(sorted(got.values()) == [10, 10, 10],
          "least_flows: 30 long-lived flows land 10 on each backend", dict(got))
    g = group(api, gid)
    check(g is not None and all(b["active_flows"] == 10 for b in g["backends"]),
          "least_flows: each backend shows 10 active flows",
          g and [b["active_flows"] for b in g["backends"]])
    r = api.call("GET", "/api/v1/flows?group=web&limit=1000")
    items = r.json()["items"] if r.status == 200 else []
    pinned = collections.Counter("srv%d" % f["backend_port"] for f in items)
    check(pinned == got, "the flow list shows each flow on the backend that answered it",
          "%s vs %s" % (dict(pinned), dict(got)))
    # The backend that loses its flows is the least loaded: it takes all
    # the next ones.
    emptied = "srv9001"
    close_all([c for c in held if c[1] == emptied])
    held = [c for c in held if c[1] != emptied]
    ok, seen = wait_active(api, gid, emptied, 0)
    check(ok, "least_flows: closed connections leave %s with 0 active flows" % emptied, seen)
    more = [connect(CLIENTS[0], 9000) for _ in range(10)]
    got = collections.Counter(name for _, name in more)
    check(got == {emptied: 10}, "least_flows: the emptied backend takes the next 10 flows",
          dict(got))
    close_all(held + more)

    r = api.call("PATCH", "/api/v1/groups/%d" % gid, {"policy": "source_hash"})
    check(r.status == 200, "policy switched to source_hash", repr(r))
    per_client = {c: collections.Counter(names(c, 9000, 10)) for c in CLIENTS}
    check(all(len(v) == 1 for v in per_client.values()),
          "source_hash: each client's 10 connections land on one backend",
          {c: dict(v) for c, v in per_client.items()})
    again = {c: names(c, 9000, 1)[0] for c in CLIENTS}
    check(all(per_client[c][again[c]] == 10 for c in CLIENTS),
          "source_hash: a later connection lands on the same backend", again)
    g = group(api, gid)
    check(g is not None and g["flows"] >= 30 + 30 + 10 + 33,
          "the group counted every new flow", g and g["flows"])
    delete_group(api, gid)


def refused(src, port, timeout=3.0):
    """(outcome, seconds): "refused", "timeout" or "connected"."""
    t0 = time.monotonic()
    try:
        s, _ = connect(src, port, timeout)
        s.close()
        return "connected", time.monotonic() - t0
    except ConnectionRefusedError:
        return "refused", time.monotonic() - t0
    except (socket.timeout, TimeoutError):
        return "timeout", time.monotonic() - t0


def phase_rules(api):
    a = make_group(api, {"name": "a", "virtual_port": 9200}, [9001])
    b = make_group(api, {"name": "b", "virtual_port": 9200, "default": True}, [9002])
    if a is None or b is None:
        return
    r = api.call("POST", "/api/v1/rules", {"cidr": "198.18.5.0/24", "group": "a"})
    check(r.status == 201, "rule 198.18.5.0/24 -> a created", repr(r))
    got = collections.Counter(names(OTHER_NET, 9200, 10))
    check(got == {"srv9001": 10}, "clients of 198.18.5.0/24 always land on group a", dict(got))
    got = collections.Counter(names(CLIENTS[0], 9200, 5) + names(CLIENTS[1], 9200, 5))
    check(got == {"srv9002": 10}, "other clients land on the default group b", dict(got))
    ga = group(api, a)
    check(ga is not None and ga["flows"] == 10, "group a counted its 10 flows",
          ga and ga["flows"])
    delete_group(api, b)
    outcome, took = refused(CLIENTS[0], 9200)
    check(outcome == "refused" and took < 1.0,
          "without a default group an unmatched client is refused at once",
          "%s after %.2f s" % (outcome, took))
    check(names(OTHER_NET, 9200, 1) == ["srv9001"], "group a still takes its clients")
    delete_group(api, a)


def phase_wait(api):
    gid = make_group(api, {"name": "w", "virtual_port": 9300, "max_wait_ms": 700, "default": True},
                     [{"port": 9001, "max_flows": 1}, {"port": 9002, "max_flows": 1}])
    if gid is None:
        return
    full = [connect(CLIENTS[0], 9300) for _ in range(2)]
    check(sorted(n for _, n in full) == ["srv9001", "srv9002"],
          "two clients fill the two single-flow backends", [n for _, n in full])

    # A third client waits; closing one connection lets it in.
    result = {}

    def third():
        t0 = time.monotonic()
        try:
            result["conn"] = connect(CLIENTS[1], 9300, 3.0)
        except OSError as e:
            result["error"] = repr(e)
        result["took"] = time.monotonic() - t0

    t = threading.Thread(target=third)
    t.start()
    time.sleep(0.3)
    freed = full.pop(0)
    freed[0].close()
    t.join(5)
    conn = result.get("conn")
    check(conn is not None and conn[1] == freed[1] and 0.25 < result["took"] < 0.7,
          "a waiting client is admitted when a slot frees, before max_wait_ms",
          result)
    if conn:
        full.append(conn)
    # Nothing frees now: refused within max_wait_ms + 100 ms, with a reset.
    outcome, took = refused(CLIENTS[2], 9300)
    check(outcome == "refused" and 0.6 < took < 0.8,
          "with no slot freeing the client gets a reset within max_wait_ms + 100 ms",
          "%s after %.3f s" % (outcome, took))
    g = group(api, gid)
    check(g is not None and g["waits"] == 2 and g["wait_admitted"] == 1
          and g["timeouts"] == 1, "the group counted 2 waits, 1 admitted, 1 timeout",
          g and {k: g[k] for k in ("waits", "wait_admitted", "timeouts")})
    _, fams = scrape(api)
    got = {k: sample(fams, "portshare_group_" + k, "portshare_group_%s_total" % k, group="w")
           for k in ("waits", "wait_admitted", "timeouts")}
    check(got == {"waits": 2, "wait_admitted": 1, "timeouts": 1},
          "/metrics shows the same waits, admissions and timeouts for group w", got)

    # A wait longer than the first SYN retransmission (1 s): the
    # retransmitted SYN must not queue a second time.
    r = api.call("PATCH", "/api/v1/groups/%d" % gid, {"max_wait_ms": 1500})
    check(r.status == 200, "max_wait_ms raised to 1500", repr(r))
    outcome, took = refused(CLIENTS[2], 9300)
    g2 = group(api, gid)
    check(outcome == "refused" and 1.4 < took < 1.6,
          "a client waiting through a SYN retransmission is refused after 1.5 s",
          "%s after %.3f s" % (outcome, took))
    check(g2 is not None and g2["waits"] == 3 and g2["timeouts"] == 2,
          "its retransmitted SYN did not queue twice",
          g2 and {k: g2[k] for k in ("waits", "timeouts")})

    r = api.call("PATCH", "/api/v1/groups/%d" % gid,
                 {"max_wait_ms": 300, "on_timeout": "drop"})
    check(r.status == 200, "on_timeout switched to drop", repr(r))
    outcome, took = refused(CLIENTS[2], 9300, timeout=1.5)
    check(outcome == "timeout", "on_timeout drop: the client hears nothing",
          "%s after %.3f s" % (outcome, took))
    close_all(full)
    delete_group(api, gid)


def phase_drain(api):
    gid = make_group(api, {"name": "d", "virtual_port": 9400, "default": True}, BACKENDS)
    if gid is None:
        return
    s, name = connect(CLIENTS[0], 9400)
    g = group(api, gid)
    b = backend_of(g, name) if g else None
    if not check(b is not None, "the held connection's backend is known", name):
        return
    r = api.call("POST", "/api/v1/backends/%d/drain" % b["id"])
    check(r.status == 200 and r.json().get("state") == "drain",
          "backend %s drained" % name, repr(r))
    check(echo_ok(s), "the drained backend keeps its open connection")
    got = collections.Counter(names(CLIENTS[1], 9400, 12))
    check(name not in got and sum(got.values()) == 12,
          "the drained backend receives no new connections", dict(got))
    g = group(api, gid)
    b2 = backend_of(g, name) if g else None
    check(b2 is not None and b2["active_flows"] == 1 and b2["state"] == "drain",
          "the drained backend still counts its one flow", b2)
    check(echo_ok(s), "the connection still works after the others came and went")
    r = api.call("POST", "/api/v1/backends/%d/undrain" % b["id"])
    check(r.status == 200 and r.json().get("state") == "active", "backend undrained", repr(r))
    got = collections.Counter(names(CLIENTS[1], 9400, 9))
    check(got.get(name, 0) >= 1, "an undrained backend takes new connections again",
          dict(got))
    s.close()
    delete_group(api, gid)


def phase_setup(api):
    make_group(api, {"name": "keep", "virtual_port": 9000, "default": True}, BACKENDS)


def find_backend(api, name):
    r = api.call("GET", "/api/v1/backends?limit=1000")
    for b in r.json()["items"] if r.status == 200 else []:
        if "srv%d" % b["port"] == name:
            return b
    return None


def phase_active(api, name, want):
    b = find_backend(api, name)
    check(b is not None and b["active_flows"] == want,
          "backend %s shows %d active flows" % (name, want), b)


def phase_flows(api, name, want):
    r = api.call("GET", "/api/v1/flows?limit=1000")
    # Connections of the earlier phases linger a few seconds as "closing".
    items = [f for f in (r.json()["items"] if r.status == 200 else [])
             if f["state"] != "closing"]
    mine = [f for f in items if "srv%d" % f["backend_port"] == name]
    check(len(mine) == want and len(items) == want,
          "the flow list shows %d open flows, pinned to %s" % (want, name), items)


def phase_flush(api):
    r = api.call("DELETE", "/api/v1/flows")
    check(r.status == 200 and isinstance(r.json().get("flushed"), int),
          "DELETE /api/v1/flows flushes", repr(r))
    r = api.call("GET", "/api/v1/flows")
    check(r.status == 200 and r.json()["total"] == 0, "no flow is left", repr(r))


def phase_ops(api, name, want_total=None):
    """Group keep (phase setup) holds one open flow, on backend name.

    With want_total (the daemon that ran the earlier phases), its counters
    are checked too: the flows of keep and the queues' refusals.
    """
    r = api.call("GET", "/api/v1/status", auth=False)
    st = r.json() if r.status == 200 else {}
    g = st.get("groups") or {}
    check(g.get("groups") == 1 and g.get("backends") == 3 and g.get("rules") == 0,
          "/api/v1/status counts 1 group, its 3 backends and no rule", g)
    check(isinstance(g.get("flows"), int) and g["flows"] >= 1
          and g.get("flow_capacity", 0) >= 65536 and g.get("flows_refused") == 0,
          "/api/v1/status shows the flow table: the held flow, its capacity, no refusal", g)
    try:
        _, fams = scrape(api)
    except Exception as e:  # the parser raises ValueError and friends on bad text
        check(False, "/metrics parses with prometheus_client", e)
        return
    port = name[len("srv"):]
    fam = fams.get("portshare_backend_active_flows")
    active = {s.labels["port"]: (s.value, s.labels["state"])
              for s in (fam.samples if fam else []) if s.labels.get("group") == "keep"}
    want = {str(p): (1 if str(p) == port else 0, "active") for p in BACKENDS}
    check(active == want, "portshare_backend_active_flows is 1 for %s, 0 for the others" % name,
          active)
    check(sample(fams, "portshare_group_active_flows", "portshare_group_active_flows",
                 group="keep") == 1, "portshare_group_active_flows of keep is 1")
    check(sample(fams, "portshare_groups", "portshare_groups") == g.get("groups")
          and sample(fams, "portshare_backends", "portshare_backends") == g.get("backends")
          and sample(fams, "portshare_flow_capacity", "portshare_flow_capacity")
          == g.get("flow_capacity"),
          "the group totals of /metrics agree with /api/v1/status")
    if want_total is None:
        return
    flows = sample(fams, "portshare_backend_flows", "portshare_backend_flows_total",
                   group="keep", port=port, state="active")
    total = sample(fams, "portshare_group_flows", "portshare_group_flows_total", group="keep")
    check(flows == want_total and total == want_total,
          "backend %s and group keep counted %d flows" % (name, want_total), (flows, total))
    queues = st.get("queues") or []
    no_route = sum(q.get("no_route", 0) for q in queues)
    refusals = sum(q.get("refusals", 0) for q in queues)
    check(no_route >= 1 and refusals >= 1,
          "the queues counted the earlier phases' unrouted flows and refusals",
          {"no_route": no_route, "refusals": refusals})
    fam = fams.get("portshare_queue_no_route")
    m_no_route = sum(s.value for s in fam.samples) if fam else None
    check(m_no_route == no_route, "portshare_queue_no_route_total agrees with the status",
          (m_no_route, no_route))


def main():
    phase, url, token_file = sys.argv[1:4]
    args = sys.argv[4:]
    with open(token_file) as f:
        api = Api(url, f.read().strip())
    phases = {
        "policies": lambda: phase_policies(api),
        "rules": lambda: phase_rules(api),
        "wait": lambda: phase_wait(api),
        "drain": lambda: phase_drain(api),
        "setup": lambda: phase_setup(api),
        "active": lambda: phase_active(api, args[0], int(args[1])),
        "flows": lambda: phase_flows(api, args[0], int(args[1])),
        "flush": lambda: phase_flush(api),
        "ops": lambda: phase_ops(api, args[0], int(args[1]) if len(args) > 1 else None),
    }
    phases[phase]()
    print("DONE")


if __name__ == "__main__":
    main()
