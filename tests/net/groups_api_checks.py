#!/usr/bin/env python3
"""The REST API of application groups, for tests/net/test_groups_api.sh.

  groups_api_checks.py PHASE URL TOKEN_FILE

Phases, run in this order against one daemon:
  crud      groups, backends and rules: create, read, replace, patch, delete;
            defaults, normalised addresses and CIDRs, names resolved
  errors    400, 404, 405, 409, 412, 415 and 422, each with the API's error
            object naming the field; the refused writes change nothing
  drain     drain and undrain, and PATCH {"state": ...}, with an ETag each
  flows     the empty flow list, its filters and their 400s, DELETE flushes
  auth      every write of these resources without the token: 401, nothing
            changed; every read without it: 200
  paging    limit and offset over 12 groups, filters narrowing the total
  openapi   the API document against the route table (api_checks' phase)

Each check prints "PASS what" or "FAIL what (why)"; the last line is
"DONE", so a phase that dies half way is noticed.
"""
import sys

from api_checks import Api, check, etag_version, is_error, phase_openapi

GROUP_KEYS = {"id", "name", "aid", "address", "virtual_port", "proto", "policy", "max_wait_ms",
              "on_timeout", "default", "active_flows", "flows", "waits", "wait_admitted",
              "timeouts", "refused", "backends"}
BACKEND_KEYS = {"id", "group", "group_id", "port", "weight", "max_flows", "state", "active_flows",
                "flows"}
RULE_KEYS = {"id", "cidr", "source_ports", "group", "group_id"}
PAGE_KEYS = {"items", "total", "limit", "offset"}
MINE = ("/api/v1/groups", "/api/v1/backends", "/api/v1/rules", "/api/v1/flows")


def body(r):
    return r.json() or {}


def find_group(api, name):
    r = api.call("GET", "/api/v1/groups?name=%s" % name, auth=False)
    items = body(r).get("items", [])
    return items[0] if items else None


def find_backend(api, group):
    items = body(api.call("GET", "/api/v1/backends?group=%s" % group, auth=False)).get("items", [])
    return items[0] if items else None


def snapshot(api):
    """Every group, backend and rule, as the API lists them."""
    return [body(api.call("GET", p + "?limit=1000", auth=False)).get("items")
            for p in MINE[:3]]


# ---- crud ---------------------------------------------------------------------

