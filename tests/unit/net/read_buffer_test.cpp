#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include "net/buffer_pool.hpp"
#include "net/read_buffer.hpp"

using slotgate::net::BufferPool;
using slotgate::net::ReadBuffer;

namespace {
void put(ReadBuffer& rb, std::string_view bytes) {
  auto space = rb.space();
  REQUIRE(space.size() >= bytes.size());
  std::memcpy(space.data(), bytes.data(), bytes.size());
  rb.commit(bytes.size());
}
}  // namespace

TEST_CASE("a pooled read buffer holds storage only while it holds unread bytes") {
  BufferPool pool;
  ReadBuffer rb(pool);
  CHECK(rb.capacity() == 0);
  put(rb, "*1\r\n$4\r\nPING\r\n*1\r\n");
  CHECK(rb.capacity() == BufferPool::kBufferSize);
  rb.consume(14);
  CHECK(rb.unread() == "*1\r\n");
  CHECK(rb.capacity() == BufferPool::kBufferSize);  // a partial frame keeps it
  rb.consume(4);
  CHECK(rb.capacity() == 0);
  CHECK(pool.free_read_buffers() == 1);  // back in the pool, not freed
  put(rb, "x");
  CHECK(pool.free_read_buffers() == 0);  // and taken from there again
  rb.clear();
  CHECK(pool.free_read_buffers() == 1);
}

TEST_CASE("a read buffer grown by a big message keeps its bytes and is freed by trim when empty") {
  BufferPool pool;
  ReadBuffer rb(pool);
  std::string big(BufferPool::kBufferSize - 10, 'a');
  put(rb, big);
  put(rb, "tail");  // less than min_space left: the buffer grows
  CHECK(rb.capacity() > BufferPool::kBufferSize);
  CHECK(rb.unread() == big + "tail");
  CHECK(pool.free_read_buffers() == 1);  // the standard buffer it grew from went back
  rb.clear();
  CHECK(rb.capacity() > BufferPool::kBufferSize);  // kept for the next big read
  rb.trim();
  CHECK(rb.capacity() == 0);
  CHECK(pool.free_read_buffers() == 1);  // a grown buffer is freed, not pooled
}

TEST_CASE("trim keeps a buffer that holds a partial frame") {
  BufferPool pool;
  ReadBuffer rb(pool);
  put(rb, "*2\r\n$3\r\nGET");
  rb.trim();
  CHECK(rb.unread() == "*2\r\n$3\r\nGET");
}

TEST_CASE("an unpooled read buffer allocates on the first read and keeps its storage") {
  ReadBuffer rb(64 * 1024);
  CHECK(rb.capacity() == 0);
  put(rb, "+OK\r\n");
  CHECK(rb.capacity() == 64 * 1024);
  rb.clear();
  CHECK(rb.capacity() == 64 * 1024);
}

TEST_CASE("the pool keeps a bounded number of spare buffers") {
  BufferPool pool;
  for (size_t i = 0; i < BufferPool::kMaxFree + 5; ++i) {
    pool.give_read(std::make_unique_for_overwrite<char[]>(BufferPool::kBufferSize));
  }
  CHECK(pool.free_read_buffers() == BufferPool::kMaxFree);
}

TEST_CASE("spare write buffers are small heap strings; big or storage-less ones are freed") {
  BufferPool pool;
  std::string s = pool.take_write();
  CHECK(s.empty());
  pool.give_write(s);  // no heap storage: nothing to keep
  CHECK(pool.free_write_buffers() == 0);
  s.assign(200, 'x');
  const char* storage = s.data();
  pool.give_write(s);
  CHECK(s.capacity() == std::string().capacity());
  CHECK(pool.free_write_buffers() == 1);
  std::string again = pool.take_write();
  CHECK(again.empty());
  CHECK(again.data() == storage);  // the same storage, no malloc
  again.assign(BufferPool::kBufferSize * 2, 'y');
  pool.give_write(again);
  CHECK(pool.free_write_buffers() == 0);
}
