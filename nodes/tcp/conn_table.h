// The endpoint's four-tuple table: a flat open-addressing hash map from a packed
// (local port, remote port, remote address) key to a connection id. Linear probing in
// one array of 16-byte entries, at most half full, deletion by backward shift (no
// tombstones): a lookup touches one or two cache lines, where a node-based map touches
// a bucket, a node and a chain. A server with 10^5 connections looks one up per
// segment.
#pragma once

#include <cstdint>
#include <vector>

#include "emulator/random.h"

namespace shakedown::tcp {

template <typename Value>
class ConnTable {
 public:
  // key 0 is never a connection's (its local port would be 0): it marks an empty slot.
  static constexpr std::uint64_t kEmpty = 0;

  const Value* find(std::uint64_t key) const {
    if (entries_.empty()) return nullptr;
    for (std::size_t i = home(key);; i = (i + 1) & mask()) {
      const Entry& e = entries_[i];
      if (e.key == key) return &e.value;
      if (e.key == kEmpty) return nullptr;
    }
  }
  bool contains(std::uint64_t key) const { return find(key) != nullptr; }

  // Inserts, or replaces the value of an existing key.
  void put(std::uint64_t key, Value value) {
    if ((size_ + 1) * 2 > entries_.size()) grow();
    for (std::size_t i = home(key);; i = (i + 1) & mask()) {
      Entry& e = entries_[i];
      if (e.key == key) {
        e.value = value;
        return;
      }
      if (e.key == kEmpty) {
        e = Entry{key, value};
        ++size_;
        return;
      }
    }
  }

  void erase(std::uint64_t key) {
    if (entries_.empty()) return;
    std::size_t hole = home(key);
    while (entries_[hole].key != key) {
      if (entries_[hole].key == kEmpty) return;
      hole = (hole + 1) & mask();
    }
    // Backward shift: move up every later entry of the run that may sit in the hole
    // (its home is not strictly between the hole and itself, cyclically).
    for (std::size_t j = (hole + 1) & mask(); entries_[j].key != kEmpty; j = (j + 1) & mask()) {
      const std::size_t h = home(entries_[j].key);
      const bool stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
      if (stays) continue;
      entries_[hole] = entries_[j];
      hole = j;
    }
    entries_[hole] = Entry{};
    --size_;
  }

  std::size_t size() const { return size_; }

 private:
  struct Entry {
    std::uint64_t key = kEmpty;
    Value value{};
  };
  std::size_t mask() const { return entries_.size() - 1; }
  std::size_t home(std::uint64_t key) const {
    std::uint64_t x = key;
    return static_cast<std::size_t>(splitmix64(x)) & mask();
  }
  void grow() {
    std::vector<Entry> old = std::move(entries_);
    entries_.assign(old.empty() ? 16 : old.size() * 2, Entry{});
    size_ = 0;
    for (const Entry& e : old)
      if (e.key != kEmpty) put(e.key, e.value);
  }

  std::vector<Entry> entries_;
  std::size_t size_ = 0;
};

}  // namespace shakedown::tcp
