#!/usr/bin/env bash
# npm run bench: the shared workloads (../shared/bench/workloads.sh) against Blockscope,
# nbdkit and qemu-nbd, all serving the same images on this machine in the same run, with the
# servers interleaved inside every repetition. Prints medians and the ratios
# Blockscope/nbdkit and Blockscope/qemu-nbd per workload (for w2, a time: lower is better),
# and Blockscope's peak RSS while serving w1. w1tls and w1c1tls are w1 and w1c1 over TLS
# (X.509 certificates made with certtool in $ANCHOR_IMAGES/tls) against `serve --tls=require`
# and `nbdkit --tls=require` with the same folder. w1http is w1 with the image read from nginx
# by the http plugin and by `nbdkit curl`. w5 and w5c1 write over a cached copy of the source
# with every server started for the round; w5warm and w5c1warm the same with servers started
# once, as for the read workloads; w5new and w5c1new into a new sparse file (see the w5 loop
# for why all three).
#
# Env: REPS (default 3), ONLY="w1 w3 ..." (default all), ANCHOR_IMAGES (default /tmp/anchors),
#      BLOCKSCOPE_SHARED (default ../shared next to the repository).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${BLOCKSCOPE_SHARED:-$ROOT/../shared}/bench
IMG=${ANCHOR_IMAGES:-/tmp/anchors}
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
REPS=${REPS:-3}
ONLY=${ONLY:-"w1 w1c1 w1tls w1c1tls w2 w3 w4 w4q w5 w5c1 w5warm w5c1warm w5new w5c1new cmp-dense cmp-sparse"}
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

# blockscope IMAGE PORT [rw|tls] -> PID (waits until it answers)
blockscope() {
  local extra=() probe="nbd://127.0.0.1:$2/"
  [ "${3:-}" = rw ] && extra=(--writable)
  [ "${3:-}" = tls ] && extra=(--tls=require --tls-certificates "$TLS/server") && probe=$(tls_uri "$2")
  node "$ROOT/bin/blockscope.mjs" serve -f -p "$2" "${extra[@]}" "$1" >/dev/null 2>"$IMG/run/blockscope-$2.log" &
  local pid=$!
  for _ in $(seq 100); do nbdinfo --size "$probe" >/dev/null 2>&1 && break; sleep 0.1; done
  echo "$pid"
}

# w1tls: a CA, a server certificate for localhost/127.0.0.1 (nbdkit's folder layout) and a
# client folder with the CA only, made once with certtool.
TLS=$IMG/tls
tls_uri() { echo "nbds://localhost:$1/?tls-certificates=$TLS/client"; }
make_certificates() {
  [ -s "$TLS/server/server-cert.pem" ] && return
  mkdir -p "$TLS/server" "$TLS/client"
  printf 'cn = bench CA\nca\ncert_signing_key\nexpiration_days = 3650\n' > "$TLS/ca.info"
  printf 'cn = localhost\ndns_name = localhost\nip_address = 127.0.0.1\ntls_www_server\nsigning_key\nencryption_key\nexpiration_days = 3650\n' > "$TLS/server.info"
  certtool -q --generate-privkey --key-type=ecdsa --outfile "$TLS/ca-key.pem" 2>/dev/null
  certtool -q --generate-self-signed --load-privkey "$TLS/ca-key.pem" --template "$TLS/ca.info" --outfile "$TLS/ca-cert.pem" 2>/dev/null
  certtool -q --generate-privkey --key-type=ecdsa --outfile "$TLS/server/server-key.pem" 2>/dev/null
  certtool -q --generate-certificate --load-privkey "$TLS/server/server-key.pem" --load-ca-certificate "$TLS/ca-cert.pem" \
    --load-ca-privkey "$TLS/ca-key.pem" --template "$TLS/server.info" --outfile "$TLS/server/server-cert.pem" 2>/dev/null
  cp "$TLS/ca-cert.pem" "$TLS/server/"; cp "$TLS/ca-cert.pem" "$TLS/client/"
}
anchor() { "$SHARED/serve.sh" "$1" "$2" "$3" ${4:-} >/dev/null 2>&1; STARTED+=("$3"); }

