// client::ReplyQueue: a session's requests in the order their replies are owed, oldest
// first. A ring of pointers that holds no storage until the first request (an idle
// client costs nothing here; std::deque allocates 576 bytes up front), grows by doubling
// for deep pipelines, gives a large ring back once it drains, and keeps a small one for
// the next request so a client sending one command at a time allocates nothing per
// command. trim() (the session's tick) frees even the small ring of an idle client.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

namespace slotgate::client {

template <typename T>
class ReplyQueue {
 public:
  // Kept while empty (a client pipelining up to this many allocates only once).
  static constexpr size_t kKeepCapacity = 16;

  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  T& front() { return slots_[head_]; }
  void push_back(T v) {
    if (size_ == capacity_) grow();
    slots_[(head_ + size_) & (capacity_ - 1)] = std::move(v);
    ++size_;
  }
  void pop_front() {
    head_ = (head_ + 1) & (capacity_ - 1);
    if (--size_ == 0) {
      head_ = 0;
      if (capacity_ > kKeepCapacity) release();
    }
  }
  void clear() {
    size_ = head_ = 0;
    if (capacity_ > kKeepCapacity) release();
  }
  // Frees the storage of an empty queue.
  void trim() {
    if (size_ == 0) release();
  }

  class iterator {
   public:
    iterator(ReplyQueue* q, size_t i) : q_(q), i_(i) {}
    T& operator*() const { return q_->slots_[(q_->head_ + i_) & (q_->capacity_ - 1)]; }
    iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator!=(const iterator& o) const { return i_ != o.i_; }

   private:
    ReplyQueue* q_;
    size_t i_;
  };
  iterator begin() { return {this, 0}; }
  iterator end() { return {this, size_}; }

 private:
  void grow() {
    size_t bigger = capacity_ == 0 ? 4 : capacity_ * 2;
    auto slots = std::make_unique<T[]>(bigger);
    for (size_t i = 0; i < size_; ++i) slots[i] = std::move(slots_[(head_ + i) & (capacity_ - 1)]);
    slots_ = std::move(slots);
    capacity_ = bigger;
    head_ = 0;
  }
  void release() {
    slots_.reset();
    capacity_ = 0;
  }

  std::unique_ptr<T[]> slots_;
  size_t capacity_ = 0;  // 0 or a power of two
  size_t head_ = 0;
  size_t size_ = 0;
};

}  // namespace slotgate::client
