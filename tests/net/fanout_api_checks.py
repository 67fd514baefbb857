#!/usr/bin/env python3
"""The REST API of UDP fan-out, for tests/net/test_fanout_api.sh.

  fanout_api_checks.py PHASE URL TOKEN_FILE

Phases, run in this order against one daemon:
  crud      contested ports and subscribers: create, read, replace, patch,
            delete; defaults, canonical addresses, the registration port
            derived, a contested port named by number, every mode
  errors    400, 404, 405, 409, 412, 413, 415 and 422, each with the API's
            error object naming the field; the refused writes change nothing
  cascade   deleting a contested port deletes its subscribers, no others
  auth      every write of these resources without the token: 401, nothing
            changed; every read without it: 200
  paging    limit and offset over 12 contested ports and 12 subscribers,
            the filters narrowing the total
  kept      (after a restart) what crud and paging made is still there
  openapi   the API document against the route table (api_checks' phase)

Each check prints "PASS what" or "FAIL what (why)"; the last line is
"DONE", so a phase that dies half way is noticed.
"""
import sys

from api_checks import Api, check, etag_version, is_error, phase_openapi

PORT_KEYS = {"id", "port", "address", "registration_port", "enabled", "subscribers", "datagrams",
             "bytes"}
SUB_KEYS = {"id", "contested_port", "address", "port", "mode", "sample_every", "registered", "copies",
            "bytes", "errors", "drops", "last_sent"}
PAGE_KEYS = {"items", "total", "limit", "offset"}
MINE = ("/api/v1/contested", "/api/v1/subscribers")
# The contested ports crud leaves behind, which kept looks for after the restart.
TRAPS, SYSLOG = 162, 514


def body(r):
    return r.json() or {}


def items(api, path):
    return body(api.call("GET", path, auth=False)).get("items", [])


def find_port(api, port):
    found = items(api, "/api/v1/contested?port=%d" % port)
    return found[0] if found else None


def subs_of(api, port):
    return items(api, "/api/v1/subscribers?contested_port=%d&limit=1000" % port)


def snapshot(api):
    """Every contested port and subscriber, as the API lists them."""
    return [items(api, p + "?limit=1000") for p in MINE]


# ---- crud ---------------------------------------------------------------------

