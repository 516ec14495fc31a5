// net::Timer, net::Async, net::Signal: small RAII wrappers for libuv's timer,
// cross-thread wake-up and signal handles. Callbacks run on the loop's thread.
#pragma once

#include <uv.h>

#include <cstdint>
#include <functional>

namespace slotgate::net {

class Loop;

class Timer {
 public:
  explicit Timer(Loop& loop);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  // Fires after timeout_ms, then every repeat_ms (0 = once). Restarting replaces the schedule.
  void start(uint64_t timeout_ms, uint64_t repeat_ms, std::function<void()> cb);
  void stop();
  // A timer that should not keep the loop alive on its own.
  void unref();

 private:
  struct State;
  State* state_;
};

class Async {
 public:
  Async(Loop& loop, std::function<void()> cb);
  ~Async();
  Async(const Async&) = delete;
  Async& operator=(const Async&) = delete;
  void send();  // thread-safe; several sends may coalesce into one callback
  void unref();

 private:
  struct State;
  State* state_;
};

class Signal {
 public:
  Signal(Loop& loop, int signum, std::function<void()> cb);
  ~Signal();
  Signal(const Signal&) = delete;
  Signal& operator=(const Signal&) = delete;

 private:
  struct State;
  State* state_;
};

}  // namespace slotgate::net
