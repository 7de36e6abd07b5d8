#!/usr/bin/env bash
# Real time with real hosts (docs/realtime.md), two figures (bench/RESULTS.md):
#   1. the highest rate one Linux TCP flow sustains through one emulated link: Linux in
#      one namespace sends to Linux in another for SECONDS, across a 1 ms link with no
#      rate limit, and the receiver counts what arrived;
#   2. how late events run with 1,000 emulated connections alongside such a flow;
#   3. how late they run when the link's rate (200 Mbit/s) paces the flow.
# Needs root, /dev/net/tun, iproute2 and python3.
#
#   bench/realtime.sh [--bin PATH] [--seconds S]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/release/shakedown
seconds=5
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    *) echo "usage: bench/realtime.sh [--bin PATH] [--seconds S]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "bench/realtime.sh: needs root (network namespaces, TUN devices)" >&2; exit 2; }

work=$(mktemp -d)
tx=sdbench-tx-$$
rx=sdbench-rx-$$
cleanup() { ip netns delete "$tx" 2>/dev/null || true; ip netns delete "$rx" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
ip netns add "$tx"
ip netns add "$rx"

cat > "$work/rx.py" <<'PY'
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 5001)); s.listen(1)
open(sys.argv[1] + ".ready", "w").close()
c, _ = s.accept(); n = 0; t0 = time.monotonic()
while True:
    d = c.recv(1 << 20)
    if not d: break
    n += len(d)
open(sys.argv[1], "w").write(f"{n} {time.monotonic() - t0:.3f}\n")
PY
cat > "$work/tx.py" <<'PY'
import socket, sys, time
for _ in range(100):
    try:
        c = socket.create_connection(("198.18.0.2", 5001), timeout=5); break
    except OSError: time.sleep(0.1)
buf = b"x" * (1 << 16); end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end: c.sendall(buf)
c.close()
PY

# flow FILE: one Linux-to-Linux flow with the run of FILE; prints "Mbit/s p50 p99 max behind/events".
flow() {
  local file=$1 out=$work/out-$RANDOM
  rm -f "$work/got" "$work/got.ready"
  ip netns exec "$rx" python3 "$work/rx.py" "$work/got" &
  local server=$!
  while [ ! -e "$work/got.ready" ]; do sleep 0.05; done
  "$bin" run "$file" --realtime --until $((seconds + 8))s --pcap none --events none -q -o "$out" 2>/dev/null &
  local run=$!
  sleep 1
  ip netns exec "$tx" python3 "$work/tx.py" "$seconds"
  wait "$server"
  kill -INT "$run" 2>/dev/null || true
  wait "$run" || true
  python3 - "$work/got" "$out/summary.json" <<'PY'
import json, sys
n, t = open(sys.argv[1]).read().split()
r = json.load(open(sys.argv[2]))["realtime"]
print(f"{int(n) * 8 / float(t) / 1e6:.0f} Mbit/s, lateness p50 {r['lateness_p50_ns'] / 1e3:.0f} us, "
      f"p99 {r['lateness_p99_ns'] / 1e3:.0f} us, max {r['lateness_max_ns'] / 1e6:.1f} ms, "
      f"{r['events_behind']:,} of {r['events']:,} events later than 1 ms")
PY
}

# A file with the two Linux stacks as hosts: NAME, the hosts it adds, the rest.
with_two_linux() {
  printf 'name: %s\nhosts:\n  sender: {real: {netns: %s}}\n  receiver: {real: {netns: %s}}\n%s' "$1" "$tx" "$rx" "$2"
  cat
}
with_two_linux one-link "" > "$work/one-link.yaml" <<YAML
links:
  - {ends: [sender, receiver], delay: 1ms, queue: 10000}
YAML
with_two_linux paced "" > "$work/paced.yaml" <<YAML
links:
  - {ends: [sender, receiver], delay: 1ms, rate: 200Mbps, queue: 1000}
YAML
with_two_linux alongside $'  server: {}\n' > "$work/alongside.yaml" <<YAML
generate:
  - star: {hub: r, hosts: client, count: 100}
links:
  - {ends: [sender, r], delay: 1ms, queue: 10000}
  - {ends: [r, receiver], delay: 1ms, queue: 10000}
  - {ends: [r, server], delay: 1ms}
workload:
  - {app: request-response, from: client*, to: server:80, connections: 10, request: 1KB, response: 20KB,
     start: {uniform: [1s, $((seconds + 1))s]}}
YAML

echo "machine: $(nproc) cores, $(uname -r)"
echo "one Linux flow through one emulated link (1 ms):  $(flow "$work/one-link.yaml")"
echo "the same with 1,000 emulated connections beside:  $(flow "$work/alongside.yaml")"
echo "one flow through a 200 Mbit/s link (1 ms):         $(flow "$work/paced.yaml")"
