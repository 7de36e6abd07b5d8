#include "emulator/scheduler.h"

#include <algorithm>
#include <cassert>
#include <stdexcept>
#include <utility>

namespace shakedown {

std::uint64_t Scheduler::next_order(std::uint32_t slot) {
  if (next_seq_ == kSeqLimit) renumber();
  return (next_seq_++ << kSlotBits) | slot;
}

// Gives the live entries sequence numbers 0..n-1 in their current order. Their
// relative order, the only thing sequence numbers carry, is unchanged.
void Scheduler::renumber() {
  std::vector<Entry*> all;
  all.reserve(size_);
  for (auto& e : near_) all.push_back(&e);
  for (auto& b : buckets_)
    for (auto& e : b) all.push_back(&e);
  for (auto& e : overflow_) all.push_back(&e);
  std::sort(all.begin(), all.end(), [](const Entry* a, const Entry* b) { return a->order < b->order; });
  std::uint64_t seq = 0;
  for (Entry* e : all) e->order = (seq++ << kSlotBits) | e->slot();
  next_seq_ = seq;
}

const Scheduler::Entry& Scheduler::entry(std::uint32_t slot) const {
  const SlotInfo& info = slots_[slot];
  if (info.tier == kNear) return near_[info.pos];
  if (info.tier == kOverflow) return overflow_[info.pos];
  return buckets_[info.tier][info.pos];
}

std::uint32_t Scheduler::new_slot() {
  if (!free_slots_.empty()) {
    const std::uint32_t slot = free_slots_.back();
    free_slots_.pop_back();
    return slot;
  }
  if (slots_.size() > kSlotMask) throw std::length_error("scheduler: more than 2^28 events pending");
  slots_.emplace_back();
  callbacks_.emplace_back();
  return static_cast<std::uint32_t>(slots_.size() - 1);
}

std::uint64_t& Scheduler::counter(Owner source) {
  if (source == owners::kNone) return unowned_;
  auto& v = counters_[source >> 30];
  const std::uint32_t i = source & ((1u << 30) - 1);
  if (i >= v.size()) v.resize(std::max<std::size_t>(i + 1, v.size() * 2), 0);
  return v[i];
}

Scheduler::Key Scheduler::next_key(Owner owner) {
  const Owner source = running_ == owners::kNone ? owner : running_;
  return Key{owner, source, counter(source)++};
}

EventId Scheduler::add(std::uint32_t slot, std::int64_t time, const Key& key, EventHandler* handler, std::uint64_t tag) {
  slots_[slot].key = key;
  insert(Entry{time, next_order(slot), handler, tag});
  ++size_;
  return EventId(slot, slots_[slot].generation);
}

void Scheduler::release(std::uint32_t slot) {
  SlotInfo& info = slots_[slot];
  info.tier = kFree;
  ++info.generation;
  free_slots_.push_back(slot);
  --size_;
}

EventId Scheduler::schedule(TimePoint at_time, EventHandler& handler, std::uint64_t tag) {
  return add(new_slot(), at_time.ns(), next_key(handler.event_owner()), &handler, tag);
}

EventId Scheduler::schedule(TimePoint at_time, Owner owner, Callback fn) {
  return schedule_keyed(at_time, next_key(owner), std::move(fn));
}

EventId Scheduler::schedule_keyed(TimePoint at_time, const Key& key, EventHandler& handler, std::uint64_t tag) {
  return add(new_slot(), at_time.ns(), key, &handler, tag);
}

EventId Scheduler::schedule_keyed(TimePoint at_time, const Key& key, Callback fn) {
  const std::uint32_t slot = new_slot();
  callbacks_[slot] = std::move(fn);
  return add(slot, at_time.ns(), key, nullptr, 0);
}

void Scheduler::insert(const Entry& e) {
  if (e.time < boundary_) return heap_push(e);
  const std::int64_t offset = e.time - bucket_base_;
  if (offset >= 0) {
    const auto b = static_cast<std::uint64_t>(offset / bucket_width_);
    assert(b >= next_bucket_);  // the boundary covers every spent bucket
    if (b < buckets_.size()) return put_in(buckets_[b], static_cast<std::uint32_t>(b), e);
  }
  put_in(overflow_, kOverflow, e);
}

void Scheduler::remove(std::uint32_t slot) {
  const std::uint32_t tier = slots_[slot].tier;
  const std::uint32_t i = slots_[slot].pos;
  if (tier == kNear) {
    heap_remove_at(i);
  } else if (tier == kOverflow) {
    remove_from(overflow_, i);
  } else {
    remove_from(buckets_[tier], i);
  }
}

void Scheduler::remove_from(std::vector<Entry>& list, std::size_t i) {
  if (i + 1 != list.size()) {
    list[i] = list.back();
    slots_[list[i].slot()].pos = static_cast<std::uint32_t>(i);
  }
  list.pop_back();
}

bool Scheduler::cancel(EventId id) {
  if (!live(id)) return false;
  const Entry& e = entry(id.slot_);
  if (e.handler == nullptr) callbacks_[id.slot_] = nullptr;
  remove(id.slot_);
  release(id.slot_);
  return true;
}

bool Scheduler::reschedule(EventId id, TimePoint at_time) {
  if (!live(id)) return false;
  return reschedule_keyed(id, at_time, next_key(slots_[id.slot_].key.owner));
}

bool Scheduler::reschedule_keyed(EventId id, TimePoint at_time, const Key& key) {
  if (!live(id)) return false;
  const Entry& current = entry(id.slot_);
  const Entry moved{at_time.ns(), next_order(id.slot_), current.handler, current.tag};
  slots_[id.slot_].key = key;
  if (slots_[id.slot_].tier == kNear && moved.time < boundary_) {
    // Stays in the heap: move it in place.
    const std::size_t i = slots_[id.slot_].pos;
    const Entry old = near_[i];
    put_near(i, moved);
    if (before(moved, old)) {
      heap_sift_up(i);
    } else {
      heap_sift_down(i);
    }
    return true;
  }
  remove(id.slot_);
  insert(moved);
  return true;
}

bool Scheduler::pending(EventId id) const { return live(id); }

TimePoint Scheduler::time_of(EventId id) const {
  if (!live(id)) return TimePoint::max();
  return TimePoint::from_ns(entry(id.slot_).time);
}

Scheduler::Fired Scheduler::pop() {
  assert(size_ > 0);
  if (near_.empty()) refill();
  const Entry top = near_[0];
  const std::uint32_t slot = top.slot();
  Fired fired{TimePoint::from_ns(top.time), top.handler, top.tag, {}, slots_[slot].key};
  if (top.handler == nullptr) fired.fn = std::move(callbacks_[slot]);
  heap_remove_at(0);
  release(slot);
  return fired;
}

void Scheduler::refill() {
  while (near_.empty()) {
    while (next_bucket_ < buckets_.size() && buckets_[next_bucket_].empty()) ++next_bucket_;
    // Skipped buckets are spent too: the heap now owns their time range, so that an
    // event scheduled into that range later goes to the heap, not to a spent bucket.
    boundary_ = std::max(boundary_, bucket_base_ + static_cast<std::int64_t>(next_bucket_) * bucket_width_);
    if (next_bucket_ == buckets_.size()) {
      if (overflow_.empty()) return;
      spread_overflow();
      continue;
    }
    // Everything before the end of this bucket now belongs to the heap.
    std::vector<Entry>& bucket = buckets_[next_bucket_];
    ++next_bucket_;
    boundary_ = bucket_base_ + static_cast<std::int64_t>(next_bucket_) * bucket_width_;
    near_.swap(bucket);
    bucket.clear();
    for (std::size_t i = 0; i < near_.size(); ++i) put_near(i, near_[i]);
    for (std::size_t i = near_.size() / kArity + 1; i-- > 0;) heap_sift_down(i);
  }
}

// Spreads the overflow over fresh buckets of a width chosen so that a bucket holds
// about kPerBucket events. The width comes from the span of the lower 90% of the
// events, so that a few far-future events (a TIME_WAIT expiry, the end of the run)
// do not make the buckets so wide that everything lands in the first; those few stay
// in the overflow for the next round.
void Scheduler::spread_overflow() {
  std::vector<Entry> pending;
  pending.swap(overflow_);
  const std::size_t n = pending.size();
  std::int64_t lo = pending[0].time;
  for (const auto& e : pending) lo = std::min(lo, e.time);
  std::int64_t width = 1;
  std::size_t count = 1;
  if (n > kPerBucket) {
    std::vector<std::int64_t> times(n);
    for (std::size_t i = 0; i < n; ++i) times[i] = pending[i].time;
    const std::size_t k = n * 9 / 10;
    std::nth_element(times.begin(), times.begin() + static_cast<std::ptrdiff_t>(k), times.end());
    const std::int64_t span = times[k] - lo;
    width = std::max<std::int64_t>(1, span / static_cast<std::int64_t>(k / kPerBucket + 1));
    count = static_cast<std::size_t>(span / width) + 1;
  } else {
    std::int64_t hi = lo;
    for (const auto& e : pending) hi = std::max(hi, e.time);
    width = hi - lo + 1;
  }
  bucket_base_ = lo;
  bucket_width_ = width;
  next_bucket_ = 0;
  for (auto& b : buckets_) b.clear();
  buckets_.resize(count);
  boundary_ = lo;  // nothing pending is earlier than lo
  for (const auto& e : pending) insert(e);
}

void Scheduler::heap_push(const Entry& e) {
  near_.push_back(e);
  put_near(near_.size() - 1, e);
  heap_sift_up(near_.size() - 1);
}

void Scheduler::heap_sift_up(std::size_t i) {
  const Entry e = near_[i];
  while (i > 0) {
    const std::size_t parent = (i - 1) / kArity;
    if (!before(e, near_[parent])) break;
    put_near(i, near_[parent]);
    i = parent;
  }
  put_near(i, e);
}

void Scheduler::heap_sift_down(std::size_t i) {
  const Entry e = near_[i];
  const std::size_t n = near_.size();
  while (true) {
    const std::size_t first = i * kArity + 1;
    if (first >= n) break;
    const std::size_t last = std::min(first + kArity, n);
    std::size_t best = first;
    for (std::size_t c = first + 1; c < last; ++c)
      if (before(near_[c], near_[best])) best = c;
    if (!before(near_[best], e)) break;
    put_near(i, near_[best]);
    i = best;
  }
  put_near(i, e);
}

void Scheduler::heap_remove_at(std::size_t i) {
  const Entry removed = near_[i];
  const Entry tail = near_.back();
  near_.pop_back();
  if (i == near_.size()) return;  // it was the tail
  put_near(i, tail);
  if (before(tail, removed)) {
    heap_sift_up(i);
  } else {
    heap_sift_down(i);
  }
}

}  // namespace shakedown
