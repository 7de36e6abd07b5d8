// The event scheduler: a priority queue of callbacks keyed by (time, owner, source,
// source's count).
//
// Events at equal times run in an order every process of a distributed run agrees on,
// whichever components it runs (ARCHITECTURE rule 2): every event belongs to a component
// — its owner: a host, a link direction, a workload, a fault, numbered the same
// everywhere — and was scheduled by one, its source (the owner of the event running
// then; outside any event, the owner itself), which counts what it schedules. Ties go
// by owner, then source, then that count. A component's events run in the same order
// in every process, so each source counts the same, by induction; insertion order,
// which depends on what else a process runs, never decides. An event can be cancelled
// or moved to another time through its EventId; a moved event counts as freshly
// scheduled by whoever moved it, exactly as cancel + schedule would, but without leaving
// a dead entry behind. That matters at scale: a TCP connection moves its one engine
// timer on nearly every ACK.
//
// Implementation: a two-tier calendar queue in the spirit of the ladder queue (Tang,
// Goh & Thng, 2005). Every event has a key (time, sequence number); sequence numbers
// grow with each insertion, so ordering by key is ordering by time, then by insertion.
//  - near: an indexed 4-ary min-heap holding every event earlier than `boundary`;
//  - buckets: events past the boundary, dropped unsorted into time buckets of width W;
//  - overflow: events past the last bucket, unsorted.
// pop() takes the heap's minimum; when the heap is empty the next non-empty bucket is
// heapified into it, and when the buckets are spent the overflow is spread over a new
// set of buckets sized to it. Each event is moved at most a few times, so push and pop
// cost O(1) amortized and touch few cache lines, where a plain heap of 10^5 events pays
// a cache miss at each of its ~8 levels. Every event records its tier and index, so
// cancel and reschedule find it in O(1) (plus O(log n) inside the small heap) and leave
// no dead entries behind.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <limits>
#include <vector>

#include "emulator/time.h"

namespace shakedown {

class EventId {
 public:
  constexpr EventId() = default;
  constexpr bool valid() const { return slot_ != kNone; }
  constexpr bool operator==(const EventId&) const = default;

 private:
  friend class Scheduler;
  static constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();
  constexpr EventId(std::uint32_t slot, std::uint32_t generation) : slot_(slot), generation_(generation) {}
  std::uint32_t slot_ = kNone;
  std::uint32_t generation_ = 0;
};

// Who an event belongs to, for the order of events at equal times. The numbering is
// the components' own (the same in every process of a distributed run): a node by its
// id (a host's TCP and the applications on it), a link direction by its link and
// direction, a workload by its index, a fault by its index. Smaller runs first.
using Owner = std::uint32_t;
namespace owners {
constexpr Owner node(std::uint32_t id) { return id; }  // below 2^30
// A link direction's near end (queue, serialization, impairments, held packets) and its
// far end (handing packets to the receiver), which in a distributed run may be in
// another process.
constexpr Owner link(std::uint32_t id, int direction) { return 1u << 30 | id << 2 | static_cast<Owner>(direction) << 1; }
constexpr Owner link_end(std::uint32_t id, int direction) { return link(id, direction) | 1u; }
constexpr Owner workload(std::uint32_t index) { return 2u << 30 | index; }
constexpr Owner fault(std::uint32_t index) { return 3u << 30 | index; }
// Events scheduled with no owner (tests, tools): after every component's.
inline constexpr Owner kNone = 0xffffffffu;
}  // namespace owners

// The fast form of an event: an object and a 64-bit tag, stored inline in the queue.
// Components on the hot path (link directions, TCP hosts) implement this; a tag tells
// which of their events fired. A handler's events belong to its owner.
class EventHandler {
 public:
  virtual void on_event(std::uint64_t tag) = 0;
  Owner event_owner() const { return owner_; }

 protected:
  ~EventHandler() = default;
  void set_event_owner(Owner owner) { owner_ = owner; }

 private:
  Owner owner_ = owners::kNone;
};

class Scheduler {
 public:
  using Callback = std::function<void()>;

  // An event's place among events at the same time (see above).
  struct Key {
    Owner owner = owners::kNone;
    Owner source = owners::kNone;
    std::uint64_t count = 0;
    auto operator<=>(const Key&) const = default;
  };

  // What pop() hands back: run it after advancing the clock.
  struct Fired {
    TimePoint time;
    EventHandler* handler = nullptr;
    std::uint64_t tag = 0;
    Callback fn;
    Key key;
    void run() {
      if (handler != nullptr) {
        handler->on_event(tag);
      } else {
        fn();
      }
    }
  };