def phase_crud(api):
    r = api.call("POST", "/api/v1/contested", {"port": TRAPS})
    traps = body(r)
    pid = traps.get("id")
    check(r.status == 201 and r.headers.get("location") == "/api/v1/contested/%s" % pid
          and etag_version(r) is not None, "POST a contested port: 201, Location, ETag", r)
    check(set(traps) == PORT_KEYS, "a contested port has exactly the documented keys", sorted(traps))
    check(traps.get("port") == TRAPS and traps.get("address") is None
          and traps.get("registration_port") == TRAPS + 13000 and traps.get("enabled") is True
          and traps.get("subscribers") == 0 and traps.get("datagrams") == 0 and traps.get("bytes") == 0,
          "its defaults: every local address, registration port + 13000, enabled, no counts", traps)
    r = api.call("GET", "/api/v1/contested/%s" % pid, auth=False)
    check(r.status == 200 and body(r) == traps and etag_version(r) is not None,
          "GET it without the token answers the same object with an ETag", r)

    r = api.call("POST", "/api/v1/contested", {"port": SYSLOG, "address": "127.0.0.1",
                                               "registration_port": 1514, "enabled": False})
    syslog = body(r)
    check(r.status == 201 and syslog.get("address") == "127.0.0.1"
          and syslog.get("registration_port") == 1514 and syslog.get("enabled") is False,
          "POST a contested port with every field", r)
    r = api.call("PATCH", "/api/v1/contested/%s" % syslog.get("id"), {"enabled": True})
    check(r.status == 200 and body(r).get("enabled") is True and body(r).get("registration_port") == 1514
          and body(r).get("address") == "127.0.0.1", "PATCH enables it and keeps the rest", r)
    r = api.call("PUT", "/api/v1/contested/%s" % syslog.get("id"), {"port": SYSLOG})
    check(r.status == 200 and body(r).get("address") is None
          and body(r).get("registration_port") == SYSLOG + 13000 and body(r).get("enabled") is True,
          "PUT replaces it: every address, registration port derived again", r)
    r = api.call("POST", "/api/v1/contested", {"port": 2055, "address": "::1"})
    flow = body(r)
    check(r.status == 201 and flow.get("address") == "::1" and flow.get("registration_port") == 15055,
          "POST a contested port on an IPv6 address", r)
    r = api.call("PATCH", "/api/v1/contested/%s" % flow.get("id"), {"address": "0:0:0:0:0:0:0:1"})
    check(r.status == 200 and body(r).get("address") == "::1", "an address comes back canonical", r)

    r = api.call("POST", "/api/v1/subscribers", {"contested_port": TRAPS, "address": "127.0.0.1",
                                                 "port": 9162})
    sub = body(r)
    sid = sub.get("id")
    check(r.status == 201 and r.headers.get("location") == "/api/v1/subscribers/%s" % sid
          and set(sub) == SUB_KEYS, "POST a subscriber: 201, Location, the documented keys", r)
    check(sub.get("contested_port") == TRAPS and sub.get("address") == "127.0.0.1"
          and sub.get("port") == 9162 and sub.get("mode") == "raw" and sub.get("sample_every") == 1
          and sub.get("registered") is False and sub.get("copies") == 0 and sub.get("last_sent") is None,
          "its defaults: raw, every datagram, not registered, nothing sent", sub)
    r = api.call("GET", "/api/v1/contested/%s" % pid, auth=False)
    check(body(r).get("subscribers") == 1, "the contested port counts its subscriber", r)
    r = api.call("GET", "/api/v1/subscribers/%s" % sid, auth=False)
    check(r.status == 200 and body(r) == sub, "GET the subscriber without the token", r)
    r = api.call("PATCH", "/api/v1/subscribers/%s" % sid, {"sample_every": 10, "mode": "framed_udp"})
    check(r.status == 200 and body(r).get("sample_every") == 10 and body(r).get("mode") == "framed_udp"
          and body(r).get("port") == 9162 and body(r).get("contested_port") == TRAPS,
          "PATCH the mode and sampling keeps its port and contested port", r)
    r = api.call("PATCH", "/api/v1/subscribers/%s" % sid, {"contested_port": SYSLOG})
    check(r.status == 200 and body(r).get("contested_port") == SYSLOG,
          "PATCH contested_port moves it to another port, named by number", r)
    r = api.call("PUT", "/api/v1/subscribers/%s" % sid, {"contested_port": TRAPS, "address": "::1",
                                                          "port": 9163})
    check(r.status == 200 and body(r).get("contested_port") == TRAPS and body(r).get("address") == "::1"
          and body(r).get("mode") == "raw" and body(r).get("sample_every") == 1,
          "PUT replaces it: back to raw and every datagram", r)
    for mode in ("spoof", "framed_udp", "framed_tcp"):
        r = api.call("POST", "/api/v1/subscribers", {"contested_port": TRAPS, "address": "127.0.0.2",
                                                     "port": 9100, "mode": mode})
        check(r.status == 201 and body(r).get("mode") == mode, "POST a %s subscriber" % mode, r)
        api.call("DELETE", r.headers.get("location") or "/api/v1/subscribers/0")
    r = api.call("POST", "/api/v1/subscribers", {"contested_port": TRAPS, "mode": "framed_unix",
                                                 "address": "/run/portshare-test-traps.sock",
                                                 "sample_every": 1000000})
    unix = body(r)
    check(r.status == 201 and unix.get("address") == "/run/portshare-test-traps.sock"
          and unix.get("port") == 0 and unix.get("mode") == "framed_unix"
          and unix.get("sample_every") == 1000000, "POST a framed_unix subscriber: a path and no port", r)
    r = api.call("PATCH", "/api/v1/subscribers/%s" % unix.get("id"),
                 {"mode": "raw", "address": "127.0.0.1", "port": 9164})
    check(r.status == 200 and body(r).get("address") == "127.0.0.1" and body(r).get("port") == 9164,
          "PATCH mode, address and port together makes it an IP subscriber", r)
    r = api.call("GET", "/api/v1/subscribers?contested_port=%d" % TRAPS, auth=False)
    check(r.status == 200 and set(body(r)) == PAGE_KEYS and body(r).get("total") == 2
          and all(s["contested_port"] == TRAPS for s in body(r).get("items", [])),
          "GET /api/v1/subscribers?contested_port=162 lists its two", r)
    r = api.call("GET", "/api/v1/subscribers?contested_port=9", auth=False)
    check(r.status == 200 and body(r).get("total") == 0 and body(r).get("items") == [],
          "a contested_port filter naming no contested port matches nothing", r)
    r = api.call("GET", "/api/v1/contested?port=%d" % SYSLOG, auth=False)
    check(r.status == 200 and set(body(r)) == PAGE_KEYS and body(r).get("total") == 1
          and body(r)["items"][0]["port"] == SYSLOG, "GET /api/v1/contested?port=514 finds it", r)
    r = api.call("DELETE", "/api/v1/subscribers/%s" % unix.get("id"))
    check(r.status == 204 and r.data == b"" and etag_version(r) is not None,
          "DELETE a subscriber: 204 with an ETag", r)
    check(api.call("GET", "/api/v1/subscribers/%s" % unix.get("id")).status == 404,
          "the deleted subscriber is gone")
    r = api.call("DELETE", "/api/v1/contested/%s" % flow.get("id"))
    check(r.status == 204 and etag_version(r) is not None, "DELETE a contested port: 204", r)
    check(find_port(api, 2055) is None, "and it is no longer listed")