declare -A URI
# The servers, unless only the compare workloads (cmp-*, two local files, no server) run.
if [[ " $ONLY " == *" w"* ]]; then
  BS_DENSE=$(blockscope "$IMG/raw-dense-2g.img" 10970); PIDS+=("$BS_DENSE")
  # The same server with the activity recorder off: what recording costs w1 and w3.
  PIDS+=("$(BLOCKSCOPE_ACTIVITY=0 blockscope "$IMG/raw-dense-2g.img" 10974)")
  URI[dense:blockscope-noactivity]=nbd://127.0.0.1:10974/
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
fi
if want w1tls || want w1c1tls; then
  make_certificates
  PIDS+=("$(blockscope "$IMG/raw-dense-2g.img" 10977 tls)")
  # And with the other choice of where TLS runs (worker threads or the main thread, whichever
  # this machine does not choose by itself, see main/nbd/tls-offload.ts): what the choice brings.
  other=1; [ "$(node -p 'require("os").availableParallelism()')" -gt 2 ] && other=0
  PIDS+=("$(BLOCKSCOPE_TLS_WORKERS=$other blockscope "$IMG/raw-dense-2g.img" 10979 tls)")
  TLS_OTHER=blockscope-tlsmain; [ $other = 1 ] && TLS_OTHER=blockscope-tlsworkers
  URI[tls:$TLS_OTHER]=$(tls_uri 10979)
  # In the foreground of a background job, so $! is its PID (a -P file may be written late).
  nbdkit -f -r -i 127.0.0.1 -p 10967 --tls=require --tls-certificates "$TLS/server" file file="$IMG/raw-dense-2g.img" 2>/dev/null &
  PIDS+=("$!")
  for _ in $(seq 100); do nbdinfo --size "$(tls_uri 10967)" >/dev/null 2>&1 && break; sleep 0.1; done
  URI[tls:blockscope]=$(tls_uri 10977); URI[tls:nbdkit]=$(tls_uri 10967)
fi
# w1http: w1 through an HTTP server: Blockscope's http plugin and nbdkit's curl plugin
# reading raw-dense-2g.img from nginx (started here from a generated config, never the
# system service).
if want w1http; then
  NGX=$IMG/run/nginx HTTP_URL=http://127.0.0.1:10980/raw-dense-2g.img
  mkdir -p "$NGX/temp"; chmod o+rx "$IMG"; chmod o+r "$IMG/raw-dense-2g.img"
  cat > "$NGX/nginx.conf" <<EOF
worker_processes 1;
pid $NGX/nginx.pid;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $NGX/temp/body; proxy_temp_path $NGX/temp/proxy; fastcgi_temp_path $NGX/temp/fastcgi;
  uwsgi_temp_path $NGX/temp/uwsgi; scgi_temp_path $NGX/temp/scgi;
  server { listen 127.0.0.1:10980; root $IMG; }
}
EOF
  nginx -c "$NGX/nginx.conf" -p "$NGX" -e "$NGX/error.log" -g 'daemon off;' &
  PIDS+=("$!")
  for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/10980) 2>/dev/null && break; sleep 0.1; done
  PIDS+=("$(blockscope "$HTTP_URL" 10978)")
  nbdkit -f -r -i 127.0.0.1 -p 10968 curl url="$HTTP_URL" 2>/dev/null &
  PIDS+=("$!")
  for _ in $(seq 100); do nbdinfo --size nbd://127.0.0.1:10968/ >/dev/null 2>&1 && break; sleep 0.1; done
  URI[http:blockscope]=nbd://127.0.0.1:10978/; URI[http:nbdkit]=nbd://127.0.0.1:10968/
