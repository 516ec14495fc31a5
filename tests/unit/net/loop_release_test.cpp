// net::Loop::release_later: the loop's one deferred destruction. An object released from
// inside its own callback outlives that callback and is gone by the end of the iteration;
// what its destructor releases goes too, in release order; nothing is left at loop close.
#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "net/loop.hpp"
#include "net/timer.hpp"

using slotgate::net::Loop;
using slotgate::net::Timer;

namespace {

// Something that ends itself from its own timer callback, as a session does on a read.
struct SelfEnding {
  SelfEnding(Loop& loop, std::unique_ptr<SelfEnding>& owner, std::vector<std::string>& log)
      : loop_(loop), owner_(owner), log_(log), timer_(loop) {}
  ~SelfEnding() {
    log_.push_back(in_callback_ ? "destroyed on its own stack" : "destroyed");
    destroyed_after_ms = (Loop::hrtime_ns() - released_ns_) / 1000000;
  }
  void start() {
    timer_.start(0, 0, [this] {
      in_callback_ = true;
      released_ns_ = Loop::hrtime_ns();
      loop_.release_later(std::move(owner_));
      log_.push_back("callback still running");
      in_callback_ = false;
    });
  }
  Loop& loop_;
  std::unique_ptr<SelfEnding>& owner_;
  std::vector<std::string>& log_;
  Timer timer_;
  bool in_callback_ = false;
  uint64_t released_ns_ = 0;
  static inline uint64_t destroyed_after_ms = 0;
};

struct Named {
  Named(Loop& loop, std::string name, std::vector<std::string>& log,
        std::unique_ptr<Named> then = nullptr)
      : loop_(loop), name_(std::move(name)), log_(log), then_(std::move(then)) {}
  ~Named() {
    log_.push_back(name_);
    loop_.release_later(std::move(then_));  // as a session releases its dedicated links
  }
  Loop& loop_;
  std::string name_;
  std::vector<std::string>& log_;
  std::unique_ptr<Named> then_;
};

}  // namespace

TEST_CASE("an object released from its own callback is destroyed after it, in that iteration") {
  Loop loop;
  std::vector<std::string> log;
  std::unique_ptr<SelfEnding> owner;
  owner = std::make_unique<SelfEnding>(loop, owner, log);
  owner->start();
  // A later timer keeps the loop waiting in poll: the released object must not wait for it.
  Timer later(loop);
  std::vector<std::string> seen_by_later;
  later.start(200, 0, [&] { seen_by_later = log; });
  loop.run();
  CHECK(owner == nullptr);
  REQUIRE(log == std::vector<std::string>{"callback still running", "destroyed"});
  CHECK(seen_by_later == log);
  // Not after the loop slept in poll until the next timer: at the end of this iteration.
  CHECK(SelfEnding::destroyed_after_ms < 100);
  CHECK(loop.released_count() == 0);
}

TEST_CASE("released objects go in release order, and what their destructors release goes too") {
  Loop loop;
  std::vector<std::string> log;
  Timer t(loop);
  t.start(0, 0, [&] {
    loop.release_later(std::make_unique<Named>(loop, "session", log,
                                               std::make_unique<Named>(loop, "its link", log)));
    loop.release_later(std::make_unique<Named>(loop, "pool connection", log));
    CHECK(log.empty());
  });
  loop.run();
  CHECK(log == std::vector<std::string>{"session", "pool connection", "its link"});
}

TEST_CASE("what is still released when the loop closes is destroyed while the loop lives") {
  std::vector<std::string> log;
  {
    Loop loop;
    // Holds a libuv handle, like a connection: it must be closed on a loop that still exists.
    struct WithHandle {
      WithHandle(Loop& loop, std::vector<std::string>& log) : timer(loop), log_(log) {}
      ~WithHandle() { log_.push_back("handle owner destroyed"); }
      Timer timer;
      std::vector<std::string>& log_;
    };
    loop.release_later(std::make_unique<WithHandle>(loop, log));
    loop.release_later(std::unique_ptr<WithHandle>());  // nothing: ignored
    CHECK(loop.released_count() == 1);
    CHECK(log.empty());
  }
  CHECK(log == std::vector<std::string>{"handle owner destroyed"});
}

TEST_CASE("destroy_released empties the list at once, for an owner's shutdown") {
  Loop loop;
  std::vector<std::string> log;
  loop.release_later(
      std::make_unique<Named>(loop, "a", log, std::make_unique<Named>(loop, "b", log)));
  loop.destroy_released();
  CHECK(log == std::vector<std::string>{"a", "b"});
  CHECK(loop.released_count() == 0);
}
