// backend::RingFifo: a first-in first-out queue in one power-of-two ring that grows by
// doubling and never shrinks. A connection's in-flight FIFO sees a push and a pop per
// request; std::deque allocated and freed a block every few dozen of them, this allocates
// only while the connection's pipeline reaches a new depth.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

namespace slotgate::backend {

template <typename T>
class RingFifo {
 public:
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
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
    --size_;
  }
  void swap(RingFifo& other) noexcept {
    std::swap(buf_, other.buf_);
    std::swap(capacity_, other.capacity_);
    std::swap(head_, other.head_);
    std::swap(size_, other.size_);
  }

 private:
  void grow() {
    const size_t capacity = capacity_ == 0 ? 16 : capacity_ * 2;
    auto buf = std::make_unique<T[]>(capacity);
    for (size_t i = 0; i < size_; ++i) buf[i] = std::move((*this)[i]);
    buf_ = std::move(buf);
    capacity_ = capacity;
    head_ = 0;
  }

  std::unique_ptr<T[]> buf_;
  size_t capacity_ = 0;  // 0 or a power of two
  size_t head_ = 0;
  size_t size_ = 0;
};

}  // namespace slotgate::backend
