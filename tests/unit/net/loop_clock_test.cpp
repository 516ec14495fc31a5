// net::Loop::now_ns: the monotonic clock read once per loop iteration. Within one
// iteration's callbacks it does not move; the next iteration reads it afresh, also
// after the poll phase blocked.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <thread>

#include "net/loop.hpp"
#include "net/timer.hpp"

using slotgate::net::Loop;
using slotgate::net::Timer;

TEST_CASE("Loop::now_ns is read once per iteration and advances between iterations") {
  Loop loop;
  Timer first(loop);
  Timer second(loop);
  uint64_t a = 0;
  uint64_t b = 0;
  uint64_t c = 0;
  uint64_t real_after_sleep = 0;
  first.start(0, 0, [&] {
    a = loop.now_ns();
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    b = loop.now_ns();
    real_after_sleep = Loop::hrtime_ns();
  });
  // 20 ms later: the loop blocks in poll in between, and must not keep the old reading.
  second.start(20, 0, [&] { c = loop.now_ns(); });
  loop.run();
  CHECK(a != 0);
  CHECK(b == a);                             // same iteration: the cached reading
  CHECK(real_after_sleep >= a + 3'000'000);  // ... although the real clock moved
  CHECK(c >= a + 20'000'000);                // a later iteration reads the clock again
  CHECK(c <= Loop::hrtime_ns());
}
