// A flat open-addressing hash map for the tables a run consults per packet or per
// connection (a host's four-tuples, the recorder's connections by tuple). Linear
// probing in one array of entries, at most half full, deletion by backward shift (no
// tombstones): a lookup touches one or two cache lines, where a node-based map such as
// std::unordered_map touches a bucket, a node and a chain, and allocates per insert.
//
// The key's value-initialized form (Key{}: zero for integers, all fields zero for a
// struct) marks an empty slot and may never be inserted; callers choose keys for which
// it cannot occur (a four-tuple with port 0). Hash maps a Key to 64 well-mixed bits.
#pragma once

#include <cstdint>
#include <vector>

#include "emulator/random.h"

namespace shakedown {

struct Splitmix64Hash {
  std::uint64_t operator()(std::uint64_t key) const {
    std::uint64_t state = key;
    return splitmix64(state);
  }
};

template <typename Key, typename Value, typename Hash = Splitmix64Hash>
class FlatMap {
 public:
  const Value* find(const Key& key) const {
    if (entries_.empty()) return nullptr;
    for (std::size_t i = home(key);; i = (i + 1) & mask()) {
      const Entry& e = entries_[i];
      if (e.key == key) return &e.value;
      if (e.key == Key{}) return nullptr;
    }
  }
  Value* find(const Key& key) { return const_cast<Value*>(static_cast<const FlatMap&>(*this).find(key)); }
  bool contains(const Key& key) const { return find(key) != nullptr; }

  // Inserts, or replaces the value of an existing key.
  void put(const Key& key, Value value) {
    if ((size_ + 1) * 2 > entries_.size()) grow();
    for (std::size_t i = home(key);; i = (i + 1) & mask()) {
      Entry& e = entries_[i];
      if (e.key == key) {
        e.value = value;
        return;
      }
      if (e.key == Key{}) {
        e = Entry{key, value};
        ++size_;
        return;
      }
    }
  }

  // Removes the key; false if it was not there.
  bool erase(const Key& key) {
    if (entries_.empty()) return false;
    std::size_t hole = home(key);
    while (!(entries_[hole].key == key)) {
      if (entries_[hole].key == Key{}) return false;
      hole = (hole + 1) & mask();
    }
    // Backward shift: move up every later entry of the run that may sit in the hole
    // (its home is not strictly between the hole and itself, cyclically).
    for (std::size_t j = (hole + 1) & mask(); !(entries_[j].key == Key{}); j = (j + 1) & mask()) {
      const std::size_t h = home(entries_[j].key);
      const bool stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
      if (stays) continue;
      entries_[hole] = entries_[j];
      hole = j;
    }
    entries_[hole] = Entry{};
    --size_;
    return true;
  }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  struct Entry {
    Key key{};
    Value value{};
  };
  std::size_t mask() const { return entries_.size() - 1; }
  std::size_t home(const Key& key) const { return static_cast<std::size_t>(Hash{}(key)) & mask(); }
  void grow() {
    std::vector<Entry> old = std::move(entries_);
    entries_.assign(old.empty() ? 16 : old.size() * 2, Entry{});
    size_ = 0;
    for (const Entry& e : old)
      if (!(e.key == Key{})) put(e.key, e.value);
  }

  std::vector<Entry> entries_;
  std::size_t size_ = 0;
};

}  // namespace shakedown