# ---- errors -------------------------------------------------------------------

def phase_errors(api):
    traps = find_port(api, TRAPS)
    subs = subs_of(api, TRAPS)
    if not check(traps is not None and subs, "the crud phase left port 162 with a subscriber"):
        return
    pid, sid, taken = traps["id"], subs[0]["id"], subs[0]
    before = snapshot(api)
    p = {"port": 7100}
    s = {"contested_port": TRAPS, "address": "127.0.0.1", "port": 7101}
    big = dict(p, address="x" * 70000)
    cases = [
        ("malformed JSON", "POST", "/api/v1/contested", '{"port":', {}, 400, "invalid_json", None),
        ("a body that is no object", "POST", "/api/v1/subscribers", "[1]", {}, 400, "not_object", None),
        ("an unknown field", "POST", "/api/v1/contested", dict(p, bogus=1), {}, 400, "unknown_field", "bogus"),
        ("a counter sent back", "PUT", "/api/v1/contested/%s" % pid, dict(p, datagrams=3), {}, 400,
         "unknown_field", "datagrams"),
        ("subscribers sent back", "PATCH", "/api/v1/contested/%s" % pid, {"subscribers": 0}, {}, 400,
         "unknown_field", "subscribers"),
        ("registered sent", "PATCH", "/api/v1/subscribers/%s" % sid, {"registered": True}, {}, 400,
         "unknown_field", "registered"),
        ("last_sent sent", "POST", "/api/v1/subscribers", dict(s, last_sent=None), {}, 400,
         "unknown_field", "last_sent"),
        ("a missing port", "POST", "/api/v1/contested", {"enabled": True}, {}, 400, "missing_field", "port"),
        ("a missing contested_port", "POST", "/api/v1/subscribers", {"address": "127.0.0.1", "port": 1}, {},
         400, "missing_field", "contested_port"),
        ("a missing address", "PUT", "/api/v1/subscribers/%s" % sid, {"contested_port": TRAPS, "port": 1},
         {}, 400, "missing_field", "address"),
        ("a raw subscriber without a port", "POST", "/api/v1/subscribers",
         {"contested_port": TRAPS, "address": "127.0.0.1"}, {}, 400, "missing_field", "port"),
        ("a wrong type", "POST", "/api/v1/contested", {"port": "7100"}, {}, 400, "invalid_type", "port"),
        ("a null that means nothing", "PATCH", "/api/v1/subscribers/%s" % sid, {"sample_every": None}, {},
         400, "invalid_type", "sample_every"),
        ("enabled as a string", "PATCH", "/api/v1/contested/%s" % pid, {"enabled": "yes"}, {}, 400,
         "invalid_type", "enabled"),
        ("an id on POST", "POST", "/api/v1/contested", dict(p, id=77), {}, 400, "id_mismatch", "id"),
        ("another id on PUT", "PUT", "/api/v1/subscribers/%s" % sid, dict(s, id=sid + 1000), {}, 400,
         "id_mismatch", "id"),
        ("a bad If-Match", "PATCH", "/api/v1/contested/%s" % pid, {"enabled": True}, {"If-Match": "7"}, 400,
         "invalid_header", "If-Match"),
        ("a bad port filter", "GET", "/api/v1/contested?port=0", None, {}, 400, "invalid_query", "port"),
        ("a bad contested_port filter", "GET", "/api/v1/subscribers?contested_port=x", None, {}, 400,
         "invalid_query", "contested_port"),
        ("a bad limit", "GET", "/api/v1/subscribers?limit=1001", None, {}, 400, "invalid_query", "limit"),
        ("an unknown contested port id", "GET", "/api/v1/contested/999999", None, {}, 404, "not_found", None),
        ("PATCH of an unknown subscriber", "PATCH", "/api/v1/subscribers/999999", {"sample_every": 2}, {},
         404, "not_found", None),
        ("PUT of an unknown contested port", "PUT", "/api/v1/contested/999999", {"port": 7200}, {}, 404,
         "not_found", None),
        ("DELETE of an unknown subscriber", "DELETE", "/api/v1/subscribers/999999", None, {}, 404,
         "not_found", None),
        ("a malformed id", "GET", "/api/v1/contested/abc", None, {}, 404, "not_found", "id"),
        ("a port already contested", "POST", "/api/v1/contested", {"port": TRAPS, "registration_port": 7300},
         {}, 409, None, "port"),
        ("a registration port in use", "POST", "/api/v1/contested",
         {"port": 7100, "registration_port": TRAPS + 13000}, {}, 409, None, "registration_port"),
        ("a port that is a registration port", "POST", "/api/v1/contested",
         {"port": TRAPS + 13000, "registration_port": 7300}, {}, 409, None, "port"),
        ("a subscriber already there", "POST", "/api/v1/subscribers",
         {"contested_port": TRAPS, "address": taken["address"], "port": taken["port"]}, {}, 409, None,
         "address"),
        ("a stale If-Match", "PATCH", "/api/v1/contested/%s" % pid, {"enabled": True}, {"If-Match": '"1"'},
         412, "precondition_failed", None),
        ("a body over 64 KiB", "POST", "/api/v1/contested", big, {}, 413, "body_too_large", None),
        ("a port out of range", "POST", "/api/v1/contested", {"port": 65536}, {}, 422, None, "port"),
        ("a port 0", "PATCH", "/api/v1/contested/%s" % pid, {"port": 0}, {}, 422, None, "port"),
        ("no room for the default registration port", "POST", "/api/v1/contested", {"port": 60000}, {}, 422,
         None, "registration_port"),
        ("a registration port equal to the port", "POST", "/api/v1/contested",
         {"port": 7100, "registration_port": 7100}, {}, 422, None, "registration_port"),
        ("an address that is a name", "PATCH", "/api/v1/contested/%s" % pid, {"address": "example.com"}, {},
         422, None, "address"),
        ("an unknown contested port number", "POST", "/api/v1/subscribers", dict(s, contested_port=7999), {},
         422, None, "contested_port"),
        ("an unknown mode", "PATCH", "/api/v1/subscribers/%s" % sid, {"mode": "multicast"}, {}, 422, None,
         "mode"),
        ("sample_every 0", "PATCH", "/api/v1/subscribers/%s" % sid, {"sample_every": 0}, {}, 422, None,
         "sample_every"),
        ("sample_every too high", "PATCH", "/api/v1/subscribers/%s" % sid, {"sample_every": 1000001}, {},
         422, None, "sample_every"),
        ("a subscriber port out of range", "PATCH", "/api/v1/subscribers/%s" % sid, {"port": 65536}, {},
         422, None, "port"),
        ("a subscriber address that is a name", "POST", "/api/v1/subscribers",
         dict(s, address="host.example"), {}, 422, None, "address"),
        ("framed_unix with an IP address", "POST", "/api/v1/subscribers",
         dict(s, mode="framed_unix", port=0), {}, 422, None, "address"),
        ("framed_unix with a relative path", "POST", "/api/v1/subscribers",
         {"contested_port": TRAPS, "address": "run/x.sock", "mode": "framed_unix"}, {}, 422, None, "address"),
        ("framed_unix with a port", "POST", "/api/v1/subscribers",
         {"contested_port": TRAPS, "address": "/run/x.sock", "mode": "framed_unix", "port": 9}, {}, 422,
         None, "port"),
        ("a path for an IP mode", "POST", "/api/v1/subscribers", dict(s, address="/run/x.sock"), {}, 422,
         None, "address"),
        ("the mode alone changed to framed_unix", "PATCH", "/api/v1/subscribers/%s" % sid,
         {"mode": "framed_unix"}, {}, 422, None, "address"),
    ]
    for what, method, path, b, headers, status, code, field in cases:
        r = api.call(method, path, b, headers=headers)
        check(is_error(r, status, code, field) and etag_version(r) is not None,
              "%s answers %d%s%s, with an ETag" % (what, status, " " + code if code else "",
                                                   " naming " + field if field else ""), r)
    r = api.call("POST", "/api/v1/contested", p, ctype="text/plain")
    check(is_error(r, 415, "unsupported_media_type"), "a contested port not sent as JSON answers 415", r)
    r = api.call("PATCH", "/api/v1/subscribers/%s" % sid, {"port": 1}, ctype=None)
    check(is_error(r, 415), "a subscriber PATCH without Content-Type answers 415", r)
    for method, path, allow in (("PUT", "/api/v1/contested", "GET, POST"),
                                ("DELETE", "/api/v1/subscribers", "GET, POST"),
                                ("POST", "/api/v1/contested/%s" % pid, "GET, PUT, PATCH, DELETE"),
                                ("POST", "/api/v1/subscribers/%s" % sid, "GET, PUT, PATCH, DELETE")):
        r = api.call(method, path, {} if method != "DELETE" else None)
        check(is_error(r, 405, "method_not_allowed") and r.headers.get("allow") == allow,
              "%s %s answers 405 with Allow: %s" % (method, path, allow), r)
    check(snapshot(api) == before, "the refused writes changed no contested port or subscriber")


