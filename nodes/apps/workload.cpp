#include "nodes/apps/workload.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <unordered_map>

#include <fmt/format.h>

namespace shakedown::apps {

std::string_view to_string(AppKind k) {
  switch (k) {
    case AppKind::connect:
      return "connect";
    case AppKind::bulk:
      return "bulk";
    case AppKind::request_response:
      return "request-response";
    case AppKind::echo:
      return "echo";
    case AppKind::stream:
      return "stream";
    case AppKind::syn_flood:
      return "syn-flood";
  }
  return "?";
}

std::string_view to_string(CloseMode m) {
  switch (m) {
    case CloseMode::client:
      return "client";
    case CloseMode::server:
      return "server";
    case CloseMode::both:
      return "both";
    case CloseMode::client_abort:
      return "abort";
    case CloseMode::server_abort:
      return "server-abort";
    case CloseMode::never:
      return "never";
  }
  return "?";
}

std::vector<TimePoint> StartSchedule::times_for(std::uint64_t count, RandomStream& rng) const {
  std::vector<TimePoint> out;
  out.reserve(count);
  switch (kind) {
    case Kind::at:
      out.assign(count, at);
      break;
    case Kind::list:
      if (times.size() != count)
        throw std::invalid_argument(
            fmt::format("the start list has {} times for {} connections; give one time per connection", times.size(),
                        count));
      out = times;
      std::stable_sort(out.begin(), out.end());
      break;
    case Kind::uniform: {
      if (!(to > from)) throw std::invalid_argument("a uniform start interval must end after it begins");
      const auto span = static_cast<std::uint64_t>((to - from).ns());
      for (std::uint64_t i = 0; i < count; ++i)
        out.push_back(from + Duration::nanoseconds(static_cast<std::int64_t>(rng.below(span))));
      std::sort(out.begin(), out.end());
      break;
    }
    case Kind::poisson: {
      if (!(rate_per_second > 0) || !std::isfinite(rate_per_second))
        throw std::invalid_argument("a Poisson start rate must be positive");
      // Exponential gaps, rounded to the nanosecond; the first arrival is one gap after
      // `from`, as for a Poisson process observed from `from`.
      const double mean_ns = 1e9 / rate_per_second;
      TimePoint t = from;
      for (std::uint64_t i = 0; i < count; ++i) {
        t += Duration::nanoseconds(std::llround(rng.exponential(mean_ns)));
        out.push_back(t);
      }
      break;
    }
  }
  return out;
}

namespace {

// What one connection of a workload exchanges, from the client's side.
struct Exchange {
  std::uint64_t rounds = 0;
  std::uint64_t request = 0;   // client -> server per round
  std::uint64_t response = 0;  // server -> client per round
  bool echo = false;
  bool stream = false;
  std::uint64_t ticks = 0;  // stream
  Duration interval;        // stream
  std::uint64_t out() const { return rounds * request; }
  std::uint64_t in() const { return rounds * response; }

  static Exchange of(const Workload& w) {
    Exchange x;
    switch (w.app) {
      case AppKind::connect:
      case AppKind::syn_flood:
        break;
      case AppKind::bulk:
        x.rounds = 1;
        x.request = w.bytes;
        break;
      case AppKind::request_response:
        x.rounds = w.repetitions;
        x.request = w.request;
        x.response = w.response;
        break;
      case AppKind::echo:
        x.rounds = w.repetitions;
        x.request = w.request;
        x.response = w.request;
        x.echo = true;
        break;
      case AppKind::stream:
        x.stream = true;
        x.interval = w.rate.transmission_time(w.chunk);
        x.ticks = static_cast<std::uint64_t>((w.duration.ns() + x.interval.ns() - 1) / x.interval.ns());
        x.rounds = 1;
        x.request = x.ticks * w.chunk;
        break;
    }
    return x;
  }
};

bool client_closes(CloseMode m) {
  return m == CloseMode::client || m == CloseMode::client_abort || m == CloseMode::both;
}
bool server_closes(CloseMode m) {
  return m == CloseMode::server || m == CloseMode::server_abort || m == CloseMode::both;
}

}  // namespace

// The client side on one host: one record per connection it started.
class ClientApp final : public Handler, private EventHandler {
 public:
  ClientApp(Engine& engine, Stack& stack, const Workload& w, WorkloadStats& stats, wire::Ipv4Address server)
      : engine_(engine), stack_(stack), w_(w), x_(Exchange::of(w)), stats_(stats), server_(server) {
    // Its timers (think time, a stream's ticks) are the client host's.
    set_event_owner(owners::node(stack.host().node_id()));
  }

