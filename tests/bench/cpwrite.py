#!/usr/bin/env python3
"""Control-plane writes for the benchmark: N mapping POSTs, one at a time
over one keep-alive connection, timed each.  Prints one JSON object:
{"writes": N, "ok": K, "p50_ms": ..., "p90_ms": ..., "p99_ms": ...,
"max_ms": ...}.  The mappings go to addresses of 198.19.200.0/22 that no
traffic uses, so the writes swap the table under the benchmark's traffic
without touching the mapping it goes through.

usage: cpwrite.py HOST:PORT TOKEN_FILE N
"""
import http.client
import json
import sys
import time


def percentile(sorted_ms, p):
    if not sorted_ms:
        return 0.0
    i = min(len(sorted_ms) - 1, max(0, int(round(p / 100 * len(sorted_ms))) - 1))
    return sorted_ms[i]


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    with open(sys.argv[2], encoding="ascii") as f:
        token = f.read().strip()
    n = int(sys.argv[3])
    headers = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    lat, ok, codes = [], 0, {}
    for i in range(n):
        body = json.dumps({
            "proto": "udp",
            "address": "198.19.%d.%d" % (200 + i // 250, i % 250 + 1),
            "shared_port": 30000 + i % 100,
            "assigned_port": 40000 + i % 100,
        })
        t0 = time.perf_counter()
        try:
            conn.request("POST", "/api/v1/mappings", body, headers)
            resp = conn.getresponse()
            resp.read()
            status = resp.status
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = http.client.HTTPConnection(host, int(port), timeout=10)
            status = 0
        lat.append((time.perf_counter() - t0) * 1000)
        codes[status] = codes.get(status, 0) + 1
        ok += status == 201
    lat.sort()
    print(json.dumps({
        "writes": n, "ok": ok, "codes": {str(k): v for k, v in codes.items()},
        "p50_ms": round(percentile(lat, 50), 2), "p90_ms": round(percentile(lat, 90), 2),
        "p99_ms": round(percentile(lat, 99), 2), "max_ms": round(lat[-1] if lat else 0, 2),
    }))


if __name__ == "__main__":
    main()
