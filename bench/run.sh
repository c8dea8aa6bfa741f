#!/usr/bin/env bash
# npm run bench: the shared workloads (../shared/bench/workloads.sh) against Blockscope,
# nbdkit and qemu-nbd, all serving the same images on this machine in the same run, with the
# servers interleaved inside every repetition. Prints medians and the ratios
# Blockscope/nbdkit and Blockscope/qemu-nbd per workload (for w2, a time: lower is better),
# and Blockscope's peak RSS while serving w1.
#
# Env: REPS (default 3), ONLY="w1 w3 ..." (default all), ANCHOR_IMAGES (default /tmp/anchors),
#      BLOCKSCOPE_SHARED (default ../shared next to the repository).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${BLOCKSCOPE_SHARED:-$ROOT/../shared}/bench
IMG=${ANCHOR_IMAGES:-/tmp/anchors}
REPS=${REPS:-3}
ONLY=${ONLY:-"w1 w1c1 w2 w3 w4 w4q w5 w5c1"}
export ANCHOR_RUN=$IMG/run PATH=/usr/bin:$PATH
want() { [[ " $ONLY " == *" $1 "* ]]; }
mkdir -p "$IMG/results" "$ANCHOR_RUN"
TSV=$IMG/results/blockscope-$(date +%Y%m%d-%H%M%S).tsv

[ -s "$IMG/raw-dense-2g.img" ] && [ -s "$IMG/raw-sparse-64g.img" ] && [ -s "$IMG/sparse-64g.qcow2" ] \
  || "$SHARED/make-images.sh" "$IMG"

PIDS=()
STARTED=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for port in "${STARTED[@]}"; do "$SHARED/stop.sh" "$port" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT

# blockscope IMAGE PORT [rw] -> PID (waits until it answers)
blockscope() {
  local extra=()
  [ "${3:-}" = rw ] && extra=(--writable)
  node "$ROOT/bin/blockscope.mjs" serve -f -p "$2" "${extra[@]}" "$1" >/dev/null 2>"$IMG/run/blockscope-$2.log" &
  local pid=$!
  for _ in $(seq 100); do nbdinfo --size "nbd://127.0.0.1:$2/" >/dev/null 2>&1 && break; sleep 0.1; done
  echo "$pid"
}
anchor() { "$SHARED/serve.sh" "$1" "$2" "$3" ${4:-} >/dev/null 2>&1; STARTED+=("$3"); }

declare -A URI
BS_DENSE=$(blockscope "$IMG/raw-dense-2g.img" 10970); PIDS+=("$BS_DENSE")
PIDS+=("$(blockscope "$IMG/raw-sparse-64g.img" 10971)")
anchor nbdkit-file "$IMG/raw-dense-2g.img" 10960
anchor qemu-nbd-raw "$IMG/raw-dense-2g.img" 10962
anchor nbdkit-file "$IMG/raw-sparse-64g.img" 10961
anchor qemu-nbd-raw "$IMG/raw-sparse-64g.img" 10963
URI[dense:blockscope]=nbd://127.0.0.1:10970/;  URI[sparse:blockscope]=nbd://127.0.0.1:10971/
URI[dense:nbdkit]=nbd://127.0.0.1:10960/;      URI[sparse:nbdkit]=nbd://127.0.0.1:10961/
URI[dense:qemu-nbd]=nbd://127.0.0.1:10962/;    URI[sparse:qemu-nbd]=nbd://127.0.0.1:10963/
# qcow2: the sparse 64 GiB image for maps, and the dense 2 GiB image as qcow2 for reads
[ -s "$IMG/dense-2g.qcow2" ] || qemu-img convert -f raw -O qcow2 "$IMG/raw-dense-2g.img" "$IMG/dense-2g.qcow2"
PIDS+=("$(blockscope "$IMG/sparse-64g.qcow2" 10972)")
PIDS+=("$(blockscope "$IMG/dense-2g.qcow2" 10973)")
anchor qemu-nbd-qcow2 "$IMG/sparse-64g.qcow2" 10965
anchor qemu-nbd-qcow2 "$IMG/dense-2g.qcow2" 10966
URI[qcow2:blockscope]=nbd://127.0.0.1:10972/; URI[qcow2:qemu-nbd]=nbd://127.0.0.1:10965/
URI[dqcow2:blockscope]=nbd://127.0.0.1:10973/; URI[dqcow2:qemu-nbd]=nbd://127.0.0.1:10966/
QCOW2="blockscope qemu-nbd"
SERVERS="blockscope nbdkit qemu-nbd"

printf 'rep\tworkload\timage\tserver\tvalue\tdetail\n' > "$TSV"
measure() {  # rep workload image server uri
  local out err
  err=$(mktemp)
  out=$("$SHARED/workloads.sh" "$2" "$5" 2>"$err") || out=nan
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$out" "$(tr '\n' ' ' <"$err")" | tee -a "$TSV" >&2
  rm -f "$err"
}

: > "$IMG/run/blockscope-rss"
for rep in $(seq 1 "$REPS"); do
  for w in w1 w1c1 w3; do want $w || continue
    for s in $SERVERS; do measure "$rep" $w dense $s "${URI[dense:$s]}"; done
    [ $w = w1 ] && awk '/VmHWM/{print $2}' "/proc/$BS_DENSE/status" >> "$IMG/run/blockscope-rss"
    [ $w = w3 ] && continue
    for s in $QCOW2; do measure "$rep" $w dense-qcow2 $s "${URI[dqcow2:$s]}"; done
  done
  for w in w2 w4 w4q; do want $w || continue
    for s in $SERVERS; do measure "$rep" $w sparse-raw $s "${URI[sparse:$s]}"; done
    for s in $QCOW2; do measure "$rep" $w sparse-qcow2 $s "${URI[qcow2:$s]}"; done
  done
  for w in w5 w5c1; do want $w || continue
    for s in $SERVERS; do
      rm -f "$IMG/target-rw.img"; truncate -s 2G "$IMG/target-rw.img"; sync
      if [ $s = blockscope ]; then
        pid=$(blockscope "$IMG/target-rw.img" 10975 rw)
        measure "$rep" $w target-raw $s nbd://127.0.0.1:10975/
        kill "$pid"; wait "$pid" 2>/dev/null || true
      else
        name=nbdkit-file; [ $s = qemu-nbd ] && name=qemu-nbd-raw
        anchor $name "$IMG/target-rw.img" 10976 rw
        measure "$rep" $w target-raw $s nbd://127.0.0.1:10976/
        "$SHARED/stop.sh" 10976 >/dev/null; unset 'STARTED[-1]'
      fi
    done
  done
done
rm -f "$IMG/target-rw.img"

/usr/bin/python3 "$ROOT/bench/summarize.py" "$TSV" "$IMG/run/blockscope-rss"