  void start() {
    const auto s = w_.client_port != 0 ? stack_.connect_from(w_.client_port, server_, w_.port, *this)
                                       : stack_.connect(server_, w_.port, *this);
    if (!s) {
      ++stats_.not_started;
      return;
    }
    ++stats_.started;
    const auto r = static_cast<std::uint32_t>(conns_.size());
    conns_.push_back(Conn{s->id()});
    if (by_slot_.size() <= s->id().index) by_slot_.resize(s->id().index + 1, kNone);
    by_slot_[s->id().index] = r;
  }

  void on_connected(Socket s) override {
    Conn* c = find(s);
    if (c == nullptr) return;
    ++stats_.connected;
    if (x_.stream) {
      c->ticks_left = x_.ticks;
      tick(*c, s);
      return;
    }
    if (x_.rounds > 0) c->released = x_.request;
    advance(*c, s);
  }
  void on_readable(Socket s, std::uint64_t bytes) override {
    Conn* c = find(s);
    if (c == nullptr) return;
    c->received += bytes;
    stats_.client_bytes_received += bytes;
    s.read(bytes);
    advance(*c, s);
  }
  void on_writable(Socket s) override {
    if (Conn* c = find(s)) advance(*c, s);
  }
  void on_peer_closed(Socket s) override {
    Conn* c = find(s);
    if (c == nullptr) return;
    c->peer_closed = true;
    maybe_close(*c, s);
  }
  void on_drained(Socket s) override {
    // The abort is the intended end: no callback follows it.
    if (end(s) == nullptr) return;
    ++stats_.completed;
    s.abort();
  }
  void on_closed(Socket s) override {
    Conn* c = end(s);
    if (c == nullptr) return;
    ++(all_bytes(*c) ? stats_.completed : stats_.incomplete);
  }
  void on_reset(Socket s) override {
    Conn* c = end(s);
    if (c == nullptr) return;
    // The server-abort mode ends every connection with the server's RST.
    ++(w_.close == CloseMode::server_abort && all_bytes(*c) ? stats_.completed : stats_.reset);
  }
  void on_failed(Socket s, Failure why) override {
    if (end(s) == nullptr) return;
    switch (why) {
      case Failure::refused:
        ++stats_.refused;
        break;
      case Failure::timed_out:
        ++stats_.timed_out;
        break;
      case Failure::crashed:
        ++stats_.crashed;
        break;
    }
  }

 private:
  static constexpr std::uint32_t kNone = 0xffffffffu;
  enum Timer : std::uint64_t { kThink = 0, kTick = 1 };
  struct Conn {
    tcp::ConnId id;
    std::uint64_t released = 0;  // bytes the application has produced
    std::uint64_t sent = 0;      // bytes the socket took
    std::uint64_t received = 0;
    std::uint64_t round = 0;
    std::uint64_t ticks_left = 0;
    bool waiting = false;  // thinking between rounds
    bool shut = false;
    bool peer_closed = false;
    bool ended = false;
  };

  Conn* find(Socket s) {
    if (s.id().index >= by_slot_.size() || by_slot_[s.id().index] == kNone) return nullptr;
    Conn& c = conns_[by_slot_[s.id().index]];
    return c.id == s.id() && !c.ended ? &c : nullptr;
  }
  Conn* end(Socket s) {
    Conn* c = find(s);
    if (c != nullptr) {
      c->ended = true;
      by_slot_[s.id().index] = kNone;
    }
    return c;
  }
  bool all_bytes(const Conn& c) const { return c.sent == x_.out() && c.received >= x_.in(); }
  Socket socket(const Conn& c) { return Socket(stack_, c.id); }
  void after(Duration d, const Conn& c, Timer kind) {
    const auto r = static_cast<std::uint64_t>(&c - conns_.data());
    engine_.after(d, *this, r << 1 | kind);
  }

