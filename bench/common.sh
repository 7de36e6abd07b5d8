# Pieces the benchmark scripts share (sourced, not run).

# Wall seconds since a `date +%s%N` taken before.
seconds_since() { awk -v a="$1" -v b="$(date +%s%N)" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
# The median of the numbers on standard input, one per line.
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# The reference star (bench/RESULTS.md) as a topology file: FILE N K WINDOW — N clients,
# K connections each of 10,000 bytes, starts uniform over WINDOW seconds, 1% loss on
# every 10 ms, 1 Gbit/s link.
star_topology() {
  cat > "$1" <<YAML
name: star-$2x$3
seed: 1
defaults:
  link: {delay: 10ms, rate: 1Gbps, loss: 1%}
  tcp: {mss: 1448}
generate:
  - star: {hub: r, hosts: client, count: $2}
hosts:
  server: {}
links:
  - {ends: [r, server]}
workload:
  - {app: bulk, bytes: 10000B, from: client*, to: server:80, connections: $3, start: {uniform: [0s, $4s]}}
YAML
}
