#!/usr/bin/env bash
# The reference star (bench/RESULTS.md) in shakedown and in ns-3 3.37, side by side.
#
#   bench/compare-ns3.sh [--reps R] [--build DIR] [N:K ...]      both tools; default 100:100
#   bench/compare-ns3.sh --shakedown-only [--reps R] N:K ...      sizes ns-3 cannot reach
#   bench/compare-ns3.sh --tiny                                   CI: 4:5, once, harness check
#   --window S   starts spread over S seconds (default 5); --until S: stop time (default 120)
#   --window auto   10,000 starts a second whatever the size (0.8 Gbit/s offered to the
#                server's 1 Gbit/s link); with it, --until auto (the default then) is window + 100 s
#
# N clients, K connections each, 10,000 bytes per connection, 1% loss on every link.
# The two tools run alternately, R times each (default 3); the table gives the median
# wall time, wall time per connection, peak memory (maximum resident set size), events
# per second, and the bytes delivered, which must be all N*K*10,000 for both (else the
# script fails).
set -euo pipefail

reps=3
window=5
until=""
build="build/release"
only=""
sizes=()
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) reps="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --window) window="$2"; shift 2 ;;
    --until) until="$2"; shift 2 ;;
    --shakedown-only) only="shakedown"; shift ;;
    --tiny) reps=1; sizes=("4:5"); shift ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *:*) sizes+=("$1"); shift ;;
    *) echo "compare-ns3: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ ${#sizes[@]} -eq 0 ] && sizes=("100:100")
[ -z "$until" ] && { [ "$window" = auto ] && until=auto || until=120; }
[ "$until" = auto ] && [ "$window" != auto ] && { echo "compare-ns3: --until auto goes with --window auto" >&2; exit 2; }
window_arg="$window"
until_arg="$until"

shakedown="$build/shakedown"
ns3="$build/bench/star_ns3"
[ -x "$shakedown" ] || { echo "compare-ns3: $shakedown not built (cmake --build --preset release)" >&2; exit 2; }
if [ -z "$only" ] && [ ! -x "$ns3" ]; then
  echo "compare-ns3: $ns3 not built: install libns3-dev and libgsl-dev (scripts/install-deps.sh) and rebuild" >&2
  exit 2
fi
[ -x /usr/bin/time ] || { echo "compare-ns3: /usr/bin/time missing (Debian package 'time')" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

. "$(dirname "$0")/common.sh"

topology() { star_topology "$work/star.yaml" "$1" "$2" "$window"; }  # N K

run_ns3() {  # N K -> "wall rss_kb events delivered"
  local t0; t0=$(date +%s%N)
  /usr/bin/time -f "%M" -o "$work/time" "$ns3" "$1" "$2" "$window" 1 "$until" > "$work/out"
  wall=$(seconds_since "$t0"); read -r rss < "$work/time"
  echo "$wall $rss $(awk '/^events /{print $2}' "$work/out") $(awk '/^bytes_delivered /{print $2}' "$work/out")"
}

run_shakedown() {
  local t0; t0=$(date +%s%N)
  /usr/bin/time -f "%M" -o "$work/time" "$shakedown" run "$work/star.yaml" --until "${until}s" --events none \
    --pcap none --json -o "$work/run" > "$work/out"
  wall=$(seconds_since "$t0"); read -r rss < "$work/time"
  echo "$wall $rss $(grep -o '"events": [0-9]*' "$work/out" | head -1 | grep -o '[0-9]*') \
$(grep -o '"delivered": [0-9]*' "$work/out" | grep -o '[0-9]*')"
}

printf '| connections | tool | start window (s) | wall (s, median of %s) | wall per connection (µs) | peak memory (MB) | events | events/s | bytes delivered |\n' "$reps"
printf '|---|---|---|---|---|---|---|---|---|\n'
status=0
for size in "${sizes[@]}"; do
  n=${size%%:*}; k=${size##*:}
  want=$((n * k * 10000))
  window=$window_arg
  [ "$window" = auto ] && window=$(awk -v c="$((n * k))" 'BEGIN { print c / 10000 }')
  until=$until_arg
  [ "$until" = auto ] && until=$(awk -v w="$window" 'BEGIN { print w + 100 }')
  topology "$n" "$k"
  tools=(shakedown); [ -z "$only" ] && tools=(ns-3 shakedown)
  for tool in "${tools[@]}"; do : > "$work/$tool.runs"; done
  for ((r = 1; r <= reps; r++)); do
    for tool in "${tools[@]}"; do
      if [ "$tool" = ns-3 ]; then run_ns3 "$n" "$k"; else run_shakedown; fi >> "$work/$tool.runs"
    done
  done
  for tool in "${tools[@]}"; do
    wall=$(awk '{print $1}' "$work/$tool.runs" | median)
    rss=$(awk '{print $2}' "$work/$tool.runs" | median)
    events=$(awk '{print $3}' "$work/$tool.runs" | median)
    delivered=$(awk '{print $4}' "$work/$tool.runs" | sort -u | tr '\n' ' ' | sed 's/ $//')
    rate=$(awk -v e="$events" -v w="$wall" 'BEGIN { if (w > 0) printf "%.2f M", e / w / 1e6; else print "-" }')
    note=""
    if [ "$delivered" != "$want" ]; then note=" (expected $want)"; status=1; fi
    printf '| %s | %s | %s | %s | %.0f | %.1f | %s | %s | %s%s |\n' "$((n * k))" "$tool" "$window" "$wall" \
      "$(awk -v w="$wall" -v c="$((n * k))" 'BEGIN{print w / c * 1e6}')" "$(awk -v r="$rss" 'BEGIN{print r/1024}')" \
      "$events" "$rate" "$delivered" "$note"
    eval "wall_${tool//-/}=$wall; rss_${tool//-/}=$rss"
  done
  if [ -z "$only" ]; then
    awk -v a="$wall_ns3" -v b="$wall_shakedown" -v c="$rss_ns3" -v d="$rss_shakedown" -v n="$((n * k))" \
      'BEGIN { printf "| %s | shakedown / ns-3 | | %s | | %s | | | |\n", n, (b > 0 ? sprintf("%.1f times faster", a / b) : "-"), sprintf("%.1f times less", c / d) }'
  fi
done
exit $status
