#!/usr/bin/env bash
# bench/ab.sh REV [WORKLOAD]: this tree's build against the build of git revision REV, with
# nbdkit beside them, one workload of ../shared/bench/workloads.sh in interleaved rounds (the
# order rotates every round). Prints each round's figure and each server's CPU for it (ticks
# of 10 ms, from /proc), so a change is judged against its own parent in the same minutes:
# this VM's figures drift by tens of percent from hour to hour (README, Performance).
#
#   WORKLOAD   w1 w1c1 w3 (the dense 2 GiB image), w4 w4q (the sparse 64 GiB one), w5 w5c1
#              (writable servers started once, over a cached copy of the dense image, synced
#              before every round; the copy, $ANCHOR_IMAGES/target-ab.img, is kept for the next
#              run); default w4
#   Env: ROUNDS (default 6), ANCHOR_IMAGES (default /tmp/anchors, made by `npm run bench`)
#
# REV is built once in a worktree under $TMPDIR (its CLI and its addon; node_modules is this
# tree's). This tree is built first (`node scripts/build.mjs --no-renderer`). REV may instead be
# an environment setting, NAME=VALUE (BLOCKSCOPE_FAST_READ=0): then the other server is this
# tree's build with that setting, to judge a switch the code already has.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${BLOCKSCOPE_SHARED:-$ROOT/../shared}/bench
IMG=${ANCHOR_IMAGES:-/tmp/anchors}
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
REV=${1:?usage: bench/ab.sh REV [WORKLOAD]}
W=${2:-w4}
ROUNDS=${ROUNDS:-6}
export PATH=/usr/bin:$PATH

case $W in
  w1|w1c1|w3) IMAGE=$IMG/raw-dense-2g.img ;;
  w4|w4q) IMAGE=$IMG/raw-sparse-64g.img ;;
  w5|w5c1) IMAGE=$IMG/target-ab.img ;;
  *) echo "ab.sh: no such workload: $W" >&2; exit 2 ;;
esac
[ -s "$IMG/raw-dense-2g.img" ] && [ -s "$IMG/raw-sparse-64g.img" ] || "$SHARED/make-images.sh" "$IMG"

OTHER_ENV=()
if [[ $REV =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; then
  OTHER_ENV=("$REV")
  BASE=$ROOT
else
  SHA=$(git -C "$ROOT" rev-parse --verify "$REV^{commit}")
  BASE=${TMPDIR:-/tmp}/blockscope-ab-${SHA:0:12}
  if [ ! -s "$BASE/out/cli/index.mjs" ]; then
    git -C "$ROOT" worktree add -f --detach "$BASE" "$SHA" >/dev/null
    ln -sfn "$ROOT/node_modules" "$BASE/node_modules"
    (cd "$BASE" && node scripts/build.mjs --no-renderer --quiet && node scripts/build-native.mjs) >"$BASE.log" 2>&1 \
      || { cat "$BASE.log" >&2; exit 1; }
  fi
fi
(cd "$ROOT" && node scripts/build.mjs --no-renderer --quiet)

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
writable=()
if [ "${W#w5}" != "$W" ]; then
  dense_copy "$IMAGE"
  writable=(--writable)
fi
# serve NAME PORT CMD...: start a server, wait until it answers, remember its PID by name.
declare -A PID PORT
serve() {
  local name=$1 port=$2; shift 2
  "$@" >/dev/null 2>&1 &
  PID[$name]=$!; PORT[$name]=$port; PIDS+=("$!")
  for _ in $(seq 100); do nbdinfo --size "nbd://127.0.0.1:$port/" >/dev/null 2>&1 && break; sleep 0.1; done
}
serve "$REV" 10991 env "${OTHER_ENV[@]}" node "$BASE/bin/blockscope.mjs" serve -f -p 10991 "${writable[@]}" "$IMAGE"
serve this 10992 node "$ROOT/bin/blockscope.mjs" serve -f -p 10992 "${writable[@]}" "$IMAGE"
nbdkit_ro=(-r); [ ${#writable[@]} -gt 0 ] && nbdkit_ro=()
serve nbdkit 10993 nbdkit -f "${nbdkit_ro[@]}" -i 127.0.0.1 -p 10993 file "$IMAGE"

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
names=("$REV" this nbdkit)
what="$REV ($BASE)"; [ ${#OTHER_ENV[@]} -gt 0 ] && what="this tree with $REV"
echo "$W: $what against this tree and nbdkit, $ROUNDS rounds; figure, then the server's CPU in ticks"
for round in $(seq 1 "$ROUNDS"); do
  k=$(( round % 3 ))
  line="round $round:"
  for name in "${names[@]:k}" "${names[@]:0:k}"; do
    [ ${#writable[@]} -gt 0 ] && sync
    before=$(ticks "${PID[$name]}")
    value=$("$SHARED/workloads.sh" "$W" "nbd://127.0.0.1:${PORT[$name]}/" 2>/dev/null || echo nan)
    line="$line  $name $value ($(( $(ticks "${PID[$name]}") - before )))"
  done
  echo "$line"
done
