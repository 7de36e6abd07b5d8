#include "controller/distributed.h"

#include <sys/resource.h>

#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include "emulator/bytes.h"

namespace shakedown::controller {

Distributed::Distributed(const Mpi& mpi, Engine& engine, PacketPool& pool, const Partition& partition)
    : mpi_(mpi),
      engine_(engine),
      pool_(pool),
      rank_of_(partition.rank_of),
      // Windows no longer than kLongestWindow, whatever the lookahead (none, when
      // nothing is cut): rank 0 merges the traces window by window, and a window's
      // traces are what memory holds.
      lookahead_(std::min(partition.lookahead, kLongestWindow)),
      exchange_(mpi) {
  here_.resize(rank_of_.size());
  for (std::size_t n = 0; n < rank_of_.size(); ++n) here_[n] = rank_of_[n] == static_cast<std::uint32_t>(mpi.rank());
}

void Distributed::wire(Built& built, const topology::Topology& topology) {
  Network& net = built.network;
  far_ends_.assign(static_cast<std::size_t>(topology.links_size()) * 2, nullptr);
  window_ = std::make_unique<WindowedRun>(engine_, exchange_, lookahead_, [this](Crossing& c) {
    LinkDirection* far = c.receiver < far_ends_.size() ? far_ends_[c.receiver] : nullptr;
    if (far == nullptr)
      throw std::runtime_error(fmt::format("a packet for link direction {}, whose far end is not here", c.receiver));
    // The packet's bytes; its flags (corrupted, duplicate) in the tag.
    PacketPtr packet = pool_.make(c.bytes.size());
    std::memcpy(packet->bytes().data(), c.bytes.data(), c.bytes.size());
    packet->corrupted = (c.tag & 1) != 0;
    packet->duplicate = (c.tag & 2) != 0;
    far->arrive(c.at, c.key.count, std::move(packet));
  });
  const auto me = static_cast<std::uint32_t>(mpi_.rank());
  for (int l = 0; l < topology.links_size(); ++l) {
    const std::uint32_t ends[2] = {topology.links(l).a(), topology.links(l).b()};
    for (int d = 0; d < 2; ++d) {
      const std::uint32_t near = rank_of_.at(ends[d]), far = rank_of_.at(ends[1 - d]);
      if (near == far) continue;
      LinkDirection& dir = net.link(static_cast<std::uint32_t>(l)).direction(d);
      const auto id = static_cast<std::uint32_t>(l * 2 + d);
      if (near == me) {
        const Owner end = owners::link_end(static_cast<std::uint32_t>(l), d);
        dir.set_far_end_away([this, far, id, end](TimePoint arrival, std::uint64_t seq, PacketPtr packet) {
          Crossing c;
          c.part = far;
          c.at = arrival;
          // The key the far end gives the hand-over (LinkDirection::delivery_key).
          c.key = Scheduler::Key{end, end, seq};
          c.receiver = id;
          c.tag = static_cast<std::uint8_t>((packet->corrupted ? 1 : 0) | (packet->duplicate ? 2 : 0));
          c.bytes = packet->bytes();
          window_->send(c);
        });
      } else if (far == me) {
        far_ends_[id] = &dir;
      }
    }
  }
}

bool Distributed::step(TimePoint limit, bool stop, TraceShipper& shipper, TraceMerger* merger) {
  // The last window's traces travel with this window's round; rank 0 merges them once
  // it has run this window (everything before the last window's end is in them).
  // Each rank's attachment: the events it has run, then its records.
  std::string mine;
  bytes::put(mine, engine_.events_executed());
  mine += shipper.take();
  trace_bytes_ += mine.size();
  exchange_.attach(std::move(mine));
  const double exchanged = exchange_.seconds();
  const auto stepped = std::chrono::steady_clock::now();
  const bool more = window_->step(limit, stop);
  const auto began = std::chrono::steady_clock::now();
  run_seconds_ += std::chrono::duration<double>(began - stepped).count() - (exchange_.seconds() - exchanged);
  if (merger != nullptr) {
    // Split off every rank's count, and merge the records.
    std::vector<std::string_view> streams;
    std::uint64_t events = 0;
    const char* p = exchange_.gathered().data();
    for (const std::uint64_t n : exchange_.gathered_sizes()) {
      if (n >= sizeof(std::uint64_t)) {
        const char* q = p;
        events += bytes::take<std::uint64_t>(q);
        streams.emplace_back(q, n - sizeof(std::uint64_t));
      }
      p += n;
    }
    if (events > 0) events_everywhere_ = events;
    merger->merge(streams);
  }
  trace_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  return more;
}

Distributed::Totals Distributed::add_up(Built& built) {
  Network& net = built.network;
  std::vector<std::uint64_t> v;
  const auto out = [&v](auto& x) { v.push_back(x); };
  for (std::uint32_t l = 0; l < net.link_count(); ++l)
    for (int d = 0; d < 2; ++d) LinkStats(net.link(l).direction(d).stats()).each(out);
  for (std::uint32_t n = 0; n < net.node_count(); ++n) {
    if (net.is_host(n)) {
      HostStats(net.host(n).stats()).each(out);
    } else {
      RouterStats(net.router(n).stats()).each(out);
    }
  }
  for (std::size_t w = 0; w < built.workloads.size(); ++w) built.workloads.stats(w).each_counted(out);
  // The events: this process's, less the schedules' everywhere but on rank 0.
  v.push_back(engine_.events_executed() - (lead() ? 0 : engine_.events_of_schedules()));
  mpi_.sum(v);
  std::vector<std::int64_t> last{engine_.last_event_time().ns()};
  mpi_.max(last);

  std::size_t i = 0;
  const auto in = [&v, &i](auto& x) { x = static_cast<std::remove_reference_t<decltype(x)>>(v[i++]); };
  for (std::uint32_t l = 0; l < net.link_count(); ++l)
    for (int d = 0; d < 2; ++d) {
      LinkStats s;
      s.each(in);
      net.link(l).direction(d).set_stats(s);
    }
  for (std::uint32_t n = 0; n < net.node_count(); ++n) {
    if (net.is_host(n)) {
      HostStats s;
      s.each(in);
      net.host(n).set_stats(s);
    } else {
      RouterStats s;
      s.each(in);
      net.router(n).set_stats(s);
    }
  }
  for (std::size_t w = 0; w < built.workloads.size(); ++w) {
    apps::WorkloadStats s = built.workloads.stats(w);
    s.each_counted(in);
    built.workloads.set_stats(w, s);
  }
  return Totals{v[i], TimePoint::from_ns(last[0])};
}

void Distributed::gather_sides(Recorder& local, Recorder* lead) {
  static_assert(std::is_trivially_copyable_v<SideFields>);
  // This process's hosts, and how far each has been sent.
  std::vector<std::uint32_t> hosts;
  for (std::uint32_t n = 0; n < here_.size(); ++n)
    if (here_[n] && local.sides_opened(n) > 0) hosts.push_back(n);
  std::size_t h = 0, next = 0;
  // On rank 0: how many sides of each host arrived.
  std::vector<std::uint64_t> arrived(lead != nullptr ? here_.size() : 0);
  // Pieces of about kSidePiece bytes, in buffers used again and again (fresh pages are
  // dear, on a virtual machine most of all).
  constexpr std::size_t kSidePiece = std::size_t{4} << 20;
  std::string piece, all;
  piece.reserve(kSidePiece + sizeof(Side) + 64);
  for (;;) {
    // A piece: groups of (host, first, count, sides).
    piece.clear();
    while (h < hosts.size() && piece.size() < kSidePiece) {
      const std::uint32_t host = hosts[h];
      const std::size_t total = local.sides_opened(host);
      std::size_t count = 0;
      const std::size_t at = piece.size();
      bytes::put(piece, host);
      bytes::put(piece, static_cast<std::uint64_t>(next));
      bytes::put(piece, std::uint64_t{0});
      for (; next < total && piece.size() < kSidePiece; ++next, ++count) {
        const Side& s = local.opened_side(host, next);
        bytes::put(piece, static_cast<const SideFields&>(s));
        bytes::put(piece, static_cast<std::uint64_t>(s.timeline.size()));
        for (const auto& [t, state] : s.timeline) {
          bytes::put(piece, t);
          bytes::put(piece, state);
        }
      }
      const auto n = static_cast<std::uint64_t>(count);
      std::memcpy(piece.data() + at + sizeof(std::uint32_t) + sizeof(std::uint64_t), &n, sizeof n);
      if (next == total) {
        ++h;
        next = 0;
      }
    }
    std::vector<std::uint64_t> sizes;
    mpi_.gather(piece, all, &sizes);
    if (lead != nullptr) {
      const char* p = all.data();
      const char* const end = all.data() + all.size();
      std::size_t rank = 0, rank_end = sizes.empty() ? 0 : sizes[0];
      while (p < end) {
        while (static_cast<std::size_t>(p - all.data()) >= rank_end) rank_end += sizes[++rank];
        const auto host = bytes::take<std::uint32_t>(p);
        const auto first = bytes::take<std::uint64_t>(p);
        const auto count = bytes::take<std::uint64_t>(p);
        if (host >= arrived.size() || first != arrived[host] || first + count > lead->sides_opened(host))
          throw std::runtime_error(fmt::format(
              "rank {} recorded connections {}..{} of node {}, where rank 0 knows of {} (a fault of shakedown's)", rank,
              first + 1, first + count, host, host < arrived.size() ? lead->sides_opened(host) : 0));
        for (std::uint64_t i = 0; i < count; ++i) {
          Side& s = lead->opened_side(host, first + i);
          static_cast<SideFields&>(s) = bytes::take<SideFields>(p);
          s.timeline.resize(bytes::take<std::uint64_t>(p));
          for (auto& [t, state] : s.timeline) {
            t = bytes::take<std::int64_t>(p);
            state = bytes::take<tcp::State>(p);
          }
        }
        arrived[host] += count;
      }
    }
    std::vector<std::uint64_t> left{hosts.size() - h};
    mpi_.sum(left);
    if (left[0] == 0) break;
  }
  if (lead != nullptr)
    for (std::uint32_t n = 0; n < arrived.size(); ++n)
      if (arrived[n] != lead->sides_opened(n))
        throw std::runtime_error(fmt::format("rank {} recorded {} connections of node {}, where rank 0 knows of {} "
                                             "(a fault of shakedown's)",
                                             rank_of_[n], arrived[n], n, lead->sides_opened(n)));
}

void Distributed::keep_own_sides(Recorder& local, Recorder& lead) const {
  for (std::uint32_t n = 0; n < here_.size(); ++n) {
    if (!here_[n]) continue;
    // The local recorder may be a window ahead of the merged traces: only the sides
    // rank 0's rows know.
    const std::size_t known = std::min(local.sides_opened(n), lead.sides_opened(n));
    for (std::size_t i = 0; i < known; ++i) {
      const Side& from = local.opened_side(n, i);
      Side& to = lead.opened_side(n, i);
      static_cast<SideFields&>(to) = static_cast<const SideFields&>(from);
      to.timeline = from.timeline;
    }
  }
}

nlohmann::ordered_json Distributed::rank_stats(double wall_seconds) {
  const WindowedRun::Stats& w = window_->stats();
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const std::vector<std::uint64_t> mine{engine_.events_executed(), w.windows, w.sent, w.received, trace_bytes_,
                                        static_cast<std::uint64_t>(exchange_.seconds() * 1e6),
                                        static_cast<std::uint64_t>(trace_seconds_ * 1e6),
                                        static_cast<std::uint64_t>(wall_seconds * 1e6),
                                        static_cast<std::uint64_t>(usage.ru_maxrss) * 1024,
                                        static_cast<std::uint64_t>(run_seconds_ * 1e6)};
  std::string bytes(reinterpret_cast<const char*>(mine.data()), mine.size() * sizeof(std::uint64_t));
  std::vector<std::uint64_t> sizes;
  const std::string all = mpi_.gather(bytes, &sizes);
  nlohmann::ordered_json ranks = nlohmann::ordered_json::array();
  if (!lead()) return ranks;
  for (std::size_t r = 0; r < sizes.size(); ++r) {
    std::uint64_t x[10];
    std::memcpy(x, all.data() + r * sizeof x, sizeof x);
    nlohmann::ordered_json j;
    j["rank"] = r;
    j["host"] = r < mpi_.hosts().size() ? mpi_.hosts()[r] : std::string();
    j["events"] = x[0];
    j["windows"] = x[1];
    j["packets_sent_across"] = x[2];
    j["packets_received_across"] = x[3];
    j["trace_bytes"] = x[4];
    j["run_seconds"] = static_cast<double>(x[9]) / 1e6;
    j["window_exchange_seconds"] = static_cast<double>(x[5]) / 1e6;
    j["trace_merge_seconds"] = static_cast<double>(x[6]) / 1e6;
    j["wall_seconds"] = static_cast<double>(x[7]) / 1e6;
    j["peak_memory_bytes"] = x[8];
    ranks.push_back(j);
  }
  return ranks;
}

std::string Distributed::rank_line(const nlohmann::ordered_json& ranks) const {
  std::string line = fmt::format("{} ranks, lookahead {}, {} windows;", ranks.size(), to_string(lookahead_),
                                 ranks.empty() ? 0 : ranks[0]["windows"].get<std::uint64_t>());
  for (const auto& r : ranks) {
    line += fmt::format("{} rank {}: {} events, {}/{} packets out/in, {:.2f}s running, {:.2f}s in exchanges",
                        r["rank"].get<int>() == 0 ? "" : ";", r["rank"].get<int>(),
                        r["events"].get<std::uint64_t>(), r["packets_sent_across"].get<std::uint64_t>(),
                        r["packets_received_across"].get<std::uint64_t>(), r["run_seconds"].get<double>(),
                        r["window_exchange_seconds"].get<double>());
    if (r["rank"].get<int>() == 0) line += fmt::format(", {:.2f}s merging traces", r["trace_merge_seconds"].get<double>());
  }
  return line;
}

}  // namespace shakedown::controller
