#!/usr/bin/env bash
# Runs every example and draws its pictures into its folder, from the run itself:
#   examples/make-pictures.sh [build/release]
# The numbers in each example's README come from these runs (same file, same seed,
# same output).
set -euo pipefail
cd "$(dirname "$0")"
bin="${1:-../build/release}/shakedown"
[ -x "$bin" ] || bin="$(cd .. && pwd)/${1:-build/release}/shakedown"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# draw EXAMPLE FILE NAME ARGS...: run EXAMPLE/FILE.yaml, then `diagram ARGS`, and keep
# the pictures as EXAMPLE/NAME-*.
draw() {
  local example=$1 file=$2 name=$3
  shift 3
  local run="$work/$example-$file"
  [ -d "$run" ] || "$bin" run "$example/$file.yaml" -o "$run" --pcap none -q || [ $? -eq 1 ]
  "$bin" diagram "$run" "$@" -o "$run" > "$work/drawn"
  while read -r path; do
    case "$path" in
      *.svg|*.md) cp "$path" "$example/$name-$(basename "$path" | sed 's/^conn-[0-9]*-//')" ;;
    esac
  done < "$work/drawn"
}

draw three-way-handshake handshake handshake --conn 1 --kind ladder
draw four-way-wave wave wave --conn 1 --kind ladder
draw old-duplicate-syn three-way three-way-first --conn 1 --kind ladder
draw old-duplicate-syn three-way three-way-duplicate --conn 2 --kind ladder
draw old-duplicate-syn two-way two-way-duplicate --conn 2 --kind ladder
draw retransmission lost-syns lost-syns --conn 1 --kind ladder
draw retransmission lost-handshake-and-fin synack-lost --conn 1 --kind ladder
draw retransmission lost-handshake-and-fin ack-lost --conn 2 --kind ladder
draw retransmission lost-handshake-and-fin fin-lost --conn 3 --kind ladder
draw simultaneous-close close-both close-both --conn 1 --kind ladder
draw simultaneous-open open-both open-both --conn 1 --kind ladder
draw time-wait without zero-new-connection --conn 2 --kind ladder --from 150ms --to 176ms
draw time-wait paws zero-paws --conn 2 --kind ladder --from 150ms --to 176ms
draw time-wait with default-old-segment --conn 1 --kind ladder --from 101ms --to 190ms
draw syn-flood flood flood --cdf
draw syn-flood flood delayed-client --conn 1774 --kind ladder --from 9s --to 12.1s
draw reordering reorder whole --conn 1 --kind timeseq
draw reordering reorder zoomed --conn 1 --kind timeseq --from 100ms --to 220ms
"$bin" sweep retransmission/loss.template.yaml --vary loss=0%,5%,10%,15%,20%,25%,30% \
  --metric handshake.p50 --metric handshake.mean --metric handshake.p90 --metric handshake.p99 -o "$work/sweep" -q
cp "$work/sweep/sweep.svg" retransmission/loss-sweep.svg
cp "$work/sweep/sweep.csv" retransmission/loss-sweep.csv
rm -f ./*/*.mmd ./*/*-ladder.md
echo "pictures drawn"
