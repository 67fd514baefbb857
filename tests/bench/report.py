#!/usr/bin/env python3
"""Turns the benchmark's raw records into the table it prints and the JSON
it keeps.

usage: report.py RECORDS OUT_JSON

RECORDS holds one record a line: a kind, then key=value fields separated
by tabs.  Kinds: "meta" (run facts), "row" (a UDP path), "tcp", "cp" (the
control-plane writes), "mem" (flow-table memory), "ovl" (an overload
trial with the receive path in a NAPI thread), "note".  Ratios are to the
same run's kernel and nfqbare rows of the same section: the main table, or
the overload section, whose rows are named ovl-*.
"""
import json
import sys


def num(v):
    try:
        f = float(v)
    except (TypeError, ValueError):
        return v
    return int(f) if f.is_integer() else f


def read(path):
    recs = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if not parts or not parts[0]:
                continue
            fields = {}
            for p in parts[1:]:
                k, _, v = p.partition("=")
                fields[k] = num(v)
            recs.append((parts[0], fields))
    return recs


def ratio(a, b):
    if not isinstance(a, (int, float)) or not isinstance(b, (int, float)) or b == 0:
        return None
    return round(a / b, 3)


def fmt(v, spec="{:,.0f}"):
    if v is None or v == "":
        return "-"
    if isinstance(v, (int, float)):
        return spec.format(v)
    return str(v)