# ---- cascade -------------------------------------------------------------------

def phase_cascade(api):
    r = api.call("POST", "/api/v1/contested", {"port": 6343})
    pid = body(r).get("id")
    check(r.status == 201, "a contested port 6343 (sFlow) to delete", r)
    made = [api.call("POST", "/api/v1/subscribers", {"contested_port": 6343, "address": "127.0.0.1",
                                                     "port": 9400 + i}) for i in range(3)]
    ids = [body(x).get("id") for x in made]
    check(all(x.status == 201 for x in made), "with 3 subscribers", [x.status for x in made])
    check(body(api.call("GET", "/api/v1/contested/%s" % pid, auth=False)).get("subscribers") == 3,
          "it counts 3 subscribers")
    others = snapshot(api)[1]
    others = [x for x in others if x["contested_port"] != 6343]
    r = api.call("DELETE", "/api/v1/contested/%s" % pid)
    check(r.status == 204, "DELETE the contested port: 204", r)
    gone = [api.call("GET", "/api/v1/subscribers/%s" % i, auth=False).status for i in ids]
    check(gone == [404] * 3, "its subscribers went with it", gone)
    check(subs_of(api, 6343) == [], "none is listed under its number")
    left = [x for x in snapshot(api)[1]]
    check([x["id"] for x in left] == [x["id"] for x in others],
          "the subscribers of the other ports stay", (left, others))


