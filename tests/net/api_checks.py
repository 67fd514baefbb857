#!/usr/bin/env python3
"""The REST API checks of tests/net/test_api.sh, one phase per call.

  api_checks.py PHASE URL TOKEN_FILE [ARGS...]

Phases (URL is the daemon's base, http://HOST:PORT or https://HOST:PORT):
  core DB            every route, auth on every write, every error status,
                     ETag and If-Match (an ETag on every answer), pagination
  early              answers from the headers alone: 401/404/405/413 before
                     the body, a 20 MB chunked upload refused at once
  import DB          PUT /api/v1/config: all or nothing, ids kept, counters
  bigimport N        an export of N rows (over 64 KiB) imports back as it is
  order [check]      rows stay ordered by id after an import ([9000, 8000,
                     new] lists 8000, 9000, 9001); "check" only reads
  names              an import does not wait for DNS: names show "resolving"
  notlive STEP       with the ipsets broken (by the shell), a write answers
                     503 with its Location, ETag and what it stored
  battery DB         bad input of every kind answers 4xx only, the table stays
                     byte-identical and the daemon keeps serving
  openapi            the OpenAPI document against the route table
  table FILE         replaces the table with the config document in FILE
  rate SECONDS       polls /api/v1/status until a queue shows packets/s > 0
  metrics ID N       /metrics parses (prometheus_client) and mapping ID
                     counted N datagrams each way
  kept ID N          a re-import keeps mapping ID's counters
  tls CAFILE         the API over HTTPS, verified against CAFILE
  send URL - HOST PORT N   (in the client namespace) N UDP datagrams to
                     HOST:PORT, each answered by the echo server

Each check prints "PASS what" or "FAIL what (why)"; the shell turns them
into TAP lines.  The last line is "DONE", so a phase that dies half way is
noticed.  Every socket has a timeout and every loop a bound.
"""
import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse

TIMEOUT = 10
WRITES = ("POST", "PUT", "PATCH", "DELETE")
ROUTES_CONFIG_BODY_MAX = 16 * 1024 * 1024


def check(ok, what, why=""):
    if ok:
        print("PASS " + what, flush=True)
    else:
        print("FAIL %s%s" % (what, " (%s)" % why if why else ""), flush=True)
    return ok


class Resp:
    def __init__(self, status, headers, data):
        self.status = status
        self.headers = headers
        self.data = data

    def json(self):
        try:
            return json.loads(self.data)
        except ValueError:
            return None

    def error(self):
        """The error object, when the body has exactly the API's error shape."""
        body = self.json()
        if not isinstance(body, dict) or list(body) != ["error"]:
            return None
        e = body["error"]
        if not isinstance(e, dict) or sorted(e) != ["code", "field", "message"]:
            return None
        return e

    def __repr__(self):
        return "%s %s" % (self.status, self.data[:200])


class Api:
    def __init__(self, url, token, cafile=None):
        u = urllib.parse.urlsplit(url)
        self.https = u.scheme == "https"
        self.host = u.hostname
        self.port = u.port
        self.token = token
        self.cafile = cafile

    def conn(self):
        if self.https:
            ctx = ssl.create_default_context(cafile=self.cafile)
            return http.client.HTTPSConnection(self.host, self.port, timeout=TIMEOUT,
                                               context=ctx)
        return http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)

    def call(self, method, path, body=None, auth=True, ctype="application/json",
             headers=None):
        """auth: True sends the token, a string sends that Authorization, False none."""
        h = {}
        if body is not None:
            if not isinstance(body, (bytes, str)):
                body = json.dumps(body)
            if isinstance(body, str):
                body = body.encode()
            if ctype is not None:
                h["Content-Type"] = ctype
        if auth is True:
            h["Authorization"] = "Bearer " + self.token
        elif auth:
            h["Authorization"] = auth
        h.update(headers or {})
        c = self.conn()
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
            return Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
        finally:
            c.close()

    def raw(self, request, read_max=65536):
        """Sends raw bytes on a fresh connection; returns the status line's code."""
        s = socket.create_connection((self.host, self.port), timeout=TIMEOUT)
        try:
            s.sendall(request)
            data = b""
            while b"\r\n" not in data and len(data) < read_max:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        finally:
            s.close()
        parts = data.split(b" ", 2)
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0

    def export(self):
        r = self.call("GET", "/api/v1/config", auth=False)
        return r.data if r.status == 200 else None


def etag_version(r):
    tag = r.headers.get("etag", "")
    if len(tag) > 2 and tag[0] == tag[-1] == '"' and tag[1:-1].isdigit():
        return int(tag[1:-1])
    return None


def dump(db):
    """The mappings table as sqlite3's shell dumps it."""
    out = subprocess.run(["sqlite3", db, ".dump mappings"], capture_output=True,
                         timeout=TIMEOUT, check=False)
    return out.stdout