def phase_crud(api):
    r = api.call("POST", "/api/v1/groups", {"name": "web", "virtual_port": 9000})
    web = body(r)
    gid = web.get("id")
    check(r.status == 201 and r.headers.get("location") == "/api/v1/groups/%s" % gid
          and etag_version(r) is not None, "POST a group: 201, Location, ETag", r)
    check(set(web) == GROUP_KEYS, "a group has exactly the documented keys", sorted(web))
    check(web.get("aid") == "web" and web.get("address") is None and web.get("proto") == "tcp"
          and web.get("policy") == "round_robin" and web.get("max_wait_ms") == 0
          and web.get("on_timeout") == "reset" and web.get("default") is False
          and web.get("backends") == [] and web.get("flows") == 0 and web.get("active_flows") == 0,
          "its defaults: aid the name, any address, tcp, round robin, no wait, reset", web)
    r = api.call("GET", "/api/v1/groups/%s" % gid, auth=False)
    check(r.status == 200 and body(r) == web and etag_version(r) is not None,
          "GET it without the token answers the same object with an ETag", r)

    r = api.call("POST", "/api/v1/groups", {
        "name": "db", "aid": "db-v2", "address": "2001:DB8:0::1", "virtual_port": 5432,
        "proto": "both", "policy": "source_hash", "max_wait_ms": 1500, "on_timeout": "drop",
        "default": True})
    db = body(r)
    check(r.status == 201 and db.get("address") == "2001:db8::1" and db.get("proto") == "both"
          and db.get("policy") == "source_hash" and db.get("max_wait_ms") == 1500
          and db.get("on_timeout") == "drop" and db.get("default") is True and db.get("aid") == "db-v2",
          "POST a group with every field; the address comes back canonical", r)

    r = api.call("PATCH", "/api/v1/groups/%s" % gid, {"policy": "least_flows"})
    check(r.status == 200 and body(r).get("policy") == "least_flows" and body(r).get("name") == "web"
          and body(r).get("virtual_port") == 9000, "PATCH changes only the policy", r)
    r = api.call("PUT", "/api/v1/groups/%s" % gid, {"name": "web", "aid": "web-v1", "virtual_port": 9000})
    check(r.status == 200 and body(r).get("policy") == "round_robin" and body(r).get("aid") == "web-v1",
          "PUT replaces the group: the policy is back to its default", r)

    r = api.call("POST", "/api/v1/backends", {"group": "web", "port": 9001})
    be = body(r)
    bid = be.get("id")
    check(r.status == 201 and r.headers.get("location") == "/api/v1/backends/%s" % bid
          and set(be) == BACKEND_KEYS, "POST a backend: 201, Location, the documented keys", r)
    check(be.get("group") == "web" and be.get("group_id") == gid and be.get("weight") == 1
          and be.get("max_flows") == 0 and be.get("state") == "active",
          "its group is resolved by name; weight 1, no limit, active", be)
    r = api.call("GET", "/api/v1/groups/%s" % gid, auth=False)
    check([b.get("id") for b in body(r).get("backends", [])] == [bid],
          "the group shows its backend", r)
    r = api.call("PATCH", "/api/v1/backends/%s" % bid, {"weight": 5, "max_flows": 10})
    check(r.status == 200 and body(r).get("weight") == 5 and body(r).get("max_flows") == 10
          and body(r).get("group_id") == gid and body(r).get("port") == 9001,
          "PATCH a backend's weight and limit keeps its group and port", r)
    r = api.call("PUT", "/api/v1/backends/%s" % bid, {"group": "db", "port": 9002})
    check(r.status == 200 and body(r).get("group") == "db" and body(r).get("group_id") == db.get("id")
          and body(r).get("weight") == 1, "PUT moves the backend to another group, by name", r)
    r = api.call("PUT", "/api/v1/backends/%s" % bid, {"group": "web", "port": 9001})
    check(r.status == 200 and body(r).get("group_id") == gid, "and back", r)
    r = api.call("POST", "/api/v1/backends", {"group": "db", "port": 5433, "weight": 1000,
                                              "max_flows": 1000000, "state": "down"})
    check(r.status == 201 and body(r).get("state") == "down" and body(r).get("weight") == 1000,
          "POST a backend with every field", r)

    r = api.call("POST", "/api/v1/rules", {"group": "web", "cidr": "10.1.2.3/16",
                                           "source_ports": "1024-2047"})
    rule = body(r)
    rid = rule.get("id")
    check(r.status == 201 and r.headers.get("location") == "/api/v1/rules/%s" % rid
          and set(rule) == RULE_KEYS, "POST a rule: 201, Location, the documented keys", r)
    check(rule.get("cidr") == "10.1.0.0/16" and rule.get("source_ports") == "1024-2047"
          and rule.get("group_id") == gid, "its CIDR has the host bits cleared", rule)
    r = api.call("POST", "/api/v1/rules", {"group": "db", "cidr": "2001:db8::5", "source_ports": "5000"})
    other = body(r).get("id")
    check(r.status == 201 and body(r).get("cidr") == "2001:db8::5/128"
          and body(r).get("source_ports") == "5000", "a bare address is a host route", r)
    r = api.call("PATCH", "/api/v1/rules/%s" % rid, {"source_ports": None})
    check(r.status == 200 and body(r).get("source_ports") is None and body(r).get("cidr") == "10.1.0.0/16",
          "PATCH source_ports to null drops the range and keeps the CIDR", r)
    r = api.call("GET", "/api/v1/rules/%s" % rid, auth=False)
    check(r.status == 200 and body(r).get("source_ports") is None, "GET the rule shows it", r)
    r = api.call("GET", "/api/v1/rules?group=web", auth=False)
    check(r.status == 200 and set(body(r)) == PAGE_KEYS and body(r).get("total") == 1
          and body(r)["items"][0]["id"] == rid, "GET /api/v1/rules?group=web lists its rule only", r)
    r = api.call("GET", "/api/v1/rules?group=nobody", auth=False)
    check(r.status == 200 and body(r).get("total") == 0 and body(r).get("items") == [],
          "a group filter naming no group matches nothing", r)
    r = api.call("GET", "/api/v1/backends?group=db", auth=False)
    check(r.status == 200 and body(r).get("total") == 1, "GET /api/v1/backends?group=db", r)
    r = api.call("DELETE", "/api/v1/rules/%s" % other)
    check(r.status == 204 and r.data == b"" and etag_version(r) is not None,
          "DELETE a rule: 204 with an ETag", r)
    check(api.call("GET", "/api/v1/rules/%s" % other).status == 404, "the deleted rule is gone")
    dbb = find_backend(api, "db")
    r = api.call("DELETE", "/api/v1/groups/%s" % db.get("id"))
    check(r.status == 204, "DELETE a group: 204", r)
    check(dbb is not None and api.call("GET", "/api/v1/backends/%s" % dbb["id"]).status == 404,
          "its backends went with it")
    check(find_group(api, "db") is None, "and it is no longer listed")


