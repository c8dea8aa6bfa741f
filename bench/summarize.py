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
by_rep = {}  # (workload, image, server, rep) -> value, for the spread of each round's ratio
for r in csv.DictReader(open(tsv), delimiter="\t"):
    try:
        v = float(r["value"])
    except ValueError:
        continue
    if v == v:
        vals[(r["workload"], r["image"], r["server"])].append(v)
        by_rep[(r["workload"], r["image"], r["server"], r["rep"])] = v


def spread(w, i, other):
    """Lowest and highest of the rounds' own ratios blockscope/other, as "min-max"."""
    rs = [v / by_rep[(w, i, other, rep)] for (w2, i2, s, rep), v in by_rep.items()
          if (w2, i2, s) == (w, i, "blockscope") and by_rep.get((w, i, other, rep))]
    return f"{min(rs):.2f}-{max(rs):.2f}" if rs else "-"

UNITS = {"w1": "MB/s", "w1c1": "MB/s", "w1tls": "MB/s", "w1c1tls": "MB/s", "w1http": "MB/s", "w2": "s", "w3": "IOPS", "w4": "req/s", "w4q": "req/s", "w5": "MB/s", "w5c1": "MB/s", "w5warm": "MB/s", "w5c1warm": "MB/s", "w5new": "MB/s", "w5c1new": "MB/s"}
ORDER = list(UNITS)
# compare workloads (cmp-*) are times of two commands, not servers: their own table below.
COMPARE = {"cmp-dense": "identical 2 GiB dense raw", "cmp-sparse": "64 GiB sparse raw, 3 blocks changed"}
keys = sorted({(w, i) for (w, i, _) in vals if w not in COMPARE}, key=lambda k: (ORDER.index(k[0]) if k[0] in ORDER else 99, k[1]))
med = lambda k: statistics.median(vals[k]) if k in vals else None
fmt = lambda v: "-" if v is None else (f"{v:.3g}" if v < 10 else f"{v:,.0f}")
print(f"results: {tsv}")
rounds = len({rep for (_, _, _, rep) in by_rep})
print(f"medians of {rounds} rounds; the spread is the lowest and highest ratio of a single round")
print("| workload | image | blockscope | nbdkit | qemu-nbd | blockscope/nbdkit (spread) | blockscope/qemu-nbd (spread) |")
print("|---|---|---|---|---|---|---|")
for w, i in keys:
    b, n, q = (med((w, i, s)) for s in ("blockscope", "nbdkit", "qemu-nbd"))
    ratio = lambda o, name: f"{b / o:.2f} ({spread(w, i, name)})" if b is not None and o else "-"
    print(f"| {w} ({UNITS.get(w, '')}) | {i} | {fmt(b)} | {fmt(n)} | {fmt(q)} | {ratio(n, 'nbdkit')} | {ratio(q, 'qemu-nbd')} |")
cmp = [(w, i) for w in COMPARE for i in sorted({i for (x, i, _) in vals if x == w})]
if cmp:
    print("\n| compare (s) | images | blockscope compare | qemu-img compare | blockscope/qemu-img |")
    print("|---|---|---|---|---|")
    for w, i in cmp:
        b, q = med((w, i, "blockscope")), med((w, i, "qemu-img"))
        print(f"| {w} | {COMPARE[w]} | {fmt(b)} | {fmt(q)} | {f'{b / q:.2f}x' if b is not None and q else '-'} |")
# Blockscope against itself with one part switched off: what that part costs or brings.
VARIANTS = {"blockscope-noactivity": "activity recorder off (BLOCKSCOPE_ACTIVITY=0)",
            "blockscope-tlsmain": "TLS on the main thread (BLOCKSCOPE_TLS_WORKERS=0)",
            "blockscope-tlsworkers": "TLS on worker threads (BLOCKSCOPE_TLS_WORKERS=1)"}
variant_rows = [(w, i, v) for v in VARIANTS for (w, i) in keys if (w, i, v) in vals]
if variant_rows:
    print("\n| workload | image | blockscope | variant | variant value | blockscope/variant |")
    print("|---|---|---|---|---|---|")
    for w, i, v in variant_rows:
        b, x = med((w, i, "blockscope")), med((w, i, v))
        print(f"| {w} | {i} | {fmt(b)} | {VARIANTS[v]} | {fmt(x)} | {f'{b / x:.2f}' if b is not None and x else '-'} |")
rss = [int(x) for x in open(rss_file).read().split()]
if rss:
    print(f"\nblockscope peak RSS while serving w1: {max(rss) / 1024:.0f} MB")
