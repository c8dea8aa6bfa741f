#!/usr/bin/env python3
"""Medians per workload and server from bench/run.sh's TSV, and Blockscope's ratios.

Throughput workloads (MB/s, IOPS, req/s): ratio = Blockscope / other (higher is better).
w1tls and w1c1tls are w1 and w1c1 over TLS (X.509), against nbdkit only.
w1http is w1 with the image read over HTTP from nginx: the http plugin against nbdkit curl.
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

UNITS = {"w1": "MB/s", "w1c1": "MB/s", "w1tls": "MB/s", "w1c1tls": "MB/s", "w1http": "MB/s", "w2": "s", "w3": "IOPS", "w4": "req/s", "w4q": "req/s", "w5": "MB/s", "w5c1": "MB/s"}
ORDER = list(UNITS)
# compare workloads (cmp-*) are times of two commands, not servers: their own table below.
COMPARE = {"cmp-dense": "identical 2 GiB dense raw", "cmp-sparse": "64 GiB sparse raw, 3 blocks changed"}
keys = sorted({(w, i) for (w, i, _) in vals if w not in COMPARE}, key=lambda k: (ORDER.index(k[0]) if k[0] in ORDER else 99, k[1]))
med = lambda k: statistics.median(vals[k]) if k in vals else None
fmt = lambda v: "-" if v is None else (f"{v:.3g}" if v < 10 else f"{v:,.0f}")
print(f"results: {tsv}")
print("| workload | image | blockscope | nbdkit | qemu-nbd | blockscope/nbdkit | blockscope/qemu-nbd |")
print("|---|---|---|---|---|---|---|")
for w, i in keys:
    b, n, q = (med((w, i, s)) for s in ("blockscope", "nbdkit", "qemu-nbd"))
    ratio = lambda o: f"{b / o:.2f}" if b is not None and o else "-"
    print(f"| {w} ({UNITS.get(w, '')}) | {i} | {fmt(b)} | {fmt(n)} | {fmt(q)} | {ratio(n)} | {ratio(q)} |")
cmp = [(w, i) for w in COMPARE for i in sorted({i for (x, i, _) in vals if x == w})]
if cmp:
    print("\n| compare (s) | images | blockscope compare | qemu-img compare | blockscope/qemu-img |")
    print("|---|---|---|---|---|")
    for w, i in cmp:
        b, q = med((w, i, "blockscope")), med((w, i, "qemu-img"))
        print(f"| {w} | {COMPARE[w]} | {fmt(b)} | {fmt(q)} | {f'{b / q:.2f}x' if b is not None and q else '-'} |")
rss = [int(x) for x in open(rss_file).read().split()]
if rss:
    print(f"\nblockscope peak RSS while serving w1: {max(rss) / 1024:.0f} MB")