# ---- errors -------------------------------------------------------------------

def phase_errors(api):
    web = find_group(api, "web")
    be = find_backend(api, "web")
    if not check(web is not None and be is not None, "the crud phase left group web with a backend"):
        return
    gid, bid = web["id"], be["id"]
    r = api.call("POST", "/api/v1/groups", {"name": "dflt", "virtual_port": 7000, "default": True})
    check(r.status == 201, "a default group on port 7000", r)
    rid = body(api.call("POST", "/api/v1/rules", {"group": "web", "cidr": "10.9.0.0/16"})).get("id")
    before = snapshot(api)
    g = {"name": "x1", "virtual_port": 7100}
    cases = [
        ("malformed JSON", "POST", "/api/v1/groups", '{"name":', {}, 400, "invalid_json", None),
        ("a body that is no object", "POST", "/api/v1/backends", "[1]", {}, 400, "not_object", None),
        ("an unknown field", "POST", "/api/v1/groups", dict(g, bogus=1), {}, 400, "unknown_field", "bogus"),
        ("a counter sent back", "PUT", "/api/v1/groups/%s" % gid, dict(g, flows=3), {}, 400,
         "unknown_field", "flows"),
        ("the backends sent back", "PATCH", "/api/v1/groups/%s" % gid, {"backends": []}, {}, 400,
         "unknown_field", "backends"),
        ("group_id sent", "PATCH", "/api/v1/backends/%s" % bid, {"group_id": gid}, {}, 400,
         "unknown_field", "group_id"),
        ("a missing name", "POST", "/api/v1/groups", {"virtual_port": 1}, {}, 400, "missing_field", "name"),
        ("a missing port", "POST", "/api/v1/backends", {"group": "web"}, {}, 400, "missing_field", "port"),
        ("a missing cidr", "POST", "/api/v1/rules", {"group": "web"}, {}, 400, "missing_field", "cidr"),
        ("a wrong type", "POST", "/api/v1/groups", dict(g, virtual_port="7100"), {}, 400,
         "invalid_type", "virtual_port"),
        ("a null that means nothing", "PATCH", "/api/v1/backends/%s" % bid, {"weight": None}, {}, 400,
         "invalid_type", "weight"),
        ("an id on POST", "POST", "/api/v1/groups", dict(g, id=77), {}, 400, "id_mismatch", "id"),
        ("another id on PUT", "PUT", "/api/v1/groups/%s" % gid, dict(g, id=gid + 1000), {}, 400,
         "id_mismatch", "id"),
        ("a bad If-Match", "PATCH", "/api/v1/groups/%s" % gid, {"max_wait_ms": 5}, {"If-Match": "7"}, 400,
         "invalid_header", "If-Match"),
        ("a bad query", "GET", "/api/v1/groups?virtual_port=0", None, {}, 400, "invalid_query", "virtual_port"),
        ("an unknown group id", "GET", "/api/v1/groups/999999", None, {}, 404, "not_found", None),
        ("PATCH of an unknown backend", "PATCH", "/api/v1/backends/999999", {"weight": 2}, {}, 404,
         "not_found", None),
        ("PUT of an unknown rule", "PUT", "/api/v1/rules/999999", {"group": "web", "cidr": "10.0.0.0/8"}, {},
         404, "not_found", None),
        ("DELETE of an unknown group", "DELETE", "/api/v1/groups/999999", None, {}, 404, "not_found", None),
        ("DELETE of an unknown rule", "DELETE", "/api/v1/rules/999999", None, {}, 404, "not_found", None),
        ("a malformed id", "GET", "/api/v1/backends/abc", None, {}, 404, "not_found", "id"),
        ("drain of an unknown backend", "POST", "/api/v1/backends/999999/drain", None, {}, 404,
         "not_found", None),
        ("a name taken", "POST", "/api/v1/groups", {"name": "web", "virtual_port": 7200}, {}, 409,
         None, "name"),
        ("a second default group", "POST", "/api/v1/groups", {"name": "dflt2", "virtual_port": 7000,
                                                             "default": True}, {}, 409, None, "default"),
        ("a stale If-Match", "PATCH", "/api/v1/groups/%s" % gid, {"max_wait_ms": 5}, {"If-Match": '"1"'},
         412, "precondition_failed", None),
        ("a port out of range", "POST", "/api/v1/groups", dict(g, virtual_port=65536), {}, 422, None,
         "virtual_port"),
        ("a name with a space", "POST", "/api/v1/groups", dict(g, name="a b"), {}, 422, None, "name"),
        ("an address that is a name", "PATCH", "/api/v1/groups/%s" % gid, {"address": "example.com"}, {},
         422, None, "address"),
        ("an unknown policy", "PATCH", "/api/v1/groups/%s" % gid, {"policy": "random"}, {}, 422, None,
         "policy"),
        ("a wait too long", "PATCH", "/api/v1/groups/%s" % gid, {"max_wait_ms": 600001}, {}, 422, None,
         "max_wait_ms"),
        ("an unknown on_timeout", "PATCH", "/api/v1/groups/%s" % gid, {"on_timeout": "rst"}, {}, 422,
         None, "on_timeout"),
        ("a backend of an unknown group", "POST", "/api/v1/backends", {"group": "nobody", "port": 9005}, {},
         422, "unknown_group", "group"),
        ("a weight of 0", "PATCH", "/api/v1/backends/%s" % bid, {"weight": 0}, {}, 422, None, "weight"),
        ("max_flows too high", "PATCH", "/api/v1/backends/%s" % bid, {"max_flows": 1000001}, {}, 422, None,
         "max_flows"),
        ("an unknown state", "PATCH", "/api/v1/backends/%s" % bid, {"state": "paused"}, {}, 422, None,
         "state"),
        ("a rule of an unknown group", "PATCH", "/api/v1/rules/%s" % rid, {"group": "nobody"}, {}, 422,
         "unknown_group", "group"),
        ("a CIDR with a prefix too long", "POST", "/api/v1/rules", {"group": "web", "cidr": "10.0.0.0/33"},
         {}, 422, "invalid_cidr", "cidr"),
        ("a CIDR that is a name", "POST", "/api/v1/rules", {"group": "web", "cidr": "example.com/8"}, {},
         422, "invalid_cidr", "cidr"),
        ("a port range backwards", "POST", "/api/v1/rules",
         {"group": "web", "cidr": "10.0.0.0/8", "source_ports": "2047-1024"}, {}, 422, "invalid_ports",
         "source_ports"),
        ("a source port 0", "PATCH", "/api/v1/rules/%s" % rid, {"source_ports": "0"}, {}, 422,
         "invalid_ports", "source_ports"),
    ]
    for what, method, path, b, headers, status, code, field in cases:
        r = api.call(method, path, b, headers=headers)
        check(is_error(r, status, code, field) and etag_version(r) is not None,
              "%s answers %d%s%s, with an ETag" % (what, status, " " + code if code else "",
                                                   " naming " + field if field else ""), r)
    r = api.call("POST", "/api/v1/groups", g, ctype="text/plain")
    check(is_error(r, 415, "unsupported_media_type"), "a group not sent as application/json answers 415", r)
    for method, path, allow in (("PUT", "/api/v1/groups", "GET, POST"), ("POST", "/api/v1/flows", "GET, DELETE"),
                                ("GET", "/api/v1/backends/%s/drain" % bid, "POST"),
                                ("POST", "/api/v1/rules/%s" % rid, "GET, PUT, PATCH, DELETE")):
        r = api.call(method, path, {} if method != "GET" else None)
        check(is_error(r, 405, "method_not_allowed") and r.headers.get("allow") == allow,
              "%s %s answers 405 with Allow: %s" % (method, path, allow), r)
    check(snapshot(api) == before, "the refused writes changed no group, backend or rule")


