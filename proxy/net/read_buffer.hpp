// net::ReadBuffer: where a connection's bytes land before they are framed.
// Reads go straight into its free tail (no copy); framed bytes are consumed from
// the front; a partial frame is moved to the start only when the tail runs
// short, and a buffer grown by one huge message shrinks back once it is empty.
// Parsers keep offsets relative to unread().data(), so moving is safe.
#pragma once

#include <cstring>
#include <span>
#include <string_view>
#include <vector>

namespace slotgate::net {

class ReadBuffer {
 public:
  explicit ReadBuffer(size_t initial, size_t min_space = 16 * 1024, size_t shrink_above = 1u << 20)
      : initial_(initial), min_space_(min_space), shrink_above_(shrink_above) {
    buf_.resize(initial);
  }

  // Room for the next read (at least min_space bytes).
  std::span<char> space() {
    if (buf_.size() - end_ < min_space_) {
      if (start_ > 0) {
        std::memmove(buf_.data(), buf_.data() + start_, end_ - start_);
        end_ -= start_;
        start_ = 0;
      }
      while (buf_.size() - end_ < min_space_) buf_.resize(buf_.size() * 2);
    }
    return {buf_.data() + end_, buf_.size() - end_};
  }
  void commit(size_t n) { end_ += n; }
  std::string_view unread() const { return {buf_.data() + start_, end_ - start_}; }
  bool empty() const { return start_ == end_; }
  // Bytes allocated, read or not (what the buffer costs in memory).
  size_t capacity() const { return buf_.size(); }
  void consume(size_t n) {
    start_ += n;
    if (start_ == end_) {
      start_ = end_ = 0;
      if (buf_.size() > shrink_above_) {
        buf_.resize(initial_);
        buf_.shrink_to_fit();
      }
    }
  }
  void clear() { consume(end_ - start_); }

 private:
  std::vector<char> buf_;
  size_t start_ = 0;
  size_t end_ = 0;
  size_t initial_;
  size_t min_space_;
  size_t shrink_above_;
};

}  // namespace slotgate::net