# ---- auth ----------------------------------------------------------------------

def phase_auth(api):
    traps = find_port(api, TRAPS)
    subs = subs_of(api, TRAPS)
    if not check(traps and subs, "there are a contested port and a subscriber to aim at"):
        return
    ids = {"contested": traps["id"], "subscribers": subs[0]["id"]}
    bodies = {"contested": {"port": 7500},
              "subscribers": {"contested_port": TRAPS, "address": "127.0.0.9", "port": 7501}}
    routes = body(api.call("GET", "/api/v1/routes", auth=False)).get("routes", [])
    mine = [x for x in routes if x["path"].startswith(MINE)]
    check(len(mine) == 12, "the route table lists 12 routes of contested ports and subscribers", len(mine))
    before = snapshot(api)
    for rt in mine:
        kind = rt["path"].split("/")[3]
        path = rt["path"].replace("{id}", str(ids[kind]))
        if rt["method"] == "GET":
            r = api.call("GET", path, auth=False)
            check(r.status == 200, "GET %s answers 200 without a token" % rt["path"], r)
            continue
        b = None if rt["method"] == "DELETE" else bodies[kind]
        if rt["method"] == "PATCH":
            b = {"enabled": False} if kind == "contested" else {"sample_every": 7}
        for label, auth in (("no token", False), ("a wrong token", "Bearer " + "0" * 64)):
            r = api.call(rt["method"], path, b, auth=auth)
            check(is_error(r, 401, "unauthorized") and r.headers.get("www-authenticate", "").startswith("Bearer"),
                  "%s %s with %s: 401 and WWW-Authenticate" % (rt["method"], rt["path"], label), r)
    check(snapshot(api) == before, "the refused writes changed nothing")