# ---- drain ---------------------------------------------------------------------

def phase_drain(api):
    be = find_backend(api, "web")
    if not check(be is not None, "group web has a backend"):
        return
    path = "/api/v1/backends/%s" % be["id"]
    v0 = etag_version(api.call("GET", path, auth=False))
    r = api.call("POST", path + "/drain")
    v1 = etag_version(r)
    check(r.status == 200 and body(r).get("state") == "drain" and v1 is not None and v1 > v0,
          "POST .../drain answers the backend, draining, under a new version", r)
    check(body(api.call("GET", path, auth=False)).get("state") == "drain", "GET shows it draining")
    r = api.call("POST", path + "/drain")
    check(r.status == 200 and body(r).get("state") == "drain", "draining twice is fine", r)
    r = api.call("POST", path + "/undrain", headers={"If-Match": '"%d"' % v0})
    check(is_error(r, 412), "undrain with a stale If-Match: 412", r)
    r = api.call("POST", path + "/undrain")
    check(r.status == 200 and body(r).get("state") == "active", "POST .../undrain makes it active again", r)
    r = api.call("PATCH", path, {"state": "drain"})
    check(r.status == 200 and body(r).get("state") == "drain", "PATCH {\"state\": \"drain\"} drains too", r)
    r = api.call("PATCH", path, {"state": "down"})
    check(r.status == 200 and body(r).get("state") == "down", "and \"down\" takes it out", r)
    r = api.call("POST", path + "/undrain")
    check(r.status == 200 and body(r).get("state") == "active", "undrain brings a down backend back", r)
    r = api.call("POST", path + "/drain", auth=False)
    check(is_error(r, 401, "unauthorized"), "drain without the token: 401", r)
    check(body(api.call("GET", path, auth=False)).get("state") == "active", "and it stays active")


