// A first-in first-out queue in one contiguous buffer, for queues that fill and drain
// over and over (a host's outgoing segments, a link's queue). std::deque allocates a
// 512-byte node (and a map) even when empty and frees and allocates nodes as items
// move through it; this keeps one buffer, reused from its start whenever the queue
// runs empty, and compacts it when a queue that never empties has consumed half of it.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace shakedown {

template <typename T>
class Fifo {
 public:
  bool empty() const { return head_ == items_.size(); }
  std::size_t size() const { return items_.size() - head_; }

  void push_back(T item) { items_.push_back(std::move(item)); }
  T& front() { return items_[head_]; }
  const T& front() const { return items_[head_]; }

  // Removes the front item and returns it. Precondition: !empty().
  T pop_front() {
    T item = std::move(items_[head_++]);
    if (head_ == items_.size()) {
      items_.clear();
      head_ = 0;
    } else if (head_ >= kCompactAfter && head_ * 2 >= items_.size()) {
      items_.erase(items_.begin(), items_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
    return item;
  }

  void clear() {
    items_.clear();
    head_ = 0;
  }

  // Removes every item for which `pred` holds, keeping the order of the others.
  template <typename Pred>
  void erase_if(Pred pred) {
    std::size_t out = head_;
    for (std::size_t i = head_; i < items_.size(); ++i)
      if (!pred(items_[i])) items_[out++] = std::move(items_[i]);
    items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(out), items_.end());
    if (empty()) clear();
  }

  auto begin() { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
  auto end() { return items_.end(); }
  auto begin() const { return items_.begin() + static_cast<std::ptrdiff_t>(head_); }
  auto end() const { return items_.end(); }

 private:
  static constexpr std::size_t kCompactAfter = 1024;
  std::vector<T> items_;
  std::size_t head_ = 0;
};

}  // namespace shakedown
