#include "controller/connection_table.h"

#include <algorithm>

#include "emulator/random.h"

namespace shakedown::controller {

std::string_view to_string(Outcome o) {
  switch (o) {
    case Outcome::open:
      return "open";
    case Outcome::completed:
      return "completed";
    case Outcome::reset:
      return "reset";
    case Outcome::refused:
      return "refused";
    case Outcome::timed_out:
      return "timed_out";
    case Outcome::crashed:
      return "crashed";
  }
  return "?";
}

std::string_view retransmit_kind_name(int kind) {
  static constexpr std::string_view names[] = {"syn", "syn_ack", "data", "fin"};
  static_assert(std::size(names) == kRetransmitKinds);
  return names[kind];
}

// --- a row --------------------------------------------------------------------------------

Outcome ConnectionRow::outcome() const {
  bool all_completed = true;
  for (const Side& s : side) {
    if (!s.present() || !s.has_conn) continue;
    if (s.outcome != Outcome::completed && s.outcome != Outcome::open) return s.outcome;
    if (s.outcome != Outcome::completed) all_completed = false;
  }
  return all_completed ? Outcome::completed : Outcome::open;
}

std::int64_t ConnectionRow::handshake() const {
  const Side& c = side[0];
  if (c.syn_sent == kNever || c.established == kNever) return kNever;
  return c.established - c.syn_sent;
}

ConnectionRow::Data ConnectionRow::data() const {
  Data d;
  for (const Side& s : side) {
    if (!s.has_conn) continue;
    d.delivered += s.bytes_received;
    d.on_wire += s.bytes_on_wire;
    if (s.first_data_sent != kNever && (d.begin == kNever || s.first_data_sent < d.begin)) d.begin = s.first_data_sent;
    if (s.last_data_received != kNever) d.end = std::max(d.end, s.last_data_received);
  }
  return d;
}

double ConnectionRow::Data::bps(std::uint64_t bytes) const {
  return span() > 0 && bytes > 0 ? static_cast<double>(bytes) * 8e9 / static_cast<double>(span()) : -1;
}

double ConnectionRow::goodput_bps() const {
  const Data d = data();
  return d.bps(d.delivered);
}

double ConnectionRow::throughput_bps() const {
  const Data d = data();
  return d.bps(d.on_wire);
}

std::int64_t ConnectionRow::teardown() const {
  std::int64_t start = kNever, end = 0;
  for (const Side& s : side) {
    if (!s.has_conn) continue;
    if (s.fin_sent != kNever && (start == kNever || s.fin_sent < start)) start = s.fin_sent;
    // Done with the exchange of FINs: TIME_WAIT (the active closer) or CLOSED (the
    // passive one, or a simultaneous close's TIME_WAIT).
    std::int64_t done = s.time_wait_entered;
    if (done == kNever && s.outcome == Outcome::completed) done = s.closed;
    if (done == kNever) return kNever;
    end = std::max(end, done);
  }
  return start == kNever ? kNever : end - start;
}

// --- pairing ------------------------------------------------------------------------------

std::size_t ConnectionTable::TupleHash::operator()(const Tuple& t) const {
  std::uint64_t ports = static_cast<std::uint64_t>(t.sport) << 16 | t.dport;
  std::uint64_t x = (static_cast<std::uint64_t>(t.src) << 32 | t.dst) ^ splitmix64(ports);
  return static_cast<std::size_t>(splitmix64(x));
}

std::size_t ConnectionTable::PairKeyHash::operator()(const PairKey& k) const {
  std::uint64_t isn = k.isn;
  return TupleHash{}(k.tuple) ^ static_cast<std::size_t>(splitmix64(isn));
}

std::uint32_t ConnectionTable::host_of(wire::Ipv4Address a) const {
  const auto h = host_by_address_.find(a.value);
  return h == host_by_address_.end() ? Side::kNoHost : h->second;
}

ConnectionTable::Where ConnectionTable::find(std::uint32_t host, std::uint32_t slot, std::uint32_t generation) const {
  const auto& v = slots_[host];
  if (slot >= v.size()) return {};
  const Slot& s = v[slot];
  if (s.row != 0 && s.generation == generation) return {s.row, s.side};
  return {};
}

ConnectionTable::Where ConnectionTable::new_row(std::uint8_t side) {
  rows_.push_back(ConnectionRow{rows_.size() + 1, {}});
  ++live_rows_;
  return {static_cast<std::uint32_t>(rows_.size()), side};
}

ConnectionTable::Where ConnectionTable::open(std::uint32_t slot, std::uint32_t generation, const Opened& c) {
  const Tuple mine{c.local.value, c.remote.value, c.local_port, c.remote_port};
  const Tuple theirs{c.remote.value, c.local.value, c.remote_port, c.local_port};
  Where w;
  if (lone_) {
    if ((lone_count_ & (kLoneChunk - 1)) == 0) lone_sides_.push_back(std::make_unique<Side[]>(kLoneChunk));
    w = {++lone_count_, 0};
  } else if (c.state == tcp::State::syn_sent) {
    // An active open; or the second of a simultaneous open, which joins the first.
    if (const std::uint32_t* first = opening_.find(theirs);
        first != nullptr && !rows_[*first - 1].side[1].has_conn) {
      w = {*first, 1};
      unpaired_.erase(PairKey{theirs, rows_[*first - 1].side[0].isn});
      opening_.erase(theirs);
    } else {
      w = new_row(0);
      unpaired_.put(PairKey{mine, c.iss}, w.row);
      opening_.put(mine, w.row);
    }
  } else {
    // A passive open: the client with this four-tuple and ISN, if it still waits for
    // its server; otherwise (an old duplicate SYN) a row of its own.
    if (const std::uint32_t* client = unpaired_.find(PairKey{theirs, c.irs}); client != nullptr) {
      w = {*client, 1};
      unpaired_.erase(PairKey{theirs, c.irs});
      opening_.erase(theirs);
    } else {
      w = new_row(1);
    }
  }
  Side& s = side(w);
  s.host = c.host;
  s.address = c.local;
  s.port = c.local_port;
  s.isn = c.iss;
  s.has_conn = true;
  s.state = c.state;
  auto& v = slots_[c.host];
  if (v.size() <= slot) v.resize(slot + 1);
  v[slot] = Slot{generation, w.row, w.side};
  if (!opened_.empty()) opened_[c.host].push_back(w);
  if (lone_) return w;
  by_tuple_.put(mine, w);
  // The peer's address is known even before its side is: a client whose SYN never
  // reaches a server is still drawn against that server.
  Side& peer = rows_[w.row - 1].side[1 - w.side];
  if (!peer.present()) {
    peer.host = host_of(c.remote);
    peer.address = c.remote;
    peer.port = c.remote_port;
  }
  return w;
}

ConnectionTable::Where ConnectionTable::stray(std::uint32_t host, wire::Ipv4Address address, const Tuple& sender,
                                              std::uint16_t port) {
  if (lone_) return {};
  const Where* latest = by_tuple_.find(sender);
  if (latest == nullptr) return {};
  const Where w{latest->row, static_cast<std::uint8_t>(1 - latest->side)};
  Side& s = side(w);
  if (!s.present()) {
    s.host = host;
    s.address = address;
    s.port = port;
  }
  return w;
}

std::uint32_t ConnectionTable::row_sending(const Tuple& t) const {
  const Where* latest = by_tuple_.find(t);
  return latest == nullptr ? 0 : latest->row;
}

bool ConnectionTable::end(Where w, Outcome outcome, std::int64_t t, bool timeline) {
  Side& s = side(w);
  if (s.ended) return false;
  s.ended = true;
  s.outcome = outcome;
  if (s.closed == kNever) s.closed = t;
  if (timeline && (s.timeline.empty() || s.timeline.back().second != tcp::State::closed))
    s.timeline.emplace_back(t, tcp::State::closed);
  if (lone_) return true;
  ConnectionRow& row = rows_[w.row - 1];
  if (w.side == 0) {
    const Tuple tup{s.address.value, row.side[1].address.value, s.port, row.side[1].port};
    unpaired_.erase(PairKey{tup, s.isn});
    opening_.erase(tup);
  }
  for (const Side& x : row.side)
    if (x.has_conn && !x.ended) return true;
  --live_rows_;
  // Forget the tuples, unless a newer connection already took them over.
  for (std::uint8_t i = 0; i < 2; ++i) {
    const Side& x = row.side[i];
    if (!x.has_conn) continue;
    const Tuple tup{x.address.value, row.side[1 - i].address.value, x.port, row.side[1 - i].port};
    if (const Where* latest = by_tuple_.find(tup); latest != nullptr && latest->row == w.row) by_tuple_.erase(tup);
  }
  return true;
}

std::vector<ConnectionTable::Where> ConnectionTable::crash(std::uint32_t host, std::int64_t t, bool timeline) {
  std::vector<Where> ended;
  auto& v = slots_[host];
  for (const Slot& slot : v) {
    if (slot.row == 0) continue;
    const Where w{slot.row, slot.side};
    if (end(w, Outcome::crashed, t, timeline)) ended.push_back(w);
  }
  v.clear();
  return ended;
}

}  // namespace shakedown::controller