# ---- flows ---------------------------------------------------------------------

def phase_flows(api):
    r = api.call("GET", "/api/v1/flows", auth=False)
    check(r.status == 200 and body(r) == {"items": [], "total": 0, "limit": 100, "offset": 0}
          and etag_version(r) is not None, "GET /api/v1/flows: no flows yet, default page", r)
    be = find_backend(api, "web") or {"id": 1}
    r = api.call("GET", "/api/v1/flows?group=web&backend=%s&client=10.0.0.0/8&proto=tcp&limit=5&offset=1"
                 % be["id"], auth=False)
    check(r.status == 200 and body(r).get("limit") == 5 and body(r).get("offset") == 1
          and body(r).get("total") == 0, "every filter at once", r)
    r = api.call("GET", "/api/v1/flows?client=2001:db8::1&group=nobody", auth=False)
    check(r.status == 200 and body(r).get("total") == 0, "an IPv6 client and a group that does not exist", r)
    for query, field in (("client=10.0.0.0/33", "client"), ("client=example.com", "client"),
                         ("proto=both", "proto"), ("backend=0", "backend"), ("backend=x", "backend"),
                         ("limit=0", "limit"), ("limit=1001", "limit"), ("offset=-1", "offset")):
        r = api.call("GET", "/api/v1/flows?" + query, auth=False)
        check(is_error(r, 400, "invalid_query", field), "GET /api/v1/flows?%s answers 400 naming %s"
              % (query, field), r)
    v0 = etag_version(api.call("GET", "/api/v1/status", auth=False))
    r = api.call("DELETE", "/api/v1/flows", auth=False)
    check(is_error(r, 401, "unauthorized"), "DELETE /api/v1/flows without the token: 401", r)
    r = api.call("DELETE", "/api/v1/flows")
    check(r.status == 200 and body(r) == {"flushed": 0} and (etag_version(r) or 0) > v0,
          "DELETE /api/v1/flows flushes: {\"flushed\": 0} under a new version", r)
    r = api.call("DELETE", "/api/v1/flows", headers={"If-Match": '"%d"' % v0})
    check(is_error(r, 412), "a flush with a stale If-Match: 412", r)


# ---- auth ----------------------------------------------------------------------