def main():
    recs = read(sys.argv[1])
    meta = {}
    rows, tcp, notes, ovl = [], [], [], []
    cp, mem = {}, {}
    for kind, f in recs:
        if kind == "meta":
            meta.update(f)
        elif kind == "row":
            rows.append(f)
        elif kind == "ovl":
            ovl.append(f)
        elif kind == "tcp":
            tcp.append(f)
        elif kind == "cp":
            cp.update(f)
        elif kind == "mem":
            mem.update(f)
        elif kind == "note":
            notes.append(f.get("text", ""))
    base = {r["name"]: r for r in rows}
    for r in rows:
        pfx = "ovl-" if r["name"].startswith("ovl-") else ""
        kern = base.get(pfx + "kernel", {}).get("lossless_pps")
        bare = base.get(pfx + "nfqbare", {}).get("lossless_pps")
        r["x_kernel"] = ratio(r.get("lossless_pps"), kern)
        r["x_nfqbare"] = ratio(r.get("lossless_pps"), bare)
        r["x_2x_over_lossless"] = ratio(r.get("delivered_2x_pps"), r.get("lossless_pps"))
    tbase = next((t.get("gbps") for t in tcp if t.get("name") == "tcp-kernel"), None)
    for t in tcp:
        t["x_kernel"] = ratio(t.get("gbps"), tbase)

    out = sys.stdout
    out.write("\nportshare benchmark, %s, %s, %s CPUs, kernel %s%s\n" % (
        meta.get("date", "?"), meta.get("cpu", "?"), meta.get("cpus", "?"),
        meta.get("kernel", "?"), ", QUICK" if meta.get("quick") else ""))
    out.write("UDP: %s-byte payloads, %s sender threads over %s source addresses; "
              "lossless = <0.1%% loss over %ss trials\n" % (
                  meta.get("size"), meta.get("threads"), meta.get("sources"),
                  meta.get("trial_s")))
    out.write("both hosts share every CPU; veth runs the receive path on the sending CPU\n\n")
    hdr = ("path", "lossless pps", "xkern", "xbare", "2x offered", "2x delivered",
           "2x/lossless", "cons us/pkt", "host us/pkt", "ins:u/pkt", "consumer")
    w = (26, 12, 6, 6, 11, 12, 11, 11, 11, 10, 10)
    line = "  ".join(h.rjust(n) if i else h.ljust(n) for i, (h, n) in enumerate(zip(hdr, w)))
    out.write(line + "\n" + "-" * len(line) + "\n")
    for r in rows:
        if r["name"].startswith("ovl-"):
            continue
        cells = (r.get("label", r["name"]),
                 fmt(r.get("lossless_pps")) + ("+" if r.get("sender_bound") else ""),
                 fmt(r.get("x_kernel"), "{:.2f}"), fmt(r.get("x_nfqbare"), "{:.2f}"),
                 fmt(r.get("offered_2x_pps")), fmt(r.get("delivered_2x_pps")),
                 fmt(r.get("x_2x_over_lossless"), "{:.2f}"),
                 fmt(r.get("cons_us_per_pkt"), "{:.2f}"), fmt(r.get("host_us_per_pkt"), "{:.2f}"),
                 fmt(r.get("ins_u_per_pkt")), r.get("consumer", ""))
        out.write("  ".join(str(c).rjust(n) if i else str(c).ljust(n)
                            for i, (c, n) in enumerate(zip(cells, w))) + "\n")
    out.write("  + a lower bound: the sender, which shares the CPUs, could offer no more, "
              "and nothing was lost\n")
    orows = [r for r in rows if r["name"].startswith("ovl-")]
    if orows:
        out.write("\nOverload: client on CPU %s, server on CPU %s, 1 sender thread; twice the "
                  "lossless rate offered with the\nreceive path in softirq (RPS to the server's "
                  "CPUs, the default) and in a NAPI thread\n" % (
                      meta.get("client_cpus", "?"), meta.get("server_cpus", "?")))
        ohdr = ("path", "lossless pps", "xbare", "2x offered", "softirq", "/lossless",
                "NAPI thread", "/lossless", "cons us/pkt")
        ow = (34, 12, 6, 11, 9, 9, 11, 9, 11)
        line = "  ".join(h.rjust(n) if i else h.ljust(n) for i, (h, n) in enumerate(zip(ohdr, ow)))
        out.write(line + "\n" + "-" * len(line) + "\n")
        for r in orows:
            for o in [o for o in ovl if o.get("name") == r["name"]]:
                first = o.get("variant") == "default"
                o["x_over_lossless"] = ratio(o.get("delivered_pps"), r.get("lossless_pps"))
                label = r.get("label", r["name"])
                if not first:
                    label += " (%s)" % o.get("variant")
                cells = (label, fmt(r.get("lossless_pps")) + ("+" if r.get("sender_bound") else ""),
                         fmt(r.get("x_nfqbare"), "{:.2f}"), fmt(r.get("offered_2x_pps")),
                         fmt(r.get("delivered_2x_pps")) if first else "-",
                         fmt(r.get("x_2x_over_lossless"), "{:.2f}") if first else "-",
                         fmt(o.get("delivered_pps")), fmt(o.get("x_over_lossless"), "{:.2f}"),
                         fmt(r.get("cons_us_per_pkt"), "{:.2f}"))
                out.write("  ".join(str(c).rjust(n) if i else str(c).ljust(n)
                                    for i, (c, n) in enumerate(zip(cells, ow))) + "\n")
    if tcp:
        out.write("\nTCP (iperf3, one stream, %ss)\n" % meta.get("tcp_s", "?"))
        for t in tcp:
            out.write("  %-34s %7.2f Gbit/s  x%s of kernel\n" % (
                t.get("label", t["name"]), t.get("gbps", 0), fmt(t.get("x_kernel"), "{:.2f}")))
    if cp:
        out.write("\nControl plane: %s mapping POSTs while UDP flows at %s pps through a mapping\n" % (
            cp.get("writes"), fmt(cp.get("rate_pps"))))
        out.write("  answered 201: %s; latency p50 %s ms, p90 %s ms, p99 %s ms, max %s ms; "
                  "%s writes/s\n" % (cp.get("ok"), cp.get("p50_ms"), cp.get("p90_ms"),
                                     cp.get("p99_ms"), cp.get("max_ms"), fmt(cp.get("writes_per_s"))))
        out.write("  datagrams sent %s, received %s, lost %s (bad %s); the same rate without writes "
                  "lost %s of %s\n" % (fmt(cp.get("sent")), fmt(cp.get("received")),
                                       fmt(cp.get("lost")), cp.get("bad"),
                                       fmt(cp.get("idle_lost")), fmt(cp.get("idle_sent"))))
    if mem:
        out.write("\nFlow table (--flows %s): file %s bytes = %s bytes per slot, %s per flow at "
                  "the 90%% load it is sized for; daemon RSS %s MiB after %s flows were made\n" % (
                      fmt(mem.get("capacity")), fmt(mem.get("file_bytes")),
                      fmt(mem.get("bytes_per_slot"), "{:.1f}"),
                      fmt(mem.get("bytes_per_flow_90"), "{:.1f}"),
                      fmt(mem.get("rss_mib"), "{:.1f}"), fmt(mem.get("flows_made"))))
    for n in notes:
        out.write("note: %s\n" % n)
    out.write("run time: %s s\n" % meta.get("duration_s", "?"))

    doc = {"meta": meta, "rows": rows, "overload_thread": ovl, "tcp": tcp, "control_plane": cp,
           "flow_memory": mem, "notes": notes}
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