fi
# w5warm/w5c1warm: writable servers started once, over a cached copy of the source of their own.
if want w5warm || want w5c1warm; then
  dense_copy "$IMG/target-warm.img"
  PIDS+=("$(blockscope "$IMG/target-warm.img" 10981 rw)")
  anchor nbdkit-file "$IMG/target-warm.img" 10982 rw
  anchor qemu-nbd-raw "$IMG/target-warm.img" 10983 rw
  URI[warm:blockscope]=nbd://127.0.0.1:10981/; URI[warm:nbdkit]=nbd://127.0.0.1:10982/; URI[warm:qemu-nbd]=nbd://127.0.0.1:10983/
fi
QCOW2="blockscope qemu-nbd"
SERVERS="blockscope nbdkit qemu-nbd"
# rotated REP WORD...: the words starting at a different one in every repetition. The servers
# take turns going first: the first measurement of a workload runs right after the previous
# one's clean-up (a deleted 2 GiB file still being written back, caches turned over), and a
# fixed order put that cost on the same server every time (w1 at the start of a round read
# 20% slower whichever Blockscope variant went first).
rotated() {
  local k=$(( $1 % ($# - 1) )); shift
  local words=("$@")
  echo "${words[@]:k}" "${words[@]:0:k}"
}

printf 'rep\tworkload\timage\tserver\tvalue\tdetail\n' > "$TSV"
measure() {  # rep workload image server uri [the workloads.sh workload, default the same]
  local out err
  err=$(mktemp)
  out=$("$SHARED/workloads.sh" "${6:-$2}" "$5" 2>"$err") || out=nan
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$out" "$(tr '\n' ' ' <"$err")" | tee -a "$TSV" >&2
  rm -f "$err"
}

: > "$IMG/run/blockscope-rss"
for rep in $(seq 1 "$REPS"); do
  for w in w1 w1c1 w3; do want $w || continue
    dense=$SERVERS; [ $w = w1c1 ] || dense="$SERVERS blockscope-noactivity"
    for s in $(rotated "$rep" $dense); do measure "$rep" $w dense $s "${URI[dense:$s]}"; done
    [ $w = w1 ] && awk '/VmHWM/{print $2}' "/proc/$BS_DENSE/status" >> "$IMG/run/blockscope-rss"
    [ $w = w3 ] && continue
    for s in $(rotated "$rep" $QCOW2); do measure "$rep" $w dense-qcow2 $s "${URI[dqcow2:$s]}"; done
  done
  for w in w1tls w1c1tls; do want $w || continue  # workloads.sh's w1/w1c1 on the nbds:// URIs
    for s in $(rotated "$rep" blockscope $TLS_OTHER nbdkit); do measure "$rep" $w dense $s "${URI[tls:$s]}" "${w%tls}"; done
  done
  if want w1http; then  # workloads.sh's w1 (nbdcopy to null:) on the two http-backed exports
    for s in $(rotated "$rep" blockscope nbdkit); do measure "$rep" w1http dense $s "${URI[http:$s]}" w1; done
  fi
  for w in w2 w4 w4q; do want $w || continue
    for s in $(rotated "$rep" $SERVERS); do measure "$rep" $w sparse-raw $s "${URI[sparse:$s]}"; done
    for s in $(rotated "$rep" $QCOW2); do measure "$rep" $w sparse-qcow2 $s "${URI[qcow2:$s]}"; done
  done
  # w5/w5c1 write over a target that already holds the source's bytes and sits in the page
  # cache, synced before every measurement: every server copies into the same cached pages.
  # Each server is started for its round there, so Blockscope's figure includes its JIT's
  # warm-up (~0.25 s of compiling per fresh server); w5warm/w5c1warm measure the same against
  # servers started once (the first round warms Blockscope up; the median leaves it out).
  for w in w5warm w5c1warm; do want $w || continue
    for s in $(rotated "$rep" $SERVERS); do sync; measure "$rep" $w target-raw $s "${URI[warm:$s]}" "${w%warm}"; done
  done
  # w5new/w5c1new write into a new sparse file, whose pages the kernel must allocate as the
  # copy goes. On this VM (Firecracker with PVM; the host takes back guest memory the guest has
  # freed) that makes a server's figure depend on how long ago the previous round's file was
  # deleted: 2 GiB written by a C test program took 0.25-0.3 s of system time when it
  # reused memory freed just before, and 1.5-5.8 s when it started two seconds later (perf:
  # all of it in the kernel's copy into the new pages). The server that starts slower got
  # colder memory; nbdkit's own rounds there ranged from 450 to 1,880 MB/s.
  for w in w5 w5c1 w5new w5c1new; do want $w || continue
    for s in $(rotated "$rep" $SERVERS); do
      if [ "${w%new}" = "$w" ]; then
        dense_copy "$IMG/target-rw.img"
      else
        rm -f "$IMG/target-rw.img"; truncate -s 2G "$IMG/target-rw.img"
      fi
      sync
      if [ $s = blockscope ]; then
        pid=$(blockscope "$IMG/target-rw.img" 10975 rw)
        measure "$rep" $w target-raw $s nbd://127.0.0.1:10975/ "${w%new}"
        kill "$pid"; wait "$pid" 2>/dev/null || true
      else
        name=nbdkit-file; [ $s = qemu-nbd ] && name=qemu-nbd-raw
        anchor $name "$IMG/target-rw.img" 10976 rw
        measure "$rep" $w target-raw $s nbd://127.0.0.1:10976/ "${w%new}"
        "$SHARED/stop.sh" 10976 >/dev/null; unset 'STARTED[-1]'
      fi
    done
  done
done
rm -f "$IMG/target-rw.img" "$IMG/target-warm.img"

# cmp-dense: `blockscope compare` against `qemu-img compare` on two identical dense 2 GiB
# images (the anchor and a copy); cmp-sparse: the sparse 64 GiB anchor against a copy with
# three changed 64 KiB blocks. Seconds per run, both tools interleaved in every repetition.
timed() {  # rep workload image tool CMD... (exit 0/1 is an answer; anything else a failure)
  local rep=$1 w=$2 image=$3 tool=$4 start rc=0 value; shift 4
  start=$(date +%s.%N)
  "$@" >/dev/null 2>"$ANCHOR_RUN/compare.err" || rc=$?
  value=$(echo "$(date +%s.%N) - $start" | bc)
  [ $rc -le 1 ] || value=nan
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$rep" "$w" "$image" "$tool" "$value" "exit $rc" | tee -a "$TSV" >&2
}
if want cmp-dense || want cmp-sparse; then
  [ -s "$IMG/raw-dense-2g-copy.img" ] || cp "$IMG/raw-dense-2g.img" "$IMG/raw-dense-2g-copy.img"
  if [ ! -s "$IMG/raw-sparse-64g-changed.img" ]; then
    cp --sparse=always "$IMG/raw-sparse-64g.img" "$IMG/raw-sparse-64g-changed.tmp"
    for block in 16384 327680 819200; do  # 64 KiB blocks at 1, 20 and 50 GiB
      dd if=/dev/urandom of="$IMG/raw-sparse-64g-changed.tmp" bs=64k count=1 seek=$block conv=notrunc status=none
    done
    mv "$IMG/raw-sparse-64g-changed.tmp" "$IMG/raw-sparse-64g-changed.img"
  fi
  for rep in $(seq 1 "$REPS"); do
    for pair in "cmp-dense dense raw-dense-2g.img raw-dense-2g-copy.img" "cmp-sparse sparse-raw raw-sparse-64g.img raw-sparse-64g-changed.img"; do
      read -r w image a b <<<"$pair"; want "$w" || continue
      for tool in $(rotated "$rep" blockscope qemu-img); do
        if [ $tool = blockscope ]; then timed "$rep" "$w" "$image" blockscope node "$ROOT/bin/blockscope.mjs" compare "$IMG/$a" "$IMG/$b"
        else timed "$rep" "$w" "$image" qemu-img qemu-img compare -f raw -F raw "$IMG/$a" "$IMG/$b"; fi
      done
    done
  done
fi

/usr/bin/python3 "$ROOT/bench/summarize.py" "$TSV" "$IMG/run/blockscope-rss"
