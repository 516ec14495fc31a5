// net::RingFifo: a first-in first-out queue in one power-of-two ring. It holds no storage
// until the first push (an idle connection costs nothing here; std::deque allocates 576
// bytes up front), grows by doubling, and allocates only while the queue reaches a new depth
// (std::deque allocated and freed a block every few dozen pushes).
//
// KeepOnDrain: the largest ring kept when the queue drains. A backend connection's in-flight
// FIFO keeps whatever it grew to (the default: its pipeline depth comes back); a client's
// reply queue gives a ring bigger than 16 back once it drains, and trim() (its tick) frees
// even the small one of an idle client.
#pragma once

#include <cstddef>
#include <limits>
#include <memory>
#include <utility>

namespace slotgate::net {

template <typename T, size_t KeepOnDrain = std::numeric_limits<size_t>::max()>
class RingFifo {
 public:
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  // Precondition for front(), pop_front() and operator[]: i < size().
  T& front() { return buf_[head_]; }
  const T& front() const { return buf_[head_]; }
  // The i-th oldest element (0 is front()).
  T& operator[](size_t i) { return buf_[(head_ + i) & (capacity_ - 1)]; }
  const T& operator[](size_t i) const { return buf_[(head_ + i) & (capacity_ - 1)]; }

  void push_back(T value) {
    if (size_ == capacity_) grow();
    buf_[(head_ + size_) & (capacity_ - 1)] = std::move(value);
    ++size_;
  }
  void pop_front() {
    buf_[head_] = T{};
    head_ = (head_ + 1) & (capacity_ - 1);
    if (--size_ == 0) drained();
  }
  void clear() {
    for (size_t i = 0; i < size_; ++i) (*this)[i] = T{};
    size_ = 0;
    drained();
  }
  // Frees the storage of an empty queue.
  void trim() {
    if (size_ == 0) release();
  }
  void swap(RingFifo& other) noexcept {
    std::swap(buf_, other.buf_);
    std::swap(capacity_, other.capacity_);
    std::swap(head_, other.head_);
    std::swap(size_, other.size_);
  }

  class iterator {
   public:
    iterator(RingFifo* q, size_t i) : q_(q), i_(i) {}
    T& operator*() const { return (*q_)[i_]; }
    iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator!=(const iterator& o) const { return i_ != o.i_; }

   private:
    RingFifo* q_;
    size_t i_;
  };
  iterator begin() { return {this, 0}; }
  iterator end() { return {this, size_}; }

 private:
  void grow() {
    const size_t capacity = capacity_ == 0 ? 4 : capacity_ * 2;
    auto buf = std::make_unique<T[]>(capacity);
    for (size_t i = 0; i < size_; ++i) buf[i] = std::move((*this)[i]);
    buf_ = std::move(buf);
    capacity_ = capacity;
    head_ = 0;
  }
  void drained() {
    head_ = 0;
    if (capacity_ > KeepOnDrain) release();
  }
  void release() {
    buf_.reset();
    capacity_ = 0;
    head_ = 0;
  }

  std::unique_ptr<T[]> buf_;
  size_t capacity_ = 0;  // 0 or a power of two
  size_t head_ = 0;
  size_t size_ = 0;
};

}  // namespace slotgate::net
