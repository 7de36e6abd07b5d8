#!/usr/bin/env bash
# Installs every Debian 12 package shakedown needs to build, test and benchmark.
# Idempotent: when everything is present it only checks, and returns in a moment.
# Run as root, or as a user who may sudo.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config   # toolchain
  libfmt-dev                         # formatting (emulator, messages)
  libprotobuf-dev protobuf-compiler  # the canonical topology form
  libyaml-cpp-dev                    # topology files
  libcli11-dev                       # the command line
  nlohmann-json3-dev                 # summary.json, reading events.jsonl back
  googletest libgtest-dev libgmock-dev  # the test suites
  libbenchmark-dev                   # bench/ microbenchmarks
  libns3-dev libgsl-dev time         # bench/: the same scenario in ns-3 3.37, timed
  tshark                             # tests read captures back as Wireshark would
  libxml2-utils                      # tests validate JUnit reports with xmllint
  libmetis-dev                       # partitions of distributed runs
  libopenmpi-dev openmpi-bin         # distributed runs: MPI and mpirun
  libboost-dev                       # real time: Boost.Asio's event loop
  iproute2                           # real hosts: ip netns, ip addr, ip route
  python3                            # tests: the Linux programs on real hosts
  curl                               # tests: curl as a real host's client
)

# --fuzz: also clang and its libFuzzer runtime, for the `fuzz` preset.
if [ "${1:-}" = "--fuzz" ]; then
  packages+=(clang libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run this script as root (or install sudo) to install them" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
