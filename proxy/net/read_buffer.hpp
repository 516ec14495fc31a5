// net::ReadBuffer: where a connection's bytes land before they are framed.
// Reads go straight into its free tail (no copy); framed bytes are consumed from
// the front; a partial frame is moved to the start only when the tail runs
// short, and a buffer grown by one huge message shrinks back once it is empty.
// Parsers keep offsets relative to unread().data(), so moving is safe.
//
// Memory is taken only when bytes arrive. A buffer drawing on a BufferPool (client
// connections) also gives its storage back once everything read is consumed: a
// standard-size buffer to the pool at once, a grown one at the next trim(), so an idle
// connection holds no buffer at all (as Redis frees an idle client's query buffer).
#pragma once

#include <cstring>
#include <memory>
#include <span>
#include <string_view>

#include "net/buffer_pool.hpp"

namespace slotgate::net {

class ReadBuffer {
 public:
  // Own storage: `initial` bytes on the first read, kept while the connection lives.
  explicit ReadBuffer(size_t initial, size_t min_space = 16 * 1024, size_t shrink_above = 1u << 20)
      : initial_(initial), min_space_(min_space), shrink_above_(shrink_above) {}
  // Storage from `pool`, given back whenever the buffer is empty.
  explicit ReadBuffer(BufferPool& pool, size_t min_space = 16 * 1024,
                      size_t shrink_above = 1u << 20)
      : pool_(&pool),
        initial_(BufferPool::kBufferSize),
        min_space_(min_space),
        shrink_above_(shrink_above) {}
  ~ReadBuffer() { release(); }
  ReadBuffer(const ReadBuffer&) = delete;
  ReadBuffer& operator=(const ReadBuffer&) = delete;

  // Room for the next read (at least min_space bytes).
  std::span<char> space() {
    if (size_ == 0) acquire();
    if (size_ - end_ < min_space_) {
      if (start_ > 0) {
        std::memmove(buf_.get(), buf_.get() + start_, end_ - start_);
        end_ -= start_;
        start_ = 0;
      }
      if (size_ - end_ < min_space_) {
        size_t bigger = size_ * 2;
        while (bigger - end_ < min_space_) bigger *= 2;
        grow(bigger);
      }
    }
    return {buf_.get() + end_, size_ - end_};
  }
  void commit(size_t n) { end_ += n; }
  std::string_view unread() const { return {buf_.get() + start_, end_ - start_}; }
  bool empty() const { return start_ == end_; }
  // Bytes allocated, read or not (what the buffer costs in memory).
  size_t capacity() const { return size_; }
  void consume(size_t n) {
    start_ += n;
    if (start_ == end_) {
      start_ = end_ = 0;
      if (size_ > shrink_above_ || (pool_ != nullptr && size_ == BufferPool::kBufferSize)) {
        release();
      }
    }
  }
  void clear() { consume(end_ - start_); }
  // Gives back the storage of an empty buffer (a grown one is otherwise kept for the
  // next read: a client sending big values does not pay a malloc per read).
  void trim() {
    if (empty()) release();
  }

 private:
  void acquire() {
    if (pool_ != nullptr) {
      buf_ = pool_->take_read();
    } else {
      buf_ = std::make_unique_for_overwrite<char[]>(initial_);
    }
    size_ = initial_;
  }
  void grow(size_t size) {
    auto bigger = std::make_unique_for_overwrite<char[]>(size);
    std::memcpy(bigger.get(), buf_.get() + start_, end_ - start_);
    end_ -= start_;
    start_ = 0;
    release();
    buf_ = std::move(bigger);
    size_ = size;
  }
  void release() {
    if (pool_ != nullptr && size_ == BufferPool::kBufferSize) {
      pool_->give_read(std::move(buf_));
    }
    buf_.reset();
    size_ = 0;
  }

  BufferPool* pool_ = nullptr;
  std::unique_ptr<char[]> buf_;
  size_t size_ = 0;  // bytes at buf_ (0: no storage)
  size_t start_ = 0;
  size_t end_ = 0;
  size_t initial_;
  size_t min_space_;
  size_t shrink_above_;
};

}  // namespace slotgate::net