  void on_event(std::uint64_t tag) override {
    Conn& c = conns_[tag >> 1];
    if (c.ended) return;
    const Socket s = socket(c);
    if ((tag & 1) == kTick) {
      tick(c, s);
    } else {
      c.waiting = false;
      c.released += x_.request;
      advance(c, s);
    }
    stack_.host().service();
  }

  void tick(Conn& c, Socket s) {
    c.released += w_.chunk;
    if (--c.ticks_left > 0) after(x_.interval, c, kTick);
    advance(c, s);
  }

  // Sends what is produced and moves through the rounds: round k is complete once its
  // request is sent and its response received; the next request follows after the
  // think time.
  void advance(Conn& c, Socket s) {
    for (;;) {
      if (c.released > c.sent) {
        const std::uint64_t took = s.send(c.released - c.sent);
        c.sent += took;
        stats_.client_bytes_sent += took;
      }
      if (x_.stream || c.waiting || c.round >= x_.rounds) break;
      if (c.sent < (c.round + 1) * x_.request || c.received < (c.round + 1) * x_.response) break;
      if (++c.round >= x_.rounds) break;
      if (w_.think > Duration::zero()) {
        c.waiting = true;
        after(w_.think, c, kThink);
        break;
      }
      c.released += x_.request;
    }
    maybe_close(c, s);
  }

  void maybe_close(Conn& c, Socket s) {
    if (c.shut || c.ended) return;
    const bool done_sending = c.sent == x_.out();
    const bool done = done_sending && c.received >= x_.in();
    if (client_closes(w_.close)) {
      if (w_.half_close && done_sending && !done) {
        c.shut = true;
        s.shutdown();
      } else if (done) {
        c.shut = true;
        if (w_.close == CloseMode::client_abort) {
          s.notify_drained();  // abort once the server has every byte
        } else {
          s.close();
        }
      }
    } else if (c.peer_closed && done_sending) {
      c.shut = true;
      s.close();
    }
  }

  Engine& engine_;
  Stack& stack_;
  const Workload& w_;
  Exchange x_;
  WorkloadStats& stats_;
  wire::Ipv4Address server_;
  std::vector<Conn> conns_;
  std::vector<std::uint32_t> by_slot_;  // connection slot -> index in conns_
};

// The server side: sink, responder or echo, by the workload's exchange.
class ServerApp final : public Handler {
 public:
  ServerApp(const Workload& w, WorkloadStats& stats) : w_(w), x_(Exchange::of(w)), stats_(stats) {}

  void on_connected(Socket s) override {
    if (conns_.size() <= s.id().index) conns_.resize(s.id().index + 1);
    conns_[s.id().index] = Conn{s.id(), true};
    ++stats_.server_accepted;
    if (x_.echo) s.echo_real_bytes();
    advance(conns_[s.id().index], s);
  }
  void on_readable(Socket s, std::uint64_t bytes) override {
    Conn* c = find(s);
    if (c == nullptr) return;
    c->received += bytes;
    stats_.server_bytes_received += bytes;
    s.read(bytes);
    advance(*c, s);
  }
  void on_writable(Socket s) override {
    if (Conn* c = find(s)) advance(*c, s);
  }
  void on_peer_closed(Socket s) override {
    Conn* c = find(s);
    if (c == nullptr) return;
    c->peer_closed = true;
    advance(*c, s);
  }
  void on_drained(Socket s) override {
    if (end(s)) s.abort();
  }
  void on_closed(Socket s) override { end(s); }
  void on_reset(Socket s) override {
    if (end(s)) ++stats_.server_reset;
  }
  void on_failed(Socket s, Failure) override { end(s); }

 private:
  struct Conn {
    tcp::ConnId id;
    bool live = false;
    std::uint64_t received = 0;
    std::uint64_t released = 0;
    std::uint64_t sent = 0;
    std::uint64_t served = 0;  // requests answered
    bool shut = false;
    bool peer_closed = false;
  };

  Conn* find(Socket s) {
    if (s.id().index >= conns_.size()) return nullptr;
    Conn& c = conns_[s.id().index];
    return c.live && c.id == s.id() ? &c : nullptr;
  }
  bool end(Socket s) {
    Conn* c = find(s);
    if (c != nullptr) c->live = false;
    return c != nullptr;
  }

