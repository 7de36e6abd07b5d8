// Real hosts' plumbing (ARCHITECTURE, "Real time and real hosts"; rule 8): a Linux
// network namespace — created for the run, or one the user named and made — and a TUN
// device in it carrying raw IPv4, the bytes the emulated network already carries (no
// link layer, so no ARP). Whatever runs in the namespace (`ip netns exec NAME ...`)
// sends its packets into the device; the emulator reads them and writes back what the
// emulated network delivers.
//
// Setup goes through iproute2's `ip`, the tool users know: `ip netns list` shows the
// namespaces, `ip -n NAME addr` the device. What a run creates it removes when it ends;
// a run that was killed leaves a note (under /run/shakedown) that `shakedown cleanup`
// reads to remove its namespaces.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace shakedown {

// What is missing for real hosts on this machine (root, /dev/net/tun, `ip`), or empty.
std::string real_hosts_missing();

class NetNamespace {
 public:
  // Joins the namespace `name` if it exists; creates it otherwise (and removes it when
  // destroyed). Throws std::runtime_error saying what failed.
  explicit NetNamespace(std::string name);
  ~NetNamespace();
  NetNamespace(const NetNamespace&) = delete;
  NetNamespace& operator=(const NetNamespace&) = delete;

  const std::string& name() const { return name_; }
  bool created() const { return created_; }

 private:
  std::string name_;
  bool created_ = false;
};

class TunDevice {
 public:
  // A TUN device named `device` inside `netns`, non-blocking, with `address` (IPv4,
  // host order) on a /`prefix_len` network, the given MTU, up, and a route through it
  // to each of `routes` (host order, /32) outside that network. The loopback device of
  // the namespace comes up too. Throws std::runtime_error saying what failed.
  TunDevice(const std::string& netns, std::string device, std::uint32_t address, int prefix_len, int mtu,
            const std::vector<std::uint32_t>& routes);
  ~TunDevice();  // the device vanishes with its descriptor
  TunDevice(const TunDevice&) = delete;
  TunDevice& operator=(const TunDevice&) = delete;

  int fd() const { return fd_; }
  const std::string& device() const { return device_; }
  // One packet into `out`: its size, or 0 when none is waiting.
  std::size_t read(std::span<std::uint8_t> out);
  // One packet out to the namespace's stack; false if the device refused it.
  bool write(std::span<const std::uint8_t> packet);

 private:
  int fd_ = -1;
  std::string device_;
};

// The note a run leaves of the namespaces it created, for `shakedown cleanup` should
// the run be killed: written as each is created, removed when the run ends.
class CleanupNote {
 public:
  CleanupNote() = default;
  ~CleanupNote();
  CleanupNote(const CleanupNote&) = delete;
  CleanupNote& operator=(const CleanupNote&) = delete;
  void add(const std::string& netns);

  // Removes the namespaces of runs that are no longer running; returns their names.
  static std::vector<std::string> clean_up_after_dead_runs();

 private:
  std::string path_;
  std::vector<std::string> names_;
};

}  // namespace shakedown
