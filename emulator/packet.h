// Packets: real bytes (an IPv4 datagram, headers and all) plus a little metadata the
// emulator keeps beside them. Packets come from a PacketPool and go back to it when
// their PacketPtr dies, so a run in steady state allocates nothing per packet.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace shakedown {

class PacketPool;

class Packet {
 public:
  Packet(const Packet&) = delete;
  Packet& operator=(const Packet&) = delete;

  std::span<std::uint8_t> bytes() { return {data_.get(), size_}; }
  std::span<const std::uint8_t> bytes() const { return {data_.get(), size_}; }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return capacity_; }
  // Grows the buffer only when n exceeds its capacity; new bytes are zero.
  void resize(std::size_t n);

  // Unique per run (pool): lets traces follow one packet across links.
  std::uint64_t id() const { return id_; }
  // Set by a link that flipped a bit in this packet. Only for traces and tests: a
  // receiver must find corruption by its checksum, as a real one does.
  bool corrupted = false;
  // Set on the copy a duplicating link made.
  bool duplicate = false;

 private:
  friend class PacketPool;
  friend struct PacketReturn;
  Packet() = default;

  std::unique_ptr<std::uint8_t[]> data_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
  std::uint64_t id_ = 0;
  PacketPool* pool_ = nullptr;
  // Counts buffer allocations, for the pool's statistics.
  std::uint64_t* allocations_ = nullptr;
};

struct PacketReturn {
  void operator()(Packet* p) const;
};
using PacketPtr = std::unique_ptr<Packet, PacketReturn>;

class PacketPool {
 public:
  // Buffers start with this capacity; 2048 bytes holds any packet of a 1500-byte MTU.
  explicit PacketPool(std::size_t buffer_capacity = 2048) : buffer_capacity_(buffer_capacity) {}
  PacketPool(const PacketPool&) = delete;
  PacketPool& operator=(const PacketPool&) = delete;
  ~PacketPool();

  // A packet of `size` zero bytes.
  PacketPtr make(std::size_t size);
  // An exact copy of the bytes, with a new id.
  PacketPtr clone(const Packet& original);

  std::size_t in_use() const { return in_use_; }
  std::size_t free_count() const { return free_.size(); }
  // Packet objects ever created, and data buffers ever allocated or grown. Both stop
  // growing once the run reaches steady state.
  std::uint64_t packets_created() const { return created_; }
  std::uint64_t buffer_allocations() const { return buffer_allocations_; }

 private:
  friend struct PacketReturn;
  void give_back(Packet* p);

  std::size_t buffer_capacity_;
  std::vector<Packet*> free_;
  std::size_t in_use_ = 0;
  std::uint64_t created_ = 0;
  std::uint64_t buffer_allocations_ = 0;
  std::uint64_t next_id_ = 1;
};

}  // namespace shakedown