  void advance(Conn& c, Socket s) {
    if (x_.echo) {
      c.released = c.received;
    } else {
      while (c.served < x_.rounds && c.received >= (c.served + 1) * x_.request) {
        ++c.served;
        c.released += x_.response;
      }
    }
    if (c.released > c.sent) {
      const std::uint64_t took = s.send(c.released - c.sent);
      c.sent += took;
      stats_.server_bytes_sent += took;
    }
    if (c.shut) return;
    const bool done_receiving = c.received >= x_.out();
    const bool done_sending = x_.echo ? done_receiving && c.sent == c.received
                                      : x_.response == 0 || (c.served == x_.rounds && c.sent == c.released);
    if (server_closes(w_.close)) {
      if (w_.half_close && done_sending && !done_receiving) {
        c.shut = true;
        s.shutdown();
      } else if (done_sending && done_receiving) {
        c.shut = true;
        if (w_.close == CloseMode::server_abort) {
          s.notify_drained();  // abort once the client has every byte
        } else {
          s.close();
        }
      }
    } else if (c.peer_closed && done_sending) {
      c.shut = true;
      s.close();
    }
  }

  const Workload& w_;
  Exchange x_;
  WorkloadStats& stats_;
  std::vector<Conn> conns_;  // by connection slot
};

struct Workloads::Run final : private EventHandler {
  Run(Engine& e, std::size_t index) : engine(e) { set_event_owner(owners::workload(static_cast<std::uint32_t>(index))); }

  void schedule() {
    if (next < times.size()) engine.at(times[next], *this, 0);
  }
  // Every start due now, dealt to the clients in turn; then the hosts that started one
  // send what they queued (in the order of client_stacks, whatever the order of the
  // starts: equal-time events then enter the engine in the same order), and the next
  // start. Only those hosts: servicing every client host at every start made a run
  // quadratic in the number of clients (10,000 clients, 10^6 starts: 10^10 calls).
  //
  // At most kStartsPerEvent starts per event: the rest due at the same time follow in
  // another event at that time, so that a driver between events (progress, Ctrl-C) is
  // never shut out for long by a million connections all due at once.
  static constexpr std::size_t kStartsPerEvent = 4096;
  void on_event(std::uint64_t) override {
    started.clear();
    // Each start, then each host's sending, is a step of its own (engine.h), numbered
    // alike in every process (a start elsewhere counts too), so that the traces of
    // hosts in different processes of a distributed run fall in the order of one.
    std::uint32_t step = 0;
    for (std::size_t n = 0; n < kStartsPerEvent && next < times.size() && times[next] <= engine.now(); ++n) {
      const std::size_t i = next % clients.size();
      engine.set_running_step(++step);
      // A client that runs in another process of a distributed run starts there.
      if (here[stack_of_client[i]]) {
        clients[i]->start();
        started.push_back(stack_of_client[i]);
      }
      ++next;
    }
    std::sort(started.begin(), started.end());
    started.erase(std::unique(started.begin(), started.end()), started.end());
    for (const std::uint32_t s : started) {
      engine.set_running_step(step + 1 + s);
      client_stacks[s]->host().service();
    }
    schedule();
  }

