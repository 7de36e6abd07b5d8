// The engine: virtual time plus the scheduler. One object, passed by reference to
// everything that needs time; never a global (STYLE rule 6).
//
// Calling protocol: components schedule callbacks with at()/after(); the owner calls
// run() or run_until(); a callback may schedule, cancel and reschedule, and may call
// stop(). now() never goes backwards, and nothing here reads the wall clock.
#pragma once

#include <cstdint>
#include <utility>

#include "emulator/scheduler.h"
#include "emulator/time.h"

namespace shakedown {

class Engine {
 public:
  Engine() = default;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  TimePoint now() const { return now_; }

  // Schedules at an absolute time; a time in the past is clamped to now (it runs next
  // among its owner's events at now, after those already scheduled there). Events at
  // equal times run by owner, then in the order they were scheduled (scheduler.h).
  EventId at(TimePoint t, Owner owner, Scheduler::Callback fn) {
    return scheduler_.schedule(t < now_ ? now_ : t, owner, std::move(fn));
  }
  EventId after(Duration d, Owner owner, Scheduler::Callback fn) { return at(now_ + d, owner, std::move(fn)); }
  // Owned by no component: after every component's events at the same time.
  EventId at(TimePoint t, Scheduler::Callback fn) { return at(t, owners::kNone, std::move(fn)); }
  EventId after(Duration d, Scheduler::Callback fn) { return at(now_ + d, owners::kNone, std::move(fn)); }
  // The fast form (see EventHandler): no allocation, nothing stored beside the queue.
  EventId at(TimePoint t, EventHandler& handler, std::uint64_t tag) {
    return scheduler_.schedule(t < now_ ? now_ : t, handler, tag);
  }
  EventId after(Duration d, EventHandler& handler, std::uint64_t tag) { return at(now_ + d, handler, tag); }
  // For crossings between the processes of a distributed run (window.h): the key an
  // event of `owner` scheduled now would get, and scheduling with a key from elsewhere.
  Scheduler::Key next_key(Owner owner) { return scheduler_.next_key(owner); }
  EventId at_keyed(TimePoint t, const Scheduler::Key& key, Scheduler::Callback fn) {
    return scheduler_.schedule_keyed(t < now_ ? now_ : t, key, std::move(fn));
  }
  EventId at_keyed(TimePoint t, const Scheduler::Key& key, EventHandler& handler, std::uint64_t tag) {
    return scheduler_.schedule_keyed(t < now_ ? now_ : t, key, handler, tag);
  }
  bool reschedule_keyed(EventId id, TimePoint t, const Scheduler::Key& key) {
    return scheduler_.reschedule_keyed(id, t < now_ ? now_ : t, key);
  }
  bool cancel(EventId id) { return scheduler_.cancel(id); }
  bool reschedule(EventId id, TimePoint t) { return scheduler_.reschedule(id, t < now_ ? now_ : t); }
  bool pending(EventId id) const { return scheduler_.pending(id); }

  // Runs until no event is left or stop() is called.
  void run() { run_until(TimePoint::max()); }
  // Runs every event with time <= limit, then leaves now() at limit (if reached) so
  // that a later run_until continues seamlessly. Returns the number of events run.
  std::uint64_t run_until(TimePoint limit);
  // The same, but returns after at most `max_events` events, with now() at the last
  // one run: a driver calls it in a loop to show progress or honour Ctrl-C between
  // slices. The events run, and their order, are exactly those of one run_until. Time
  // moves on to `limit` only when events remain beyond it; when none is left it stays
  // at the last event (run_until(limit) afterwards moves it on).
  std::uint64_t run_slice(TimePoint limit, std::uint64_t max_events);
  // Ends the current run_until after the running event returns.
  void stop() { stop_requested_ = true; }
  bool stopped() const { return stop_requested_; }

  // The event running now, for whoever must put what it does in the order one process
  // would (the traces of a distributed run): its time and key, and a step within it
  // that a component running several others' work in one event may set (a workload
  // servicing its client hosts in turn); 0 at the start of every event.
  const Scheduler::Key& running_key() const { return running_key_; }
  std::uint32_t running_step() const { return running_step_; }
  void set_running_step(std::uint32_t step) { running_step_ = step; }
  // When the last event ran (zero before the first): where a run that ran out of
  // events ended, whatever run_until moved now() to.
  TimePoint last_event_time() const { return last_event_; }

  std::uint64_t events_executed() const { return events_executed_; }
  // Of those, the events of workloads and faults, which belong to no node or link: a
  // distributed run runs them in every process.
  std::uint64_t events_of_schedules() const { return events_of_schedules_; }
  std::size_t events_pending() const { return scheduler_.size(); }
  TimePoint next_event_time() { return scheduler_.next_time(); }

 private:
  Scheduler scheduler_;
  template <typename More>
  std::uint64_t run_while(TimePoint limit, More more);

  TimePoint now_ = TimePoint::zero();
  TimePoint last_event_ = TimePoint::zero();
  Scheduler::Key running_key_;
  std::uint32_t running_step_ = 0;
  std::uint64_t events_executed_ = 0;
  std::uint64_t events_of_schedules_ = 0;
  bool stop_requested_ = false;
};

}  // namespace shakedown
