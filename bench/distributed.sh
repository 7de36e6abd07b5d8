#!/usr/bin/env bash
# One process against several (distributed runs, docs/distributed.md), side by side.
#
#   bench/distributed.sh [--reps R] [--ranks P] [--build DIR] [--events KINDS] [N:K ...]
#       the reference star (bench/RESULTS.md): N clients, K connections each, 10,000
#       bytes per connection, 1% loss, starts spread at 10,000 a second; default 100:100
#   bench/distributed.sh ... --fat-tree K:C
#       a fat-tree of K-port switches (K^3/4 hosts), every host C connections of 10,000
#       bytes to hosts of other pods (many-to-many), 50 us 10 Gbit/s links
#   --tiny   CI: a 4:5 star, once, on 2 ranks: the harness, not the figures
#
# The single process and the distributed run go alternately, R times each (default 3).
# The table gives the median wall time, the speedup, the peak memory (the sum over the
# ranks), the windows and what went across; the summary.json and connections.csv of
# the two must be the same bytes, else the script fails.
set -euo pipefail

reps=3
ranks=2
build="build/release"
events="none"
sizes=()
trees=()
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) reps="$2"; shift 2 ;;
    --ranks) ranks="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --events) events="$2"; shift 2 ;;
    --fat-tree) trees+=("$2"); shift 2 ;;
    --tiny) reps=1; sizes=("4:5"); shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *:*) sizes+=("$1"); shift ;;
    *) echo "distributed: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ ${#sizes[@]} -eq 0 ] && [ ${#trees[@]} -eq 0 ] && sizes=("100:100")

shakedown="$build/shakedown"
[ -x "$shakedown" ] || { echo "distributed: $shakedown not built (cmake --build --preset release)" >&2; exit 2; }
command -v mpirun > /dev/null || { echo "distributed: mpirun missing (Debian package 'openmpi-bin')" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "distributed: /usr/bin/time missing (Debian package 'time')" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

. "$(dirname "$0")/common.sh"

star() {  # N K: starts at 10,000 a second, and 100 s to finish
  local window; window=$(awk -v c="$(($1 * $2))" 'BEGIN { print c / 10000 }')
  star_topology "$work/t.yaml" "$1" "$2" "$window"
  echo "run: {until: $(awk -v w="$window" 'BEGIN { print w + 100 }')s}" >> "$work/t.yaml"
}

fat_tree() {  # K C: every host of pod p connects to the same host of pod p+1
  local k=$1 c=$2 hosts=$(($1 * $1 * $1 / 4)) per_pod=$(($1 * $1 / 4))
  local window; window=$(awk -v n="$((hosts * c))" 'BEGIN { print n / 10000 }')
  {
    echo "name: fat-tree-k$k-x$c"
    echo "seed: 1"
    echo "ecmp: true"
    echo "defaults:"
    echo "  link: {delay: 50us, rate: 10Gbps}"
    echo "generate:"
    echo "  - fat_tree: {k: $k}"
    echo "workload:"
    for ((h = 1; h <= hosts; h++)); do
      local to=$(( (h - 1 + per_pod) % hosts + 1 ))
      echo "  - {app: bulk, bytes: 10000B, from: host$h, to: host$to:$((1000 + h)), connections: $c, start: {uniform: [0s, ${window}s]}}"
    done
    echo "run: {until: $(awk -v w="$window" 'BEGIN { print w + 10 }')s}"
  } > "$work/t.yaml"
}

# -> "wall rss_kb windows across exchange_s", the rss summed over the ranks
run_one() {  # P (1: one process)
  local t0; t0=$(date +%s%N)
  local how=(); [ "$1" -gt 1 ] && how=(--ranks "$1")
  /usr/bin/time -f "%M" -o "$work/time" "$shakedown" run "$work/t.yaml" --events "$events" --pcap none -q \
    -o "$work/run$1" "${how[@]}" --skip-memory-check
  wall=$(seconds_since "$t0")
  if [ "$1" -gt 1 ]; then
    python3 - "$work/run$1/timing.json" "$wall" <<'PY'
import json, sys
t = json.load(open(sys.argv[1])); r = t["ranks"]
print(sys.argv[2], sum(x["peak_memory_bytes"] for x in r) // 1024, r[0]["windows"],
      sum(x["packets_sent_across"] for x in r), max(x["window_exchange_seconds"] for x in r))
PY
  else
    read -r rss < "$work/time"
    echo "$wall $rss - - -"
  fi
}

printf '| topology | connections | processes | wall (s, median of %s) | speedup | peak memory (MB, all ranks) | windows | windows/s | packets across | most time in exchanges (s) |\n' "$reps"
printf '|---|---|---|---|---|---|---|---|---|---|\n'
status=0
bench() {  # NAME CONNECTIONS
  : > "$work/1.runs"; : > "$work/p.runs"
  for ((r = 1; r <= reps; r++)); do
    run_one 1 >> "$work/1.runs"
    run_one "$ranks" >> "$work/p.runs"
    for f in summary.json connections.csv; do
      if ! cmp -s "$work/run1/$f" "$work/run$ranks/$f"; then
        echo "distributed: $f differs between 1 and $ranks processes ($1)" >&2; status=1
      fi
    done
  done
  local w1 wp; w1=$(awk '{print $1}' "$work/1.runs" | median); wp=$(awk '{print $1}' "$work/p.runs" | median)
  printf '| %s | %s | 1 | %s | 1 | %.0f | - | - | - | - |\n' "$1" "$2" "$w1" \
    "$(awk '{print $2}' "$work/1.runs" | median | awk '{print $1/1024}')"
  local windows; windows=$(awk '{print $3}' "$work/p.runs" | median)
  printf '| %s | %s | %s | %s | %.2f | %.0f | %s | %.0f | %s | %s |\n' "$1" "$2" "$ranks" "$wp" \
    "$(awk -v a="$w1" -v b="$wp" 'BEGIN { print a / b }')" \
    "$(awk '{print $2}' "$work/p.runs" | median | awk '{print $1/1024}')" "$windows" \
    "$(awk -v n="$windows" -v w="$wp" 'BEGIN { print n / w }')" \
    "$(awk '{print $4}' "$work/p.runs" | median)" "$(awk '{print $5}' "$work/p.runs" | median)"
}
for size in "${sizes[@]}"; do
  n=${size%%:*}; k=${size##*:}
  star "$n" "$k"
  bench "star $n×$k" "$((n * k))"
done
for tree in "${trees[@]}"; do
  k=${tree%%:*}; c=${tree##*:}
  fat_tree "$k" "$c"
  bench "fat-tree k=$k" "$((k * k * k / 4 * c))"
done
exit $status
