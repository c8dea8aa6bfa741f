#!/usr/bin/env python3
"""Medians per workload and server from bench/run.sh's TSV, and Blockscope's ratios.

Throughput workloads (MB/s, IOPS, req/s): ratio = Blockscope / other (higher is better).
w1tls and w1c1tls are w1 and w1c1 over TLS (X.509), against nbdkit only.
w2 is a time in seconds: ratio = Blockscope time / other time (lower is better).
"""
import collections, csv, statistics, sys

tsv, rss_file = sys.argv[1], sys.argv[2]
vals = collections.defaultdict(list)
for r in csv.DictReader(open(tsv), delimiter="\t"):
    try:
        v = float(r["value"])
    except ValueError:
        continue
    if v == v:
        vals[(r["workload"], r["image"], r["server"])].append(v)

UNITS = {"w1": "MB/s", "w1c1": "MB/s", "w1tls": "MB/s", "w1c1tls": "MB/s", "w2": "s", "w3": "IOPS", "w4": "req/s", "w4q": "req/s", "w5": "MB/s", "w5c1": "MB/s"}
ORDER = list(UNITS)
keys = sorted({(w, i) for (w, i, _) in vals}, key=lambda k: (ORDER.index(k[0]) if k[0] in ORDER else 99, k[1]))
med = lambda k: statistics.median(vals[k]) if k in vals else None
fmt = lambda v: "-" if v is None else (f"{v:.3g}" if v < 10 else f"{v:,.0f}")
print(f"results: {tsv}")
print("| workload | image | blockscope | nbdkit | qemu-nbd | blockscope/nbdkit | blockscope/qemu-nbd |")
print("|---|---|---|---|---|---|---|")
for w, i in keys:
    b, n, q = (med((w, i, s)) for s in ("blockscope", "nbdkit", "qemu-nbd"))
    ratio = lambda o: f"{b / o:.2f}" if b is not None and o else "-"
    print(f"| {w} ({UNITS.get(w, '')}) | {i} | {fmt(b)} | {fmt(n)} | {fmt(q)} | {ratio(n)} | {ratio(q)} |")
rss = [int(x) for x in open(rss_file).read().split()]
if rss:
    print(f"\nblockscope peak RSS while serving w1: {max(rss) / 1024:.0f} MB")