# ---- paging --------------------------------------------------------------------

def phase_paging(api):
    made = 0
    for i in range(12):
        r = api.call("POST", "/api/v1/contested", {"port": 20000 + i})
        made += r.status == 201
    check(made == 12, "12 contested ports made for paging", made)
    total = body(api.call("GET", "/api/v1/contested", auth=False)).get("total", 0)
    seen = []
    for offset in range(0, total + 5, 5):
        r = api.call("GET", "/api/v1/contested?limit=5&offset=%d" % offset, auth=False)
        b = body(r)
        want = max(0, min(5, total - offset))
        seen += [p["id"] for p in b.get("items", [])]
        check(r.status == 200 and len(b.get("items", [])) == want and b.get("total") == total
              and b.get("limit") == 5 and b.get("offset") == offset,
              "contested page limit=5 offset=%d has %d of %d" % (offset, want, total), r)
    check(len(seen) == total and len(set(seen)) == total and seen == sorted(seen),
          "the pages cover every contested port once, in id order", seen)
    r = api.call("GET", "/api/v1/contested?port=20007", auth=False)
    check(body(r).get("total") == 1 and body(r)["items"][0]["port"] == 20007, "port=20007 finds one", r)
    r = api.call("GET", "/api/v1/contested?port=20007&offset=1", auth=False)
    check(body(r).get("total") == 1 and body(r).get("items") == [], "and pages within the filter", r)

    made = 0
    for i in range(12):
        r = api.call("POST", "/api/v1/subscribers", {"contested_port": 20000 + i % 2, "address": "127.0.0.1",
                                                     "port": 30000 + i})
        made += r.status == 201
    check(made == 12, "12 subscribers made for paging", made)
    r = api.call("GET", "/api/v1/subscribers?contested_port=20001", auth=False)
    check(body(r).get("total") == 6 and all(s["contested_port"] == 20001 for s in body(r).get("items", [])),
          "contested_port=20001 narrows the list to its 6", r)
    seen = []
    for offset in (0, 4, 8):
        r = api.call("GET", "/api/v1/subscribers?contested_port=20000&limit=4&offset=%d" % offset, auth=False)
        b = body(r)
        seen += [s["id"] for s in b.get("items", [])]
        check(r.status == 200 and b.get("total") == 6 and len(b.get("items", [])) == max(0, min(4, 6 - offset)),
              "subscriber page limit=4 offset=%d within contested_port=20000" % offset, r)
    check(len(seen) == 6 and seen == sorted(set(seen)), "the pages cover its 6 once, in id order", seen)
    total = body(api.call("GET", "/api/v1/subscribers", auth=False)).get("total", 0)
    r = api.call("GET", "/api/v1/subscribers?limit=1000", auth=False)
    check(len(body(r).get("items", [])) == total >= 12, "limit=1000 shows every subscriber", r)
    r = api.call("GET", "/api/v1/subscribers?limit=1&offset=100000", auth=False)
    check(r.status == 200 and body(r).get("items") == [] and body(r).get("total") == total,
          "an offset past the end: no items, the same total", r)
    for path, query, field in (("contested", "limit=0", "limit"), ("contested", "offset=x", "offset"),
                               ("contested", "port=65536", "port"),
                               ("subscribers", "contested_port=0", "contested_port"),
                               ("subscribers", "offset=-1", "offset")):
        r = api.call("GET", "/api/v1/%s?%s" % (path, query), auth=False)
        check(is_error(r, 400, "invalid_query", field), "%s?%s answers 400 naming %s" % (path, query, field), r)