def mapping(i, **kw):
    m = {"proto": "tcp", "address": "10.77.%d.%d" % (i // 200, i % 200 + 1),
         "shared_port": 80, "assigned_port": 8000 + i, "comment": "entry %d" % i}
    m.update(kw)
    return m


def is_error(r, status, code=None, field=None):
    e = r.error()
    return (r.status == status and e is not None and (code is None or e["code"] == code)
            and (field is None or e["field"] == field))


def fill(path, mid):
    return path.replace("{id}", str(mid))


# ---- core ---------------------------------------------------------------------

def valid_body(method, pattern, mid):
    """A body that would succeed, so that only the token can fail a write."""
    if pattern == "/api/v1/config":
        return {"mappings": []}
    if method == "POST":
        return mapping(900)
    if method == "PUT":
        return mapping(901)
    if method == "PATCH":
        return {"comment": "patched"}
    return None


def phase_core(api, db):
    r = api.call("GET", "/api/v1/routes", auth=False)
    routes = (r.json() or {}).get("routes", [])
    check(r.status == 200 and len(routes) >= 14, "GET /api/v1/routes lists the route table", r)
    check(all(x["auth"] == (x["method"] != "GET") for x in routes),
          "the route list marks exactly the writes as needing the token")
    r = api.call("GET", "/api/v1/", auth=False)
    check(r.status == 200 and r.json() == {"routes": routes}, "GET /api/v1/ is the same list")

    r = api.call("POST", "/api/v1/mappings", mapping(1, comment="first"))
    mid = (r.json() or {}).get("id")
    check(r.status == 201 and r.headers.get("location") == "/api/v1/mappings/%s" % mid
          and etag_version(r) is not None, "POST with the token creates: 201, Location, ETag", r)

    # Every read, without the token.
    types = {"/metrics": "text/plain; version=0.0.4", "/api/v1/openapi.json": "application/json"}
    for rt in routes:
        if rt["method"] != "GET":
            continue
        # The {id} of another resource names nothing here; test_groups_api.sh reads those.
        if "{id}" in rt["path"] and not rt["path"].startswith("/api/v1/mappings"):
            continue
        r = api.call("GET", fill(rt["path"], mid), auth=False)
        ctype = r.headers.get("content-type", "")
        check(r.status == 200 and ctype.startswith(types.get(rt["path"], "application/json")),
              "GET %s answers 200 %s without a token" % (rt["path"], ctype), r)
    r = api.call("HEAD", "/api/v1/status", auth=False)
    check(r.status == 200 and r.data == b"", "HEAD /api/v1/status answers 200 without a body", r)

    # Every write, walked from the route table: no, a wrong, or a foreign credential.
    before = api.export()
    wrong = [("no token", False), ("a wrong token", "Bearer " + "0" * 64),
             ("the token one byte short", "Bearer " + api.token[:-1]),
             ("another scheme", "Basic " + api.token), ("no scheme", api.token)]
    for rt in routes:
        if rt["method"] not in WRITES:
            continue
        for label, auth in wrong:
            r = api.call(rt["method"], fill(rt["path"], mid),
                         valid_body(rt["method"], rt["path"], mid), auth=auth)
            check(is_error(r, 401, "unauthorized")
                  and r.headers.get("www-authenticate", "").startswith("Bearer"),
                  "%s %s with %s: 401 and WWW-Authenticate: Bearer" % (rt["method"], rt["path"], label), r)
    check(api.export() == before, "the refused writes changed nothing")

    # Each write with the token.
    r = api.call("PUT", "/api/v1/mappings/%s" % mid, mapping(1, comment="replaced"))
    check(r.status == 200 and r.json()["comment"] == "replaced", "PUT a mapping with the token: 200", r)
    r = api.call("PATCH", "/api/v1/mappings/%s" % mid, {"comment": "patched"})
    check(r.status == 200 and r.json()["comment"] == "patched" and r.json()["assigned_port"] == 8001,
          "PATCH a mapping with the token changes only the comment", r)
    r = api.call("POST", "/api/v1/mappings", mapping(2))
    other = (r.json() or {}).get("id")
    r = api.call("DELETE", "/api/v1/mappings/%s" % other)
    check(r.status == 204 and r.data == b"" and etag_version(r) is not None,
          "DELETE with the token: 204 with an ETag", r)
    check(api.call("GET", "/api/v1/mappings/%s" % other).status == 404, "the deleted mapping is gone")

    # Every error status.
    good = mapping(3)
    cases = [
        ("malformed JSON", "POST", "/api/v1/mappings", '{"address":', {}, 400, "invalid_json", None),
        ("an unknown field", "POST", "/api/v1/mappings", dict(good, bogus=1), {}, 400, "unknown_field", "bogus"),
        ("a wrong type", "POST", "/api/v1/mappings", dict(good, shared_port="80"), {}, 400, "invalid_type", "shared_port"),
        ("a missing field", "POST", "/api/v1/mappings", {"address": "10.0.0.1", "shared_port": 80}, {},
         400, "missing_field", "assigned_port"),
        ("a bad limit", "GET", "/api/v1/mappings?limit=0", None, {}, 400, "invalid_query", "limit"),
        ("a bad If-Match", "PATCH", "/api/v1/mappings/%s" % mid, {"comment": "x"}, {"If-Match": "42"},
         400, "invalid_header", "If-Match"),
        ("an unknown id", "GET", "/api/v1/mappings/999999", None, {}, 404, "not_found", None),
        ("PATCH of an unknown id", "PATCH", "/api/v1/mappings/999999", {"comment": "x"}, {}, 404, "not_found", None),
        ("DELETE of an unknown id", "DELETE", "/api/v1/mappings/999999", None, {}, 404, "not_found", None),
        ("a malformed id", "GET", "/api/v1/mappings/abc", None, {}, 404, "not_found", "id"),
        ("an unknown route", "GET", "/api/v1/nothing", None, {}, 404, "not_found", None),
        ("a duplicate", "POST", "/api/v1/mappings", dict(mapping(1), assigned_port=9999), {}, 409, "duplicate", "shared_port"),
        ("an ambiguous reverse", "POST", "/api/v1/mappings", dict(mapping(1), shared_port=81), {},
         409, "ambiguous_reverse", "assigned_port"),
        ("a stale If-Match", "PATCH", "/api/v1/mappings/%s" % mid, {"comment": "x"}, {"If-Match": '"1"'},
         412, "precondition_failed", None),
        ("a body over 64 KiB", "POST", "/api/v1/mappings", dict(good, comment="x" * 70000), {},
         413, "body_too_large", None),
        ("an invalid port", "POST", "/api/v1/mappings", dict(good, shared_port=70000), {}, 422, "invalid_port", "shared_port"),
        ("an invalid address", "POST", "/api/v1/mappings", dict(good, address="not an address!"), {},
         422, None, "address"),
        ("equal ports", "POST", "/api/v1/mappings", dict(good, assigned_port=80), {}, 422, None, None),
    ]
    for what, method, path, body, headers, status, code, field in cases:
        r = api.call(method, path, body, headers=headers)
        check(is_error(r, status, code, field) and etag_version(r) is not None,
              "%s answers %d%s, with an ETag" % (what, status, " " + code if code else ""), r)
    r = api.call("POST", "/api/v1/mappings", good, ctype="text/plain")
    check(is_error(r, 415, "unsupported_media_type"), "a body that is not application/json answers 415", r)
    r = api.call("POST", "/api/v1/mappings", good, ctype=None)
    check(is_error(r, 415), "a body without Content-Type answers 415", r)
    for method, path, allow in (("POST", "/api/v1/status", "GET"), ("DELETE", "/api/v1/mappings", "GET, POST"),
                                ("PATCH", "/api/v1/config", "GET, PUT"), ("POST", "/metrics", "GET")):
        r = api.call(method, path, {})
        check(is_error(r, 405, "method_not_allowed") and r.headers.get("allow") == allow,
              "%s %s answers 405 with Allow: %s" % (method, path, allow), r)
    code = api.raw(b"POST /api/v1/mappings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   b"Authorization: Bearer " + api.token.encode() + b"\r\n"
                   b"Content-Length: 100000000\r\nConnection: close\r\n\r\n")
    check(code == 413, "a declared Content-Length of 100 MB answers 413 before the body", code)

    # Every answer carries the table version, whatever it is about.
    now = etag_version(api.call("GET", "/api/v1/status", auth=False))
    for what, method, path, auth, body in (
            ("GET /healthz", "GET", "/healthz", False, None),
            ("GET /metrics", "GET", "/metrics", False, None),
            ("GET /api/v1/routes", "GET", "/api/v1/routes", False, None),
            ("GET /api/v1/", "GET", "/api/v1/", False, None),
            ("HEAD /api/v1/mappings", "HEAD", "/api/v1/mappings", False, None),
            ("a 401", "POST", "/api/v1/mappings", False, mapping(5)),
            ("a 404 for a route", "GET", "/api/v1/nothing", False, None),
            ("a 404 for a file", "GET", "/nothing.html", False, None),
            ("a 405", "DELETE", "/api/v1/mappings", True, None),
            ("a 412", "DELETE", "/api/v1/mappings/%s" % mid, True, None)):
        headers = {"If-Match": '"1"'} if what == "a 412" else {}
        r = api.call(method, path, body, auth=auth, headers=headers)
        check(etag_version(r) == now, "%s carries the current table version as ETag (%s)"
              % (what, r.status), (r.headers.get("etag"), now))

    # ETag and If-Match.
    r = api.call("GET", "/api/v1/mappings", auth=False)
    v1 = etag_version(r)
    st = api.call("GET", "/api/v1/status", auth=False)
    cfg = api.call("GET", "/api/v1/config", auth=False)
    check(v1 is not None and etag_version(st) == v1 and etag_version(cfg) == v1
          and st.json()["table_version"] == v1 and cfg.json()["version"] == v1,
          "list, status and config carry the same table version as ETag", (r.headers, st.headers))
    row = api.call("GET", "/api/v1/mappings/%s" % mid)
    check(etag_version(row) == v1, "GET of one mapping carries it too", row.headers)
    r = api.call("PATCH", "/api/v1/mappings/%s" % mid, {"comment": "fresh"}, headers={"If-Match": '"%d"' % v1})
    v2 = etag_version(r)
    check(r.status == 200 and v2 is not None and v2 > v1, "a write with a fresh If-Match goes through with a new ETag", r)
    r = api.call("PATCH", "/api/v1/mappings/%s" % mid, {"comment": "stale"}, headers={"If-Match": '"%d"' % v1})
    check(is_error(r, 412, "precondition_failed"), "the same If-Match again is stale: 412", r)
    check(api.call("GET", "/api/v1/mappings/%s" % mid).json()["comment"] == "fresh", "and the row is unchanged")
    r = api.call("PUT", "/api/v1/mappings/%s" % mid, mapping(1), headers={"If-Match": 'W/"%d"' % v2})
    check(r.status == 412, "a weak tag never matches: 412", r)
    r = api.call("PUT", "/api/v1/mappings/%s" % mid, mapping(1), headers={"If-Match": '"1", "%d"' % v2})
    v3 = etag_version(r)
    check(r.status == 200 and v3 > v2, "a list naming the current version matches", r)
    r = api.call("PATCH", "/api/v1/mappings/%s" % mid, {"enabled": False}, headers={"If-Match": "*"})
    v4 = etag_version(r)
    check(r.status == 200 and v4 > v3, "If-Match: * matches any version", r)
    for method, path, body in (("POST", "/api/v1/mappings", mapping(4)), ("DELETE", "/api/v1/mappings/%s" % mid, None),
                               ("PUT", "/api/v1/config", {"mappings": []})):
        r = api.call(method, path, body, headers={"If-Match": '"%d"' % v3})
        check(is_error(r, 412), "%s %s with a stale If-Match: 412" % (method, path), r)
    check(etag_version(api.call("GET", "/api/v1/config", auth=False)) == v4, "no refused write moved the version")

    # Pagination, on 25 rows put in place by one import.
    rows = [mapping(i) for i in range(100, 125)]
    r = api.call("PUT", "/api/v1/config", {"mappings": rows})
    check(r.status == 200 and len(r.json()["mappings"]) == 25, "PUT /api/v1/config puts 25 rows in place", r)
    seen = []
    for offset, want in ((0, 10), (10, 10), (20, 5), (25, 0), (1000, 0)):
        r = api.call("GET", "/api/v1/mappings?limit=10&offset=%d" % offset, auth=False)
        body = r.json() or {}
        seen += [m["id"] for m in body.get("items", [])]
        check(r.status == 200 and len(body.get("items", [])) == want and body.get("total") == 25
              and body.get("limit") == 10 and body.get("offset") == offset,
              "page limit=10 offset=%d has %d items of total 25" % (offset, want), r)
    check(len(seen) == 25 and len(set(seen)) == 25 and seen == sorted(seen), "the pages cover every row once, in id order")
    r = api.call("GET", "/api/v1/mappings", auth=False)
    check(len(r.json()["items"]) == 25 and r.json()["limit"] == 100, "the default page holds up to 100")
    r = api.call("GET", "/api/v1/mappings?limit=1001", auth=False)
    check(is_error(r, 400, "invalid_query", "limit"), "limit over 1000 answers 400", r)
    r = api.call("GET", "/api/v1/mappings?offset=-1", auth=False)
    check(is_error(r, 400, "invalid_query", "offset"), "a negative offset answers 400", r)
    r = api.call("GET", "/api/v1/mappings?address=10.77.0.101&proto=tcp&enabled=true", auth=False)
    check(r.json()["total"] == 1 and r.json()["items"][0]["address"] == "10.77.0.101",
          "filters narrow the list and the total", r)
    r = api.call("GET", "/api/v1/mappings?proto=udp", auth=False)
    check(r.json()["total"] == 0, "a filter that matches nothing gives total 0", r)

    # An SQL-looking comment is data: stored and answered verbatim.
    sql = "x'); DROP TABLE mappings;--"
    r = api.call("POST", "/api/v1/mappings", mapping(300, comment=sql))
    sid = (r.json() or {}).get("id")
    r = api.call("GET", "/api/v1/mappings/%s" % sid)
    check(r.status == 200 and r.json()["comment"] == sql, "an SQL-looking comment comes back verbatim", r)
    d = dump(db)
    check(b"CREATE TABLE" in d and sql.replace("'", "''").encode() in d,
          "sqlite holds it verbatim and the table still exists")
    check(api.call("DELETE", "/api/v1/mappings/%s" % sid).status == 204, "and it deletes like any row")


# ---- import -------------------------------------------------------------------

def phase_import(api, db):
    def table(n):
        # Every other entry brings its id.
        return [mapping(i, id=5000 + i) if i % 2 == 0 else mapping(i) for i in range(n)]

    before, before_dump = api.export(), dump(db)
    bad = []
    t = table(100)
    t[57]["shared_port"] = 70000
    bad.append(("an invalid port in entry 57", t, 422, "invalid_port", "mappings[57].shared_port"))
    t = table(100)
    t[80]["address"], t[80]["assigned_port"] = t[3]["address"], 9999
    bad.append(("entry 80 duplicating entry 3", t, 409, "duplicate", "mappings[80].shared_port"))
    t = table(100)
    t[99]["bogus"] = True
    bad.append(("an unknown field in entry 99", t, 400, "unknown_field", "mappings[99].bogus"))
    t = table(100)
    t[64]["id"] = t[62]["id"]
    bad.append(("entry 64 repeating entry 62's id", t, 422, "duplicate_id", "mappings[64].id"))
    t = table(100)
    t[42] = "10.0.0.1:80"
    bad.append(("entry 42 not an object", t, 400, "not_object", "mappings[42]"))
    t = table(100)
    t[10]["address"] = "not an address!"
    bad.append(("an invalid address in entry 10", t, 422, None, "mappings[10].address"))
    t = table(100)
    del t[5]["assigned_port"]
    bad.append(("entry 5 missing a field", t, 400, "missing_field", "mappings[5].assigned_port"))
    for what, t, status, code, field in bad:
        r = api.call("PUT", "/api/v1/config", {"mappings": t})
        check(is_error(r, status, code, field), "a 100-entry import with %s: %d naming %s" % (what, status, field), r)
        check(api.export() == before and dump(db) == before_dump,
              "and the table, exported and in sqlite, is unchanged")
    r = api.call("PUT", "/api/v1/config", {"rows": []})
    check(is_error(r, 400, "unknown_field"), "a config without mappings answers 400", r)
    r = api.call("PUT", "/api/v1/config", {"mappings": table(100)}, headers={"If-Match": '"1"'})
    check(is_error(r, 412), "a good import with a stale If-Match answers 412", r)
    check(api.export() == before, "and changes nothing")

    old_ids = [m["id"] for m in json.loads(before)["mappings"]]
    t = table(100)
    r = api.call("PUT", "/api/v1/config", {"mappings": t})
    body = r.json() or {}
    got = body.get("mappings", [])
    check(r.status == 200 and len(got) == 100 and etag_version(r) == body.get("version"),
          "a good 100-entry import answers 200 with the table and its version", r)
    after = json.loads(api.export())
    check(after == body, "the export afterwards is exactly that answer")
    byaddr = {m["address"]: m for m in after["mappings"]}
    same = all(byaddr[m["address"]][k] == m[k] for m in t for k in m if k != "id")
    kept = all(byaddr[m["address"]]["id"] == m["id"] for m in t if "id" in m)
    new = [byaddr[m["address"]]["id"] for m in t if "id" not in m]
    check(same and len(byaddr) == 100, "every entry is stored as sent")
    check(kept, "entries with an id keep it")
    check(len(set(new)) == 50 and min(new) > max(old_ids + [5000 + 98]),
          "entries without one get new ids above every id used before")
    r = api.call("PUT", "/api/v1/config", after)
    check(r.status == 200 and r.json()["mappings"] == after["mappings"]
          and r.json()["version"] > after["version"], "an export imports as it is (its version is ignored)", r)
    r = api.call("PUT", "/api/v1/config", {"mappings": []})
    check(r.status == 200 and api.call("GET", "/api/v1/mappings").json()["total"] == 0,
          "an empty import empties the table", r)


# ---- early answers ------------------------------------------------------------

def raw_upload(api, head, total, chunk=65536):
    """Sends head, then a chunked body of total bytes from another thread
    while reading the answer.  Returns (status, seconds to the status line,
    bytes sent by then)."""
    s = socket.create_connection((api.host, api.port), timeout=TIMEOUT)
    sent = [0]

    def send():
        block = b"%x\r\n" % chunk + b"x" * chunk + b"\r\n"
        try:
            while sent[0] < total:
                s.sendall(block)
                sent[0] += chunk
            s.sendall(b"0\r\n\r\n")
        except OSError:
            pass  # the daemon stopped reading: what this test wants

    t0 = time.monotonic()
    s.sendall(head)
    th = threading.Thread(target=send)
    th.start()
    data = b""
    try:
        while b"\r\n" not in data and len(data) < 65536:
            got = s.recv(4096)
            if not got:
                break
            data += got
    except OSError:
        pass
    took, upto = time.monotonic() - t0, sent[0]
    s.close()
    th.join(TIMEOUT)
    parts = data.split(b" ", 2)
    return (int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0), took, upto


def phase_early(api):
    total = 20 * 1024 * 1024
    head = (b"POST /api/v1/mappings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    status, took, upto = raw_upload(api, head, total)
    check(status == 401 and took < 2 and upto < total,
          "an unauthenticated 20 MB chunked POST gets 401 at once, before its body is read",
          "%d after %.2f s, %d bytes sent" % (status, took, upto))
    auth = b"Authorization: Bearer " + api.token.encode() + b"\r\n"
    for what, req, want in (
            ("a 100 MB PUT /api/v1/config by Content-Length", b"PUT /api/v1/config HTTP/1.1\r\n" + auth +
             b"Content-Type: application/json\r\nContent-Length: 100000000\r\n", 413),
            ("a 1 MB POST to an unknown route", b"POST /api/v1/nothing HTTP/1.1\r\n" + auth +
             b"Content-Type: application/json\r\nContent-Length: 1000000\r\n", 404),
            ("a 1 MB POST to a read-only route", b"POST /api/v1/status HTTP/1.1\r\n" + auth +
             b"Content-Type: application/json\r\nContent-Length: 1000000\r\n", 405),
            ("a 1 MB unauthenticated PATCH", b"PATCH /api/v1/mappings/1 HTTP/1.1\r\n"
             b"Content-Type: application/json\r\nContent-Length: 1000000\r\n", 401)):
        code = api.raw(req + b"Host: x\r\nConnection: close\r\n\r\n")
        check(code == want, "%s answers %d before the body" % (what, want), code)
    # An authenticated chunked upload past the limit is cut off, not read to its end.
    head = (b"POST /api/v1/mappings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + auth + b"Transfer-Encoding: chunked\r\n\r\n")
    status, took, upto = raw_upload(api, head, total)
    check(took < 5 and upto < total, "a 20 MB chunked POST with the token is cut off past the limit",
          "%d after %.2f s, %d bytes sent" % (status, took, upto))
    r = api.call("GET", "/healthz", auth=False)
    check(r.status == 200, "and the daemon stays healthy", r)
    r = api.call("POST", "/api/v1/mappings", mapping(600))
    check(r.status == 201, "and takes a good write", r)
    if r.status == 201:
        api.call("DELETE", r.headers.get("location"))


# ---- big imports, order, names ------------------------------------------------

def phase_bigimport(api, n):
    rows = [mapping(i, address="10.%d.%d.%d" % (100 + i // 60000, i // 250 % 240, i % 250 + 1),
                    assigned_port=1024 + i, comment="big import row %d" % i) for i in range(n)]
    r = api.call("PUT", "/api/v1/config", {"mappings": rows})
    check(r.status == 200 and len((r.json() or {}).get("mappings", [])) == n,
          "PUT /api/v1/config takes %d mappings in one document" % n, r)
    exported = api.export() or b""
    check(len(exported) > 64 * 1024, "their export is over 64 KiB (%d bytes)" % len(exported))
    r = api.call("PUT", "/api/v1/config", exported)
    back = api.export() or b"{}"
    a, b = json.loads(exported), json.loads(back)
    check(r.status == 200 and a["mappings"] == b["mappings"] and b["version"] > a["version"],
          "the export imports back as it is (export, import, export round trip)", r)
    auth = b"Authorization: Bearer " + api.token.encode() + b"\r\n"
    code = api.raw(b"PUT /api/v1/config HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + auth +
                   b"Content-Length: %d\r\nConnection: close\r\n\r\n" % (ROUTES_CONFIG_BODY_MAX + 1))
    check(code == 413, "an import over 16 MiB answers 413", code)
    r = api.call("POST", "/api/v1/mappings", b'{"comment":"' + b"x" * (64 * 1024) + b'"}')
    check(is_error(r, 413, "body_too_large"), "other routes keep their 64 KiB limit", r)


ORDER = [9000, 8000, 9001]


def phase_order(api, only_check):
    if not only_check:
        rows = [mapping(1, id=9000), mapping(2, id=8000), mapping(3)]
        r = api.call("PUT", "/api/v1/config", {"mappings": rows})
        got = [m["id"] for m in (r.json() or {}).get("mappings", [])]
        check(r.status == 200 and got == sorted(ORDER),
              "importing ids [9000, 8000, new] answers them in id order: 8000, 9000, 9001", got)
    items = (api.call("GET", "/api/v1/mappings", auth=False).json() or {}).get("items", [])
    got = [m["id"] for m in items]
    check(got == sorted(ORDER), "the list is in id order: 8000, 9000, 9001%s"
          % (" after a restart" if only_check else ""), got)
    cfg = json.loads(api.export() or b"{}")
    check([m["id"] for m in cfg.get("mappings", [])] == sorted(ORDER), "so is the export")


def phase_names(api):
    rows = [mapping(1, address="slow.portshare.test"), mapping(2, address="fast.portshare.test"),
            mapping(3, address="10.77.9.1")]
    t0 = time.monotonic()
    r = api.call("PUT", "/api/v1/config", {"mappings": rows})
    took = time.monotonic() - t0
    check(r.status == 200 and took < 1.0,
          "an import with a name whose lookup takes seconds answers at once (%.2f s)" % took, r)
    items = {m["address"]: m for m in (api.call("GET", "/api/v1/mappings", auth=False).json() or {}).get("items", [])}
    slow = items.get("slow.portshare.test", {})
    check(slow.get("resolved") is False and slow.get("resolve_error") == "resolving",
          "right after it, the slow name shows resolved false, resolve_error \"resolving\"", slow)
    check(items.get("10.77.9.1", {}).get("resolved") is True, "a literal is resolved at once")
    deadline = time.monotonic() + 20
    fast = {}
    while time.monotonic() < deadline:
        items = {m["address"]: m for m in (api.call("GET", "/api/v1/mappings", auth=False).json() or {}).get("items", [])}
        fast, slow = items.get("fast.portshare.test", {}), items.get("slow.portshare.test", {})
        if fast.get("resolved") and slow.get("resolve_error") not in (None, "resolving"):
            break
        time.sleep(0.2)
    check(fast.get("resolved") is True and fast.get("addresses") == ["198.18.1.1"],
          "the resolver thread resolves the name from the hosts file", fast)
    check(slow.get("resolved") is False and slow.get("resolve_error") not in (None, "resolving"),
          "and reports why the other does not resolve", slow)


def phase_notlive(api, step):
    if step == "broken":
        r = api.call("POST", "/api/v1/mappings", mapping(610))
        body = r.json() or {}
        stored = body.get("stored") or {}
        loc = r.headers.get("location", "")
        check(r.status == 503 and (body.get("error") or {}).get("code") == "not_live",
              "with the ipsets broken, a POST answers 503 not_live", r)
        check(loc == "/api/v1/mappings/%s" % stored.get("id") and stored.get("address") == mapping(610)["address"],
              "with the Location of the stored row, and the row itself", (loc, stored))
        v = etag_version(r)
        check(v is not None and v == etag_version(api.call("GET", "/api/v1/status", auth=False)),
              "and the ETag of the version it made", r.headers)
        g = api.call("GET", loc)
        check(g.status == 200, "the row is there to read", g)
        r = api.call("PATCH", loc, {"comment": "patched while broken"}, headers={"If-Match": '"%d"' % v})
        body = r.json() or {}
        check(r.status == 503 and (body.get("stored") or {}).get("comment") == "patched while broken"
              and etag_version(r) is not None and etag_version(r) > v,
              "a PATCH answers 503 with the new ETag and the row as stored", r)
        r = api.call("DELETE", loc, headers={"If-Match": r.headers.get("etag", "")})
        check(r.status == 503 and etag_version(r) is not None and "stored" not in (r.json() or {}),
              "a DELETE answers 503 with the new ETag", r)
        check(api.call("GET", loc).status == 404, "and the row is gone")
    else:
        deadline = time.monotonic() + 10
        r = None
        while time.monotonic() < deadline:
            r = api.call("POST", "/api/v1/mappings", mapping(611))
            if r.status != 503:
                break
            api.call("DELETE", r.headers.get("location", "/"))
            time.sleep(0.5)
        check(r is not None and r.status == 201, "once the ipsets work again, writes are live again", r)
        if r is not None and r.status == 201:
            check(api.call("DELETE", r.headers.get("location")).status == 204, "and the row deletes")


# ---- battery ------------------------------------------------------------------

def battery_requests(api, mid):
    good = mapping(700)
    deep = "[" * 33 + "]" * 33
    deeper = "[" * 100000 + "]" * 100000
    items = [
        ("POST", "/api/v1/mappings", b"{", {}),
        ("POST", "/api/v1/mappings", b"", {}),
        ("POST", "/api/v1/mappings", b"nul", {}),
        ("POST", "/api/v1/mappings", b'{"address":"10.9.9.9","shared_port":80,"assigned_port":81,}', {}),
        ("POST", "/api/v1/mappings", b'{"address":"10.9.9.9","shared_port":80,"assigned_port":81}{}', {}),
        ("POST", "/api/v1/mappings", b"[]", {}),
        ("POST", "/api/v1/mappings", b'"string"', {}),
        ("POST", "/api/v1/mappings", b'{"address":"10.9.9.9","shared_port":80,"shared_port":80,"assigned_port":81}', {}),
        ("POST", "/api/v1/mappings", dict(good, shared_port="80"), {}),
        ("POST", "/api/v1/mappings", dict(good, shared_port=80.5), {}),
        ("POST", "/api/v1/mappings", dict(good, shared_port=1e30), {}),
        ("POST", "/api/v1/mappings", dict(good, shared_port=-1), {}),
        ("POST", "/api/v1/mappings", dict(good, shared_port=2 ** 64), {}),
        ("POST", "/api/v1/mappings", dict(good, enabled="yes"), {}),
        ("POST", "/api/v1/mappings", dict(good, proto=1), {}),
        ("POST", "/api/v1/mappings", dict(good, proto="sctp"), {}),
        ("POST", "/api/v1/mappings", dict(good, address=5), {}),
        ("POST", "/api/v1/mappings", dict(good, address=""), {}),
        ("POST", "/api/v1/mappings", dict(good, address="a" * 300), {}),
        ("POST", "/api/v1/mappings", dict(good, comment=None), {}),
        ("POST", "/api/v1/mappings", dict(good, comment="c" * 256), {}),
        ("POST", "/api/v1/mappings", dict(good, id=1), {}),
        ("POST", "/api/v1/mappings", dict(good, bogus=True), {}),
        ("POST", "/api/v1/mappings", dict(good, counters={}), {}),
        ("POST", "/api/v1/mappings", dict(good, comment="x" * 70000), {}),
        ("POST", "/api/v1/mappings", deep.encode(), {}),
        ("POST", "/api/v1/mappings", deeper.encode()[:65000], {}),
        ("POST", "/api/v1/mappings", ('{"address":"10.9.9.9","shared_port":80,"assigned_port":81,"comment":'
                                      + deep + "}").encode(), {}),
        ("PUT", "/api/v1/config", ('{"mappings":' + "[" * 40 + "]" * 40 + "}").encode(), {}),
        ("POST", "/api/v1/mappings", b'{"address":"10.9.9.9","shared_port":80,"assigned_port":81,"comment":"\xff\xfe"}', {}),
        ("POST", "/api/v1/mappings", b'{"address":"10.9.9.9","shared_port":80,"assigned_port":81,"comment":"\xc0\xaf"}', {}),
        ("POST", "/api/v1/mappings", b'{"address":"10.9.9.9","shared_port":80,"assigned_port":81,"comment":"\\ud800"}', {}),
        ("POST", "/api/v1/mappings", b'{"address":"10.9.9.9","shared_port":80,"assigned_port":81,"comment":"a\\u0000b"}', {}),
        ("POST", "/api/v1/mappings", b'{"addr\xffess":"10.9.9.9"}', {}),
        ("POST", "/api/v1/mappings", dict(good, address="10.9.9.9'; DROP TABLE mappings;--"), {}),
        ("POST", "/api/v1/mappings", dict(good, proto="tcp' OR '1'='1"), {}),
        ("GET", "/api/v1/mappings?address=x'%20OR%20'1'%3D'1", None, {}),
        ("GET", "/api/v1/mappings?proto=tcp;DROP%20TABLE%20mappings", None, {}),
        ("GET", "/api/v1/mappings/1;DROP%20TABLE%20mappings", None, {}),
        ("DELETE", "/api/v1/mappings/1%20OR%201=1", None, {}),
        ("DELETE", "/api/v1/mappings/0", None, {}),
        ("DELETE", "/api/v1/mappings/-1", None, {}),
        ("GET", "/api/v1/mappings?limit=99999999999999999999999", None, {}),
        ("GET", "/api/v1/mappings?enabled=maybe", None, {}),
        ("PATCH", "/api/v1/mappings/%s" % mid, b"{", {}),
        ("PATCH", "/api/v1/mappings/%s" % mid, {"id": mid + 1}, {}),
        ("PATCH", "/api/v1/mappings/%s" % mid, {"shared_port": 0}, {}),
        ("PATCH", "/api/v1/mappings/%s" % mid, {"assigned_port": 80}, {}),
        ("PATCH", "/api/v1/mappings/%s" % mid, {"comment": "x"}, {"If-Match": '"1"'}),
        ("PATCH", "/api/v1/mappings/%s" % mid, {"comment": "x"}, {"If-Match": "garbage"}),
        ("PUT", "/api/v1/mappings/%s" % mid, {"comment": "x"}, {}),
        ("PUT", "/api/v1/config", {"mappings": [good, good]}, {}),
        ("PUT", "/api/v1/config", {"mappings": [dict(good, bogus=1)]}, {}),
        ("PUT", "/api/v1/config", {"mappings": "all"}, {}),
        ("PUT", "/api/v1/config", b'{"mappings":[],"mappings":[]}', {}),
        ("PUT", "/api/v1/config", {"mappings": [good], "drop": True}, {}),
    ]
    reqs = [(m, p, b, h, True, "application/json") for m, p, b, h in items]
    reqs.append(("POST", "/api/v1/mappings", good, {}, True, "text/plain"))
    reqs.append(("POST", "/api/v1/mappings", good, {}, "Bearer wrong-token-wrong-token", "application/json"))
    reqs.append(("PUT", "/api/v1/config", {"mappings": []}, {}, False, "application/json"))
    return reqs


def phase_battery(api, db):
    r = api.call("PUT", "/api/v1/config", {"mappings": [mapping(i) for i in range(10)]})
    check(r.status == 200, "the battery starts from a 10-row table", r)
    mid = r.json()["mappings"][0]["id"]
    before, before_dump = api.export(), dump(db)
    reqs = battery_requests(api, mid)
    results = []
    lock = threading.Lock()

    def run(batch):
        for method, path, body, headers, auth, ctype in batch:
            try:
                r = api.call(method, path, body, auth=auth, ctype=ctype, headers=headers)
                status, what = r.status, r
            except (OSError, http.client.HTTPException) as e:
                status, what = 0, e
            with lock:
                results.append((method, path, body, status, what))

    # Three rounds, four clients at once: a burst, not a polite queue.
    threads = [threading.Thread(target=run, args=(reqs[k::4] * 3,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    check(len(results) == 3 * len(reqs), "every one of %d bad requests was answered" % (3 * len(reqs)),
          "%d answered" % len(results))
    bad = [(m, p, s, str(w)) for m, p, b, s, w in results if not 400 <= s < 500]
    check(not bad, "all of them with a 4xx", bad[:5])
    check(all(Resp(0, {}, w.data).error() is not None for m, p, b, s, w in results if isinstance(w, Resp)),
          "all of them with the API's error object")
    check(api.export() == before, "the exported table is byte-identical afterwards")
    check(dump(db) == before_dump, "sqlite3 .dump of the mappings table is byte-identical afterwards")
    r = api.call("GET", "/healthz", auth=False)
    check(r.status == 200, "and the daemon still serves /healthz", r)
    r = api.call("POST", "/api/v1/mappings", mapping(701))
    check(r.status == 201, "and still takes a good write", r)


# ---- openapi ------------------------------------------------------------------

def phase_openapi(api):
    r = api.call("GET", "/api/v1/openapi.json", auth=False)
    doc = r.json()
    check(r.status == 200 and r.headers.get("content-type", "").startswith("application/json")
          and isinstance(doc, dict), "GET /api/v1/openapi.json serves a JSON document", r)
    if not isinstance(doc, dict):
        return
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "web",
                           "openapi.json"), "rb") as f:
        check(r.data == f.read(), "it is web/openapi.json as written")
    check(doc.get("openapi", "").startswith("3.0."), "it is OpenAPI 3.0")
    routes = api.call("GET", "/api/v1/routes", auth=False).json()["routes"]
    table = {(x["method"].lower(), x["path"]) for x in routes}
    documented = {(m, p) for p, ops in doc.get("paths", {}).items() for m in ops
                  if m in ("get", "put", "post", "patch", "delete", "head", "options")}
    check(not table - documented, "every route of the table is documented", sorted(table - documented))
    check(not documented - table, "every documented path and method is a route", sorted(documented - table))
    schemes = doc.get("components", {}).get("securitySchemes", {})
    check(any(s.get("type") == "http" and s.get("scheme") == "bearer" for s in schemes.values()),
          "it declares a bearer security scheme")
    wrong = []
    for p, ops in doc.get("paths", {}).items():
        for m, op in ops.items():
            if m not in ("get", "put", "post", "patch", "delete"):
                continue
            if bool(op.get("security")) != (m != "get"):
                wrong.append((m, p))
            if m != "get" and "401" not in op.get("responses", {}):
                wrong.append((m, p, "401"))
    check(not wrong, "exactly the writes require the bearer scheme and document 401", wrong)
    err = doc.get("components", {}).get("schemas", {}).get("Error", {})
    check(err.get("properties", {}).get("error", {}).get("required") == ["code", "message", "field"],
          "the Error schema is the API's error object")

    def refs(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == "$ref":
                    yield v
                else:
                    yield from refs(v)
        elif isinstance(node, list):
            for v in node:
                yield from refs(v)

    def resolve(ref):
        node = doc
        for part in ref.lstrip("#/").split("/"):
            node = node.get(part) if isinstance(node, dict) else None
        return node

    broken = [x for x in refs(doc) if resolve(x) is None]
    check(not broken, "every $ref resolves", broken)


# ---- traffic, rates, metrics --------------------------------------------------

def phase_send(host, port, n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2.0)
    answered = 0
    for i in range(n):
        s.sendto(b"datagram%02d" % (i % 100), (host, port))
        try:
            data, _ = s.recvfrom(2048)
            answered += data.endswith(b"datagram%02d" % (i % 100))
        except socket.timeout:
            pass
        time.sleep(0.05)
    check(answered == n, "%d UDP datagrams through the mapping were all answered" % n, answered)


def phase_table(api, path):
    with open(path) as f:
        doc = json.load(f)
    r = api.call("PUT", "/api/v1/config", doc)
    check(r.status == 200, "the traffic table is in place", r)


def phase_rate(api, seconds):
    best = 0.0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and best <= 0:
        r = api.call("GET", "/api/v1/status", auth=False)
        for q in (r.json() or {}).get("queues", []):
            best = max(best, q.get("packets_per_second", 0))
            if not isinstance(q.get("kernel_dropped"), int) or not isinstance(q.get("user_dropped"), int):
                best = -1e9
        time.sleep(0.2)
    check(best > 0, "/api/v1/status shows a packet rate while traffic flows, with the kernel drop counters",
          best)


def scrape(api):
    from prometheus_client.parser import text_string_to_metric_families
    r = api.call("GET", "/metrics", auth=False)
    fams = {f.name: f for f in text_string_to_metric_families(r.data.decode())}
    return r, fams


def sample(fams, family, name, **labels):
    f = fams.get(family)
    for s in (f.samples if f else []):
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return None


def phase_metrics(api, mid, n):
    try:
        r, fams = scrape(api)
    except Exception as e:  # the parser raises ValueError and friends on bad text
        check(False, "/metrics parses with prometheus_client", e)
        return
    check(r.headers.get("content-type", "").startswith("text/plain; version=0.0.4"),
          "/metrics says text/plain; version=0.0.4", r.headers.get("content-type"))
    check(all(name.startswith("portshare_") for name in fams), "every family has the portshare_ prefix")
    check(all(f.documentation for f in fams.values()), "every family has a HELP text")
    counters = [f for f in fams.values() if f.type == "counter"]
    check(counters and all(s.name.endswith("_total") for f in counters for s in f.samples),
          "every counter sample ends in _total")
    labels = {k for f in fams.values() for s in f.samples for k in s.labels}
    check(labels <= {"queue", "id", "direction", "version", "proto", "address", "shared_port", "assigned_port"},
          "no label is about clients", labels)
    want = {
        "portshare_queue_packets": "counter", "portshare_queue_rewritten": "counter",
        "portshare_queue_passed": "counter", "portshare_queue_truncated": "counter",
        "portshare_queue_batches": "counter", "portshare_queue_netlink_errors": "counter",
        "portshare_queue_enobufs": "counter", "portshare_queue_kernel_dropped": "counter",
        "portshare_queue_user_dropped": "counter", "portshare_mapping_packets": "counter",
        "portshare_mapping_bytes": "counter", "portshare_mapping_last_hit_timestamp_seconds": "gauge",
        "portshare_mappings": "gauge", "portshare_table_version": "gauge", "portshare_up": "gauge",
        "portshare_start_time_seconds": "gauge", "portshare_build_info": "gauge",
    }
    missing = [k for k, t in want.items() if k not in fams or fams[k].type != t]
    check(not missing, "every expected family is there with its type", missing)
    sid = str(mid)
    p_in = sample(fams, "portshare_mapping_packets", "portshare_mapping_packets_total", id=sid, direction="in")
    p_out = sample(fams, "portshare_mapping_packets", "portshare_mapping_packets_total", id=sid, direction="out")
    b_in = sample(fams, "portshare_mapping_bytes", "portshare_mapping_bytes_total", id=sid, direction="in")
    b_out = sample(fams, "portshare_mapping_bytes", "portshare_mapping_bytes_total", id=sid, direction="out")
    check(p_in == n, 'packets_total{id="%s",direction="in"} is the %d datagrams sent' % (sid, n), p_in)
    check(p_out == n, 'packets_total{id="%s",direction="out"} is the %d answers' % (sid, n), p_out)
    # IPv4 (20) + UDP (8) + "datagramNN" (10); answers add the echo server's "srv:".
    check(b_in == n * 38 and b_out == n * 42, "bytes_total counts whole packets both ways", (b_in, b_out))
    hit = sample(fams, "portshare_mapping_last_hit_timestamp_seconds",
                 "portshare_mapping_last_hit_timestamp_seconds", id=sid)
    check(hit is not None and abs(hit - time.time()) < 120, "last_hit is a recent timestamp", hit)
    q = sample(fams, "portshare_queue_packets", "portshare_queue_packets_total", queue="0")
    check(q is not None and q >= 2 * n, "queue 0 counted at least the %d packets" % (2 * n), q)
    st = api.call("GET", "/api/v1/status", auth=False).json()
    check(sample(fams, "portshare_table_version", "portshare_table_version") == st["table_version"]
          and sample(fams, "portshare_mappings", "portshare_mappings") == st["mappings"]
          and sample(fams, "portshare_up", "portshare_up") == 1, "the gauges agree with /api/v1/status")
    drops = [sample(fams, "portshare_queue_kernel_dropped", "portshare_queue_kernel_dropped_total",
                    queue=str(x["queue"])) for x in st["queues"]]
    check(None not in drops and drops == [x["kernel_dropped"] for x in st["queues"]],
          "the kernel drop counters are there for every queue", drops)


def phase_kept(api, mid, n):
    doc = json.loads(api.export())
    doc["mappings"].append(mapping(450))
    r = api.call("PUT", "/api/v1/config", doc)
    row = api.call("GET", "/api/v1/mappings/%s" % mid).json() or {}
    check(r.status == 200 and row.get("counters", {}).get("packets_in") == n,
          "a re-import keeps the counters of the ids it keeps", row.get("counters"))


# ---- TLS ----------------------------------------------------------------------

def phase_tls(api):
    r = api.call("GET", "/api/v1/status", auth=False)
    check(r.status == 200, "GET over HTTPS, certificate verified", r)
    r = api.call("POST", "/api/v1/mappings", mapping(800), auth=False)
    check(is_error(r, 401), "a write over HTTPS still needs the token", r)
    r = api.call("POST", "/api/v1/mappings", mapping(800))
    check(r.status == 201, "and goes through with it", r)
    plain = Api("http://%s:%d" % (api.host, api.port), api.token)
    try:
        code = plain.raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    except OSError:
        code = 0
    check(code != 200, "plain HTTP gets no answer from the HTTPS listener", code)


def main():
    phase = sys.argv[1]
    if phase == "send":
        phase_send(sys.argv[4], int(sys.argv[5]), int(sys.argv[6]))
        print("DONE")
        return
    with open(sys.argv[3]) as f:
        token = f.read().strip()
    cafile = sys.argv[4] if phase == "tls" else None
    api = Api(sys.argv[2], token, cafile)
    args = sys.argv[4:]
    phases = {
        "core": lambda: phase_core(api, args[0]),
        "import": lambda: phase_import(api, args[0]),
        "battery": lambda: phase_battery(api, args[0]),
        "openapi": lambda: phase_openapi(api),
        "table": lambda: phase_table(api, args[0]),
        "rate": lambda: phase_rate(api, float(args[0])),
        "metrics": lambda: phase_metrics(api, int(args[0]), int(args[1])),
        "kept": lambda: phase_kept(api, int(args[0]), int(args[1])),
        "tls": lambda: phase_tls(api),
        "early": lambda: phase_early(api),
        "bigimport": lambda: phase_bigimport(api, int(args[0])),
        "order": lambda: phase_order(api, bool(args and args[0] == "check")),
        "names": lambda: phase_names(api),
        "notlive": lambda: phase_notlive(api, args[0]),
    }
    phases[phase]()
    print("DONE")


if __name__ == "__main__":
    main()