  Engine& engine;
  WorkloadStats stats;
  std::vector<TimePoint> times;
  std::size_t next = 0;
  std::vector<std::unique_ptr<ClientApp>> clients;
  std::vector<Stack*> client_stacks;            // each client host once, in first-seen order
  std::vector<std::uint32_t> stack_of_client;  // clients[i]'s host in client_stacks
  std::vector<bool> here;                      // by client_stacks: the host runs in this process
  std::vector<std::uint32_t> started;          // scratch for on_event
  std::unique_ptr<ServerApp> server;
};

Workloads::Workloads(Engine& engine, Network& network, std::uint64_t run_seed)
    : engine_(engine), network_(network), run_seed_(run_seed) {}

Workloads::~Workloads() = default;

Stack& Workloads::stack(std::uint32_t host) {
  if (stacks_.size() <= host) stacks_.resize(host + 1);
  if (!stacks_[host]) stacks_[host] = std::make_unique<Stack>(network_.host(host));
  return *stacks_[host];
}

std::size_t Workloads::add(const Workload& spec) {
  const std::string label = spec.name.empty() ? fmt::format("workload {}", specs_.size() + 1) : spec.name;
  auto fail = [&](std::string_view what) {
    throw std::invalid_argument(fmt::format("{}: {}", label, what));
  };
  auto is_host = [&](std::uint32_t n) { return n < network_.node_count() && network_.is_host(n); };
  if (spec.clients.empty()) fail("no client hosts");
  for (std::uint32_t c : spec.clients) {
    if (!is_host(c)) fail(fmt::format("client node {} is not a host", c));
    if (c == spec.server) fail(fmt::format("host '{}' cannot connect to itself", network_.name(c)));
  }
  if (!is_host(spec.server)) fail(fmt::format("server node {} is not a host", spec.server));
  if (spec.port == 0) fail("port 0 is not a port a server can listen on");
  if (spec.connections == 0) fail("connections per client must be at least 1");
  for (const auto& w : specs_)
    if (w->server == spec.server && w->port == spec.port && w->serves() && spec.serves())
      fail(fmt::format("'{}' port {} already serves another workload", network_.name(spec.server), spec.port));
  switch (spec.app) {
    case AppKind::request_response:
    case AppKind::echo:
      if (spec.request == 0) fail("the request size must be at least 1 byte");
      if (spec.repetitions == 0) fail("repetitions must be at least 1");
      break;
    case AppKind::stream:
      if (spec.rate.unlimited()) fail("a stream needs a rate");
      if (spec.duration <= Duration::zero()) fail("a stream needs a positive duration");
      if (spec.chunk == 0) fail("a stream's chunk must be at least 1 byte");
      if (spec.rate.transmission_time(spec.chunk) <= Duration::zero())
        fail("the stream's rate is too high for its chunk size (one chunk per nanosecond at most)");
      break;
    default:
      break;
  }
  if (spec.think < Duration::zero()) fail("think time cannot be negative");

  auto run = std::make_unique<Run>(engine_, specs_.size());
  const std::uint64_t total = static_cast<std::uint64_t>(spec.clients.size()) * spec.connections;
  RandomStream rng(run_seed_, fmt::format("workload/{}/start", specs_.size()));
  try {
    run->times = spec.start.times_for(total, rng);
  } catch (const std::invalid_argument& e) {
    fail(e.what());
  }
  specs_.push_back(std::make_unique<Workload>(spec));
  Workload& w = *specs_.back();
  run->stats.planned = total;
  if (w.app == AppKind::syn_flood) w.close = CloseMode::never;  // it never completes a handshake it could close
  if (w.serves()) {
    run->server = std::make_unique<ServerApp>(w, run->stats);
    stack(w.server).listen(w.port, *run->server, w.listen);
  }
  const wire::Ipv4Address server_address = network_.address(w.server);
  std::unordered_map<const Stack*, std::uint32_t> stack_index;
  for (std::uint32_t c : w.clients) {
    Stack& st = stack(c);
    run->clients.push_back(std::make_unique<ClientApp>(engine_, st, w, run->stats, server_address));
    const auto [it, fresh] = stack_index.try_emplace(&st, static_cast<std::uint32_t>(run->client_stacks.size()));
    if (fresh) {
      run->client_stacks.push_back(&st);
      run->here.push_back(network_.here(c));
    }
    run->stack_of_client.push_back(it->second);
  }
  run->schedule();
  runs_.push_back(std::move(run));
  return specs_.size() - 1;
}

const std::vector<TimePoint>& Workloads::start_times(std::size_t i) const { return runs_.at(i)->times; }

void Workloads::set_stats(std::size_t i, const WorkloadStats& s) { runs_.at(i)->stats = s; }

WorkloadStats Workloads::stats(std::size_t i) const {
  WorkloadStats s = runs_.at(i)->stats;
  const std::uint64_t ended = s.completed + s.incomplete + s.reset + s.refused + s.timed_out + s.crashed;
  s.open = s.started - ended;
  return s;
}

}  // namespace shakedown::apps
