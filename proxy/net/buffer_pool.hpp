// net::BufferPool: one loop's spare connection buffers. An idle connection holds no
// buffer at all: like Redis's query buffers, a connection takes a buffer when bytes
// arrive or a reply is written and gives it back once it is empty again. Buffers of the
// standard size go onto a free list, so a busy connection that takes and returns one on
// every read or write never calls malloc; the list is bounded, so a burst of many
// connections at once does not keep its buffers forever. One pool per loop, used only
// on the loop's thread (no locks).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace slotgate::net {

class BufferPool {
 public:
  // The size of a read buffer, and the most a spare write buffer may hold.
  static constexpr size_t kBufferSize = 16 * 1024;
  // Spare buffers kept per kind (at most 4 MiB of each per loop).
  static constexpr size_t kMaxFree = 256;

  BufferPool() = default;
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  // kBufferSize bytes, contents unspecified.
  std::unique_ptr<char[]> take_read() {
    if (read_free_.empty()) return std::make_unique_for_overwrite<char[]>(kBufferSize);
    std::unique_ptr<char[]> b = std::move(read_free_.back());
    read_free_.pop_back();
    return b;
  }
  // `b` must be kBufferSize bytes from take_read().
  void give_read(std::unique_ptr<char[]> b) {
    if (b && read_free_.size() < kMaxFree) read_free_.push_back(std::move(b));
  }

  // An empty string, with the storage of a spare one when there is one. Write buffers are
  // not allocated at a standard size: most output is a small reply, and a burst of
  // thousands of clients each holding 16 KiB until the end of the loop iteration would
  // leave the heap that much bigger.
  std::string take_write() {
    if (write_free_.empty()) return {};
    std::string s = std::move(write_free_.back());
    write_free_.pop_back();
    return s;
  }
  // Keeps the string's heap storage as a spare when it is at most kBufferSize; anything
  // else is freed. `s` is left empty, without storage.
  void give_write(std::string& s) {
    if (s.capacity() > std::string().capacity() && s.capacity() <= kBufferSize &&
        write_free_.size() < kMaxFree) {
      s.clear();
      write_free_.push_back(std::move(s));
    }
    std::string().swap(s);
  }

  size_t free_read_buffers() const { return read_free_.size(); }
  size_t free_write_buffers() const { return write_free_.size(); }

 private:
  std::vector<std::unique_ptr<char[]>> read_free_;
  std::vector<std::string> write_free_;
};

}  // namespace slotgate::net