def phase_auth(api):
    web = find_group(api, "web")
    be = find_backend(api, "web")
    rules = body(api.call("GET", "/api/v1/rules", auth=False)).get("items", [])
    if not check(web and be and rules, "there are a group, a backend and a rule to aim at"):
        return
    ids = {"groups": web["id"], "backends": be["id"], "rules": rules[0]["id"], "flows": 0}
    bodies = {"groups": {"name": "web", "virtual_port": 9000}, "backends": {"group": "web", "port": 9009},
              "rules": {"group": "web", "cidr": "10.8.0.0/16"}, "flows": None}
    routes = body(api.call("GET", "/api/v1/routes", auth=False)).get("routes", [])
    mine = [x for x in routes if x["path"].startswith(MINE)]
    check(len(mine) == 22, "the route table lists 22 routes of groups, backends, rules and flows", len(mine))
    before = snapshot(api)
    for rt in mine:
        kind = rt["path"].split("/")[3]
        path = rt["path"].replace("{id}", str(ids[kind]))
        if rt["method"] == "GET":
            r = api.call("GET", path, auth=False)
            check(r.status == 200, "GET %s answers 200 without a token" % rt["path"], r)
            continue
        b = None if rt["method"] == "DELETE" or path.endswith("drain") else bodies[kind]
        if rt["method"] == "PATCH":
            b = {"max_flows": 3} if kind == "backends" else {}
        for label, auth in (("no token", False), ("a wrong token", "Bearer " + "0" * 64)):
            r = api.call(rt["method"], path, b, auth=auth)
            check(is_error(r, 401, "unauthorized") and r.headers.get("www-authenticate", "").startswith("Bearer"),
                  "%s %s with %s: 401 and WWW-Authenticate" % (rt["method"], rt["path"], label), r)
    check(snapshot(api) == before, "the refused writes changed nothing")


# ---- paging --------------------------------------------------------------------

def phase_paging(api):
    made = 0
    for i in range(12):
        r = api.call("POST", "/api/v1/groups", {"name": "page%02d" % i, "virtual_port": 9100 + i % 3})
        made += r.status == 201
    check(made == 12, "12 groups made for paging", made)
    total = body(api.call("GET", "/api/v1/groups", auth=False)).get("total", 0)
    seen = []
    for offset in range(0, total + 5, 5):
        r = api.call("GET", "/api/v1/groups?limit=5&offset=%d" % offset, auth=False)
        b = body(r)
        want = max(0, min(5, total - offset))
        seen += [g["id"] for g in b.get("items", [])]
        check(r.status == 200 and len(b.get("items", [])) == want and b.get("total") == total
              and b.get("limit") == 5 and b.get("offset") == offset,
              "page limit=5 offset=%d has %d of %d" % (offset, want, total), r)
    check(len(seen) == total and len(set(seen)) == total and seen == sorted(seen),
          "the pages cover every group once, in id order", seen)
    r = api.call("GET", "/api/v1/groups?virtual_port=9101", auth=False)
    check(body(r).get("total") == 4 and all(g["virtual_port"] == 9101 for g in body(r).get("items", [])),
          "virtual_port=9101 narrows the list to its 4 groups", r)
    r = api.call("GET", "/api/v1/groups?virtual_port=9101&limit=3&offset=3", auth=False)
    check(body(r).get("total") == 4 and len(body(r).get("items", [])) == 1, "and pages within the filter", r)
    r = api.call("GET", "/api/v1/groups?name=page07", auth=False)
    check(body(r).get("total") == 1 and body(r)["items"][0]["name"] == "page07", "name=page07 finds one", r)
    r = api.call("GET", "/api/v1/groups?name=nothing", auth=False)
    check(body(r).get("total") == 0 and body(r).get("items") == [], "a name nobody has: total 0", r)
    for query, field in (("limit=0", "limit"), ("limit=1001", "limit"), ("offset=x", "offset"),
                         ("virtual_port=65536", "virtual_port")):
        r = api.call("GET", "/api/v1/groups?" + query, auth=False)
        check(is_error(r, 400, "invalid_query", field), "?%s answers 400 naming %s" % (query, field), r)
    r = api.call("GET", "/api/v1/backends?limit=1", auth=False)
    check(r.status == 200 and body(r).get("limit") == 1 and len(body(r).get("items", [])) <= 1,
          "backends page too", r)
    r = api.call("GET", "/api/v1/rules?limit=1&offset=1000", auth=False)
    check(r.status == 200 and body(r).get("items") == [], "and rules", r)


def main():
    phase = sys.argv[1]
    with open(sys.argv[3]) as f:
        token = f.read().strip()
    api = Api(sys.argv[2], token)
    phases = {
        "crud": lambda: phase_crud(api),
        "errors": lambda: phase_errors(api),
        "drain": lambda: phase_drain(api),
        "flows": lambda: phase_flows(api),
        "auth": lambda: phase_auth(api),
        "paging": lambda: phase_paging(api),
        "openapi": lambda: phase_openapi(api),
    }
    phases[phase]()
    print("DONE")


if __name__ == "__main__":
    main()
