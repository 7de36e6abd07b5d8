#include "emulator/packet.h"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace shakedown {

void Packet::resize(std::size_t n) {
  if (n > capacity_) {
    std::size_t cap = std::max<std::size_t>(capacity_ * 2, n);
    auto grown = std::make_unique<std::uint8_t[]>(cap);
    if (size_ > 0) std::memcpy(grown.get(), data_.get(), size_);
    data_ = std::move(grown);
    capacity_ = cap;
    if (allocations_ != nullptr) ++*allocations_;
  }
  if (n > size_) std::memset(data_.get() + size_, 0, n - size_);
  size_ = n;
}

void PacketReturn::operator()(Packet* p) const {
  if (p != nullptr) p->pool_->give_back(p);
}

PacketPool::~PacketPool() {
  // Packets still alive when the pool dies would dangle; that is a bug in the owner.
  assert(in_use_ == 0);
  for (Packet* p : free_) delete p;
}

PacketPtr PacketPool::make(std::size_t size) {
  Packet* p;
  if (!free_.empty()) {
    p = free_.back();
    free_.pop_back();
  } else {
    p = new Packet();
    p->pool_ = this;
    p->allocations_ = &buffer_allocations_;
    p->data_ = std::make_unique<std::uint8_t[]>(buffer_capacity_);
    p->capacity_ = buffer_capacity_;
    ++buffer_allocations_;
    ++created_;
  }
  p->size_ = 0;
  p->resize(size);
  p->id_ = next_id_++;
  p->corrupted = false;
  p->duplicate = false;
  ++in_use_;
  return PacketPtr(p);
}

PacketPtr PacketPool::clone(const Packet& original) {
  PacketPtr copy = make(0);
  copy->resize(original.size());
  std::memcpy(copy->data_.get(), original.data_.get(), original.size());
  copy->corrupted = original.corrupted;
  copy->duplicate = original.duplicate;
  return copy;
}

void PacketPool::give_back(Packet* p) {
  --in_use_;
  free_.push_back(p);
}

}  // namespace shakedown