# ---- kept ----------------------------------------------------------------------

def phase_kept(api):
    traps, syslog = find_port(api, TRAPS), find_port(api, SYSLOG)
    check(traps is not None and traps.get("registration_port") == TRAPS + 13000 and traps.get("enabled"),
          "contested port 162 is still there after the restart", traps)
    check(syslog is not None and syslog.get("address") is None, "and so is 514", syslog)
    subs = subs_of(api, TRAPS)
    check(len(subs) == 1 and subs[0].get("address") == "::1" and subs[0].get("port") == 9163
          and traps and traps.get("subscribers") == 1, "with its subscriber, as PUT left it", subs)
    r = api.call("GET", "/api/v1/contested", auth=False)
    check(body(r).get("total") == 14, "the 12 paging ports and the 2 of crud", body(r).get("total"))
    r = api.call("GET", "/api/v1/subscribers?contested_port=20000", auth=False)
    check(body(r).get("total") == 6, "the paging subscribers too", body(r).get("total"))


def main():
    phase = sys.argv[1]
    with open(sys.argv[3]) as f:
        token = f.read().strip()
    api = Api(sys.argv[2], token)
    phases = {
        "crud": lambda: phase_crud(api),
        "errors": lambda: phase_errors(api),
        "cascade": lambda: phase_cascade(api),
        "auth": lambda: phase_auth(api),
        "paging": lambda: phase_paging(api),
        "kept": lambda: phase_kept(api),
        "openapi": lambda: phase_openapi(api),
    }
    phases[phase]()
    print("DONE")


if __name__ == "__main__":
    main()