  Scheduler() = default;
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  EventId schedule(TimePoint at, EventHandler& handler, std::uint64_t tag);
  // Convenience form; the callable is kept beside the queue (one more cache miss when
  // it fires than the handler form).
  EventId schedule(TimePoint at, Owner owner, Callback fn);
  EventId schedule(TimePoint at, Callback fn) { return schedule(at, owners::kNone, std::move(fn)); }
  // An event whose source and count were taken elsewhere: a crossing from another
  // process of a distributed run (window.h), scheduled where that process would have.
  EventId schedule_keyed(TimePoint at, const Key& key, Callback fn);
  EventId schedule_keyed(TimePoint at, const Key& key, EventHandler& handler, std::uint64_t tag);
  // Moves a pending event and gives it this key. False if it is not pending.
  bool reschedule_keyed(EventId id, TimePoint at, const Key& key);
  // The key the next event this owner's code schedules would get (and counts it).
  Key next_key(Owner owner);
  // The owner of the event running now (set by the engine), kNone between events.
  void set_running(Owner owner) { running_ = owner; }
  // False if the event already ran or was cancelled.
  bool cancel(EventId id);
  // Moves a pending event to a new time (earlier or later). False if it is not pending.
  bool reschedule(EventId id, TimePoint at);
  bool pending(EventId id) const;
  // Time of a pending event; TimePoint::max() if it is not pending.
  TimePoint time_of(EventId id) const;

  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }
  // Earliest pending time; TimePoint::max() when empty. (Not const: it may move the
  // next bucket of events into the heap, which changes nothing observable.)
  TimePoint next_time() {
    if (size_ == 0) return TimePoint::max();
    if (near_.empty()) refill();
    return TimePoint::from_ns(near_[0].time);
  }

  // Removes the earliest event and returns it. Must not be empty. The event's slot is
  // released before it runs, so it may schedule freely.
  Fired pop();

 private:
  // seq (36 bits) | slot (28 bits): ordering by this word orders by insertion among
  // equal times. 2^28 events may be pending at once; when 2^36 insertions have been
  // made, live entries are renumbered in order (renumber()), which keeps the order.
  static constexpr int kSlotBits = 28;
  static constexpr std::uint64_t kSlotMask = (std::uint64_t{1} << kSlotBits) - 1;
  static constexpr std::uint64_t kSeqLimit = std::uint64_t{1} << (64 - kSlotBits);
  struct Entry {
    std::int64_t time;
    std::uint64_t order;    // seq << kSlotBits | slot
    EventHandler* handler;  // nullptr: the callable in callbacks_[slot]
    std::uint64_t tag;
    std::uint32_t slot() const { return static_cast<std::uint32_t>(order & kSlotMask); }
  };
  // The key is kept beside the entry (in its slot): it is read only when two times are
  // equal, and the entries stay 32 bytes, two to a cache line.
  bool before(const Entry& a, const Entry& b) const {
    if (a.time != b.time) return a.time < b.time;
    const SlotInfo &x = slots_[a.slot()], &y = slots_[b.slot()];
    if (x.key.owner != y.key.owner) return x.key.owner < y.key.owner;
    if (x.key.source != y.key.source) return x.key.source < y.key.source;
    return x.key.count < y.key.count;
  }

  // Where a slot's entry is: the heap, the overflow, or bucket number `tier`.
  static constexpr std::uint32_t kFree = std::numeric_limits<std::uint32_t>::max();
  static constexpr std::uint32_t kNear = kFree - 1;
  static constexpr std::uint32_t kOverflow = kFree - 2;
  static constexpr std::size_t kArity = 4;
  // Buckets are sized to hold about this many events each.
  static constexpr std::size_t kPerBucket = 32;

  // Where each slot's entry is, in one record: one cache line touched per update.
  struct SlotInfo {
    std::uint32_t tier = kFree;
    std::uint32_t pos = 0;
    std::uint32_t generation = 0;
    Key key;
  };

  bool live(EventId id) const {
    return id.slot_ < slots_.size() && slots_[id.slot_].generation == id.generation_ && slots_[id.slot_].tier != kFree;
  }
  std::uint32_t new_slot();
  EventId add(std::uint32_t slot, std::int64_t time, const Key& key, EventHandler* handler, std::uint64_t tag);
  // How many events each source has scheduled, by kind of owner (the top two bits) and
  // index; the last for events scheduled with no owner.
  std::uint64_t& counter(Owner source);
  void release(std::uint32_t slot);
  const Entry& entry(std::uint32_t slot) const;
  void put_near(std::size_t i, const Entry& e) {
    near_[i] = e;
    slots_[e.slot()].tier = kNear;
    slots_[e.slot()].pos = static_cast<std::uint32_t>(i);
  }
  void put_in(std::vector<Entry>& list, std::uint32_t tier, const Entry& e) {
    slots_[e.slot()].tier = tier;
    slots_[e.slot()].pos = static_cast<std::uint32_t>(list.size());
    list.push_back(e);
  }
  std::uint64_t next_order(std::uint32_t slot);
  void renumber();
  void insert(const Entry& e);
  void remove(std::uint32_t slot);
  void remove_from(std::vector<Entry>& list, std::size_t i);
  // Makes the heap non-empty if any event is pending.
  void refill();
  void spread_overflow();
  void heap_push(const Entry& e);
  void heap_sift_up(std::size_t i);
  void heap_sift_down(std::size_t i);
  void heap_remove_at(std::size_t i);

  std::vector<Entry> near_;
  std::int64_t boundary_ = std::numeric_limits<std::int64_t>::min();
  std::vector<std::vector<Entry>> buckets_;
  std::size_t next_bucket_ = 0;
  std::int64_t bucket_base_ = 0;
  std::int64_t bucket_width_ = 1;
  std::vector<Entry> overflow_;
  std::size_t size_ = 0;

  std::vector<Callback> callbacks_;
  std::vector<SlotInfo> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::uint64_t next_seq_ = 0;
  Owner running_ = owners::kNone;
  std::vector<std::uint64_t> counters_[4];
  std::uint64_t unowned_ = 0;
};

}  // namespace shakedown
