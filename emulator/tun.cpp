#include "emulator/tun.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>

extern char** environ;

namespace shakedown {

namespace {

namespace fs = std::filesystem;

constexpr const char* kNamespaces = "/run/netns";
constexpr const char* kNotes = "/run/shakedown";

std::string ipv4(std::uint32_t a) {
  return fmt::format("{}.{}.{}.{}", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

// Runs `ip ARGS...`; returns what it printed on standard error when it fails.
std::optional<std::string> ip(const std::vector<std::string>& args) {
  std::vector<std::string> all{"ip"};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  int err[2];
  if (pipe2(err, O_CLOEXEC) != 0) return std::string("cannot make a pipe: ") + std::strerror(errno);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, "ip", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(err[1]);
  std::string said;
  char buf[512];
  for (ssize_t n; (n = ::read(err[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR);)
    if (n > 0) said.append(buf, static_cast<std::size_t>(n));
  close(err[0]);
  if (spawned != 0) return std::string("cannot run ip: ") + std::strerror(spawned);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return std::nullopt;
  while (!said.empty() && (said.back() == '\n' || said.back() == ' ')) said.pop_back();
  return said.empty() ? std::string("ip failed") : said;
}

void must(const std::vector<std::string>& args, const std::string& what) {
  if (const auto failed = ip(args)) throw std::runtime_error(fmt::format("{}: {}", what, *failed));
}

// Opens a file descriptor of the calling thread's network namespace, or of `name`'s.
int namespace_fd(const std::string& name) {
  const std::string path =
      name.empty() ? std::string("/proc/thread-self/ns/net") : (fs::path(kNamespaces) / name).string();
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  return fd;
}

}  // namespace

std::string real_hosts_missing() {
  std::vector<std::string> missing;
  if (geteuid() != 0) missing.emplace_back("root (network namespaces and TUN devices need it; run with sudo)");
  if (access("/dev/net/tun", R_OK | W_OK) != 0)
    missing.push_back(fmt::format("/dev/net/tun ({}; load the tun module or, in a container, pass the device in)",
                                  std::strerror(errno)));
  if (const auto failed = ip({"-V"}); failed)
    missing.push_back("iproute2's ip command (" + *failed + "; on Debian install 'iproute2')");
  std::string out;
  for (const std::string& m : missing) out += (out.empty() ? "" : ", ") + m;
  return out;
}

NetNamespace::NetNamespace(std::string name) : name_(std::move(name)) {
  if (fs::exists(fs::path(kNamespaces) / name_)) return;
  must({"netns", "add", name_}, fmt::format("cannot create the network namespace {}", name_));
  created_ = true;
}

NetNamespace::~NetNamespace() {
  if (created_) ip({"netns", "delete", name_});
}

TunDevice::TunDevice(const std::string& netns, std::string device, std::uint32_t address, int prefix_len, int mtu,
                     const std::vector<std::uint32_t>& routes)
    : device_(std::move(device)) {
  if (device_.empty() || device_.size() >= IFNAMSIZ)
    throw std::runtime_error(fmt::format("'{}' cannot name a device (1 to {} characters)", device_, IFNAMSIZ - 1));
  // The device is made inside the namespace: this thread steps in, opens it, steps back.
  const int home = namespace_fd("");
  const int there = namespace_fd(netns);
  std::string failed;
  if (setns(there, CLONE_NEWNET) != 0) {
    failed = fmt::format("cannot enter the network namespace {}: {}", netns, std::strerror(errno));
  } else {
    fd_ = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd_ < 0) {
      failed = fmt::format("cannot open /dev/net/tun: {}", std::strerror(errno));
    } else {
      ifreq ifr{};
      ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
      std::strncpy(ifr.ifr_name, device_.c_str(), IFNAMSIZ - 1);
      if (ioctl(fd_, TUNSETIFF, &ifr) != 0) {
        failed = fmt::format("cannot make the TUN device {} in {}: {}", device_, netns, std::strerror(errno));
        close(fd_);
        fd_ = -1;
      }
    }
    if (setns(home, CLONE_NEWNET) != 0) {
      // This thread would go on in the wrong namespace: nothing sensible is left to do.
      std::fprintf(stderr, "shakedown: cannot return from the network namespace %s: %s\n", netns.c_str(),
                   std::strerror(errno));
      std::abort();
    }
  }
  close(home);
  close(there);
  if (!failed.empty()) throw std::runtime_error(failed);
  try {
    const std::string where = fmt::format("the TUN device {} in {}", device_, netns);
    must({"-n", netns, "addr", "add", fmt::format("{}/{}", ipv4(address), prefix_len), "dev", device_},
         "cannot give " + where + " its address");
    must({"-n", netns, "link", "set", "dev", device_, "mtu", std::to_string(mtu), "up"}, "cannot bring up " + where);
    must({"-n", netns, "link", "set", "dev", "lo", "up"}, "cannot bring up the loopback device of " + netns);
    const std::uint32_t mask = prefix_len == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix_len);
    for (const std::uint32_t r : routes)
      if ((r & mask) != (address & mask))
        must({"-n", netns, "route", "replace", ipv4(r) + "/32", "dev", device_},
             fmt::format("cannot route {} through {}", ipv4(r), where));
  } catch (...) {
    close(fd_);
    throw;
  }
}

TunDevice::~TunDevice() {
  if (fd_ >= 0) close(fd_);
}

std::size_t TunDevice::read(std::span<std::uint8_t> out) {
  for (;;) {
    const ssize_t n = ::read(fd_, out.data(), out.size());
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno == EINTR) continue;
    return 0;  // EAGAIN: nothing waiting (and any other error: nothing to hand over)
  }
}

bool TunDevice::write(std::span<const std::uint8_t> packet) {
  for (;;) {
    const ssize_t n = ::write(fd_, packet.data(), packet.size());
    if (n >= 0) return static_cast<std::size_t>(n) == packet.size();
    if (errno != EINTR) return false;
  }
}

CleanupNote::~CleanupNote() {
  if (!path_.empty()) {
    std::error_code ec;
    fs::remove(path_, ec);
  }
}

void CleanupNote::add(const std::string& netns) {
  std::error_code ec;
  fs::create_directories(kNotes, ec);
  if (path_.empty()) path_ = (fs::path(kNotes) / std::to_string(getpid())).string();
  names_.push_back(netns);
  std::ofstream out(path_, std::ios::trunc);
  for (const std::string& n : names_) out << n << '\n';
}

std::vector<std::string> CleanupNote::clean_up_after_dead_runs() {
  std::vector<std::string> removed;
  std::error_code ec;
  for (fs::directory_iterator it(kNotes, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string file = it->path().filename().string();
    const pid_t pid = static_cast<pid_t>(std::atoi(file.c_str()));
    if (pid <= 0 || (kill(pid, 0) == 0 || errno == EPERM)) continue;  // still running
    std::ifstream in(it->path());
    for (std::string name; std::getline(in, name);)
      if (!name.empty() && fs::exists(fs::path(kNamespaces) / name) && !ip({"netns", "delete", name}))
        removed.push_back(name);
    std::error_code gone;
    fs::remove(it->path(), gone);
  }
  return removed;
}

}  // namespace shakedown
