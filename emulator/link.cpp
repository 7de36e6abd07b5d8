#include "emulator/link.h"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "emulator/wide.h"

namespace shakedown {

LinkDirection::LinkDirection(Engine& engine, PacketPool& pool, std::uint64_t run_seed, std::string component, Site site,
                             const LinkParams& params)
    : engine_(engine),
      pool_(pool),
      run_seed_(run_seed),
      component_(std::move(component)),
      site_(site),
      params_(params) {
  set_event_owner(site.kind == Site::Kind::link ? owners::link(site.id, site.direction) : owners::node(site.id));
  far_owner_ = site.kind == Site::Kind::link ? owners::link_end(site.id, site.direction) : owners::node(site.id);
  build_stages();
}

LinkDirection::~LinkDirection() {
  engine_.cancel(transmission_event_);
  engine_.cancel(delivery_event_);
  engine_.cancel(held_event_);
}

void LinkDirection::build_stages() {
  // Streams are named per stage, and per parameter change, so that a change mid-run
  // neither replays old draws nor shifts another stage's numbers.
  const std::string base = params_version_ == 0 ? component_ : fmt::format("{}/v{}", component_, params_version_);
  loss_.emplace(params_.loss, RandomStream(run_seed_, base + "/loss"));
  jitter_.emplace(params_.delay, RandomStream(run_seed_, base + "/delay"));
  duplicate_rng_ = RandomStream(run_seed_, base + "/duplicate");
  corrupt_rng_ = RandomStream(run_seed_, base + "/corrupt");
  reorder_rng_ = RandomStream(run_seed_, base + "/reorder");
  duplicate_draw_ = CorrelatedDraw(params_.duplicate_correlation.threshold(), duplicate_rng_);
  corrupt_draw_ = CorrelatedDraw(params_.corrupt_correlation.threshold(), corrupt_rng_);
  reorder_draw_ = CorrelatedDraw(params_.reorder.correlation.threshold(), reorder_rng_);
  duplicate_threshold_ = params_.duplicate.threshold();
  corrupt_threshold_ = params_.corrupt.threshold();
  reorder_threshold_ = params_.reorder.probability.threshold();
  reorder_counter_ = 0;
}

void LinkDirection::set_params(const LinkParams& params) {
  const bool was_up = up();
  params_ = params;
  ++params_version_;
  build_stages();
  if (was_up && !up()) flush();
}

void LinkDirection::set_up(bool on) {
  const bool was_up = up();
  params_.up = on;
  if (was_up && !up()) flush();
}

void LinkDirection::hold_down(bool hold) {
  const bool was_up = up();
  if (hold) {
    ++down_holds_;
  } else if (down_holds_ > 0) {
    --down_holds_;
  }
  if (was_up && !up()) flush();
}

void LinkDirection::add_fault(PacketFault fault) {
  Fault f;
  f.rng = RandomStream(run_seed_, fmt::format("{}/fault/{}", component_, faults_.size()));
  f.spec = std::move(fault);
  faults_.push_back(std::move(f));
}

void LinkDirection::flush() {
  engine_.cancel(transmission_event_);
  engine_.cancel(delivery_event_);
  if (on_wire_) drop(std::move(on_wire_), DropReason::link_down);
  while (!queue_.empty()) {
    PacketPtr p = queue_.pop_front();
    drop(std::move(p), DropReason::link_down);
  }
  queue_bytes_ = 0;
  // Drop in arrival order, so traces read naturally.
  std::sort(delay_line_.begin(), delay_line_.end(), [](const InFlight& a, const InFlight& b) { return Later{}(b, a); });
  for (auto& f : delay_line_) drop(std::move(f.packet), DropReason::link_down);
  delay_line_.clear();
}

void LinkDirection::send(PacketPtr packet) {
  if (!faults_.empty() && apply_faults(packet)) return;
  enter(std::move(packet));
}

// Two passes: every fault first counts the packet if it matches (so that each counts
// all its matches, whatever the others do), then what the acting faults do is done
// together: a drop wins; otherwise the copies are taken (before any corruption, as
// netem duplicates before it corrupts), each corruption flips a bit of the original,
// and the delays add up, the copies held with the packet they follow.
bool LinkDirection::apply_faults(PacketPtr& packet) {
  const TimePoint now = engine_.now();
  bool dropped = false, corrupted = false;
  int copies = 0;
  Duration hold = Duration::zero();
  for (Fault& f : faults_) {
    f.acting = false;
    if (now < f.spec.from || now >= f.spec.until || !f.spec.match || !f.spec.match(*packet)) continue;
    ++f.seen;
    if (!f.spec.acts_on(f.seen)) continue;
    f.acting = true;
    switch (f.spec.action) {
      case PacketFault::Action::drop:
        dropped = true;
        break;
      case PacketFault::Action::delay:
        // Saturating (at a quarter of the clock's range): many long delays on one packet
        // must not wrap the clock.
        hold = Duration::nanoseconds(static_cast<std::int64_t>(std::min<std::uint64_t>(
            saturating_add(static_cast<std::uint64_t>(hold.ns()), static_cast<std::uint64_t>(f.spec.delay.ns())),
            static_cast<std::uint64_t>(Duration::max().ns() / 4))));
        break;
      case PacketFault::Action::duplicate:
        ++copies;
        break;
      case PacketFault::Action::corrupt:
        corrupted = true;
        break;
    }
  }
  if (dropped) {
    drop(std::move(packet), DropReason::fault);
    return true;
  }
  std::vector<PacketPtr> clones;
  for (int i = 0; i < copies; ++i) {
    clones.push_back(pool_.clone(*packet));
    clones.back()->duplicate = true;
  }
  if (corrupted)
    for (Fault& f : faults_)
      if (f.acting && f.spec.action == PacketFault::Action::corrupt) flip_random_bit(*packet, f.rng);
  if (hold == Duration::zero()) {
    if (clones.empty()) return false;
    enter(std::move(packet));
    for (auto& c : clones) enter(std::move(c));
    return true;
  }
  const TimePoint release = now + hold;
  const bool new_head = held_.empty() || release < held_.front().arrival;
  const auto hold_one = [&](PacketPtr p) {
    held_.push_back(InFlight{release, next_seq_++, std::move(p)});
    std::push_heap(held_.begin(), held_.end(), Later{});
  };
  hold_one(std::move(packet));
  for (auto& c : clones) hold_one(std::move(c));
  if (new_head && !engine_.reschedule(held_event_, release)) held_event_ = engine_.at(release, *this, kHeldRelease);
  return true;
}

// netem's corruption: one bit, anywhere in the packet. The byte is drawn before the
// bit, always, so that the draws are the same whichever stage asks.
void LinkDirection::flip_random_bit(Packet& packet, RandomStream& rng) {
  if (packet.size() == 0) return;
  const auto at = rng.below(packet.size());
  const auto bit = rng.below(8);
  packet.bytes()[at] ^= static_cast<std::uint8_t>(1u << bit);
  packet.corrupted = true;
}

void LinkDirection::release_held() {
  std::pop_heap(held_.begin(), held_.end(), Later{});
  PacketPtr packet = std::move(held_.back().packet);
  held_.pop_back();
  if (!held_.empty()) held_event_ = engine_.at(held_.front().arrival, *this, kHeldRelease);
  enter(std::move(packet));  // past the faults: a replayed packet is not matched again
}

void LinkDirection::enter(PacketPtr packet) {
  if (!up()) return drop(std::move(packet), DropReason::link_down);
  if (params_.mtu != 0 && packet->size() > params_.mtu) return drop(std::move(packet), DropReason::mtu);

  if (params_.rate.unlimited()) {
    ++stats_.enqueued_packets;
    stats_.enqueued_bytes += packet->size();
    emit(PacketEventKind::enqueue, *packet);
    return impair(std::move(packet), true);
  }
  // The packet on the wire is not in the queue: the limits count packets waiting.
  const bool wire_busy = static_cast<bool>(on_wire_);
  if (wire_busy) {
    if ((params_.queue_packets != 0 && queue_.size() >= params_.queue_packets) ||
        (params_.queue_bytes != 0 && queue_bytes_ + packet->size() > params_.queue_bytes))
      return drop(std::move(packet), DropReason::queue_full);
  }
  ++stats_.enqueued_packets;
  stats_.enqueued_bytes += packet->size();
  emit(PacketEventKind::enqueue, *packet);
  if (!wire_busy) {
    on_wire_ = std::move(packet);
    start_transmission();
    return;
  }
  queue_bytes_ += packet->size();
  queue_.push_back(std::move(packet));
  stats_.max_queue_packets =
      std::max<std::uint32_t>(stats_.max_queue_packets, static_cast<std::uint32_t>(queue_.size()));
}

Duration LinkDirection::serialization_time(std::size_t bytes) const {
  // netem's packet_time_ns: overhead per packet, then whole cells of cell_size.
  std::int64_t len = static_cast<std::int64_t>(bytes) + params_.packet_overhead;
  if (len < 0) len = 0;
  if (params_.cell_size != 0) {
    std::int64_t cells = len / params_.cell_size;
    if (len > cells * params_.cell_size) ++cells;
    len = cells * (static_cast<std::int64_t>(params_.cell_size) + params_.cell_overhead);
  }
  return params_.rate.transmission_time(static_cast<std::uint64_t>(std::max<std::int64_t>(len, 0)));
}

void LinkDirection::on_event(std::uint64_t tag) {
  if (tag == kTransmissionDone) {
    transmission_done();
  } else if (tag == kDeliveryDue) {
    deliver_due();
  } else {
    release_held();
  }
}

void LinkDirection::start_transmission() {
  transmission_event_ = engine_.after(serialization_time(on_wire_->size()), *this, kTransmissionDone);
}

void LinkDirection::transmission_done() {
  PacketPtr sent = std::move(on_wire_);
  if (!queue_.empty()) {
    on_wire_ = queue_.pop_front();
    queue_bytes_ -= on_wire_->size();
    start_transmission();
  }
  impair(std::move(sent), true);
}

// netem_enqueue, from the duplicate decision to the delay line.
void LinkDirection::impair(PacketPtr packet, bool may_duplicate) {
  int count = 1;
  if (may_duplicate && duplicate_threshold_ != 0 && duplicate_threshold_ >= duplicate_draw_.next(duplicate_rng_))
    ++count;
  if (loss_->lose()) --count;
  if (count == 0) return drop(std::move(packet), DropReason::loss);

  // The copy is taken before the original can be corrupted; it then goes through
  // loss, corruption and delay on its own, before the original (netem re-enqueues it
  // at the root qdisc with duplication switched off).
  if (count > 1) {
    PacketPtr copy = pool_.clone(*packet);
    copy->duplicate = true;
    ++stats_.duplicated;
    impair(std::move(copy), false);
  }

  if (corrupt_threshold_ != 0 && corrupt_threshold_ >= corrupt_draw_.next(corrupt_rng_) && packet->size() > 0) {
    flip_random_bit(*packet, corrupt_rng_);
    ++stats_.corrupted;
  }
  propagate(std::move(packet));
}

void LinkDirection::propagate(PacketPtr packet) {
  const TimePoint now = engine_.now();
  // netem: reordering is off with gap 0 or probability 0; inside the first gap-1
  // packets of a cycle everything is delayed; after that each packet is sent at once
  // with the reorder probability, which starts a new cycle.
  const std::uint32_t gap = reorder_threshold_ == 0 ? 0 : params_.reorder.gap;
  if (gap == 0 || reorder_counter_ < gap - 1 || reorder_threshold_ < reorder_draw_.next(reorder_rng_)) {
    TimePoint arrival = now + jitter_->draw();
    if (!params_.delay.jitter_reorders) arrival = std::max(arrival, last_arrival_);
    last_arrival_ = std::max(last_arrival_, arrival);
    ++reorder_counter_;
    enter_delay_line(arrival, std::move(packet));
  } else {
    reorder_counter_ = 0;
    ++stats_.reordered;
    enter_delay_line(now, std::move(packet));
  }
}

void LinkDirection::enter_delay_line(TimePoint arrival, PacketPtr packet) {
  const std::uint64_t seq = next_seq_++;
  if (carry_) return carry_(arrival, seq, std::move(packet));
  arrive(arrival, seq, std::move(packet));
}

void LinkDirection::arrive(TimePoint arrival, std::uint64_t seq, PacketPtr packet) {
  const bool new_head = delay_line_.empty() || arrival < delay_line_.front().arrival;
  delay_line_.push_back(InFlight{arrival, seq, std::move(packet)});
  std::push_heap(delay_line_.begin(), delay_line_.end(), Later{});
  if (!new_head) return;
  const Scheduler::Key key = delivery_key(delay_line_.front());
  if (!engine_.reschedule_keyed(delivery_event_, arrival, key))
    delivery_event_ = engine_.at_keyed(arrival, key, *this, kDeliveryDue);
}

// A hand-over belongs to the far end, and goes in the order packets entered the delay
// line: the key a far end in another process gives it too (window.h).
Scheduler::Key LinkDirection::delivery_key(const InFlight& f) const {
  return Scheduler::Key{far_owner_, far_owner_, f.seq};
}

void LinkDirection::deliver_due() {
  const TimePoint now = engine_.now();
  // Deliver one packet per event: the receiver may send into this very link (or close
  // it), and the heap must be consistent while it runs.
  std::pop_heap(delay_line_.begin(), delay_line_.end(), Later{});
  PacketPtr packet = std::move(delay_line_.back().packet);
  delay_line_.pop_back();
  if (!delay_line_.empty()) {
    delivery_event_ = engine_.at_keyed(std::max(now, delay_line_.front().arrival), delivery_key(delay_line_.front()),
                                       *this, kDeliveryDue);
  }
  ++stats_.delivered_packets;
  stats_.delivered_bytes += packet->size();
  emit(PacketEventKind::deliver, *packet);
  if (receiver_ != nullptr) receiver_->receive(std::move(packet));
}

void LinkDirection::drop(PacketPtr packet, DropReason reason) {
  ++stats_.dropped[static_cast<int>(reason)];
  emit(PacketEventKind::drop, *packet, reason);
}

void LinkDirection::emit(PacketEventKind kind, const Packet& packet, DropReason reason) {
  if (observer_ == nullptr) return;
  observer_->on_packet(PacketEvent{engine_.now(), kind, site_, reason, packet});
}

Link::Link(Engine& engine, PacketPool& pool, std::uint64_t run_seed, std::uint32_t id, const LinkParams& forward,
           const LinkParams& backward)
    : id_(id) {
  for (int d = 0; d < 2; ++d) {
    directions_[d] = std::make_unique<LinkDirection>(engine, pool, run_seed, fmt::format("link/{}/{}", id, d),
                                                     Site{Site::Kind::link, id, static_cast<std::uint8_t>(d)},
                                                     d == 0 ? forward : backward);
  }
}

void Link::set_up(bool up) {
  directions_[0]->set_up(up);
  directions_[1]->set_up(up);
}

void Link::hold_down(bool hold) {
  directions_[0]->hold_down(hold);
  directions_[1]->hold_down(hold);
}

void Link::set_observer(Observer* observer) {
  directions_[0]->set_observer(observer);
  directions_[1]->set_observer(observer);
}

}  // namespace shakedown
