// net::Loop: one libuv event loop, owned by one thread. Also runs the "end of
// iteration" flush: streams that were written to during an iteration register
// themselves and are flushed once, after all I/O callbacks of that iteration
// ran, so many replies (or many pipelined backend requests) leave in one write.
//
// And the loop's one deferred destruction: an object closed from inside its own
// callback (a client session ending on a read, a backend connection failing on a
// reply) must not be destroyed on its own stack, so its owner hands it to
// release_later(). Released objects are destroyed at the end of the iteration, after
// the flush, from the loop itself (never from inside another object's callback), in
// the order they were released; what their destructors release in turn goes too.
//
// Its connections draw their read and write buffers from its BufferPool.
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "net/buffer_pool.hpp"

namespace slotgate::net {

class TcpStream;

class Loop {
 public:
  Loop();
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  uv_loop_t* raw() { return &loop_; }
  void run();  // until stop() or no handles are left
  void stop() { uv_stop(&loop_); }
  uint64_t now_ms() const { return uv_now(&loop_); }
  static uint64_t hrtime_ns() { return uv_hrtime(); }
  // The monotonic clock in ns, read once per loop iteration (before and after the poll
  // phase it is read afresh): per-request timestamps on the data path cost a clock
  // read per iteration, not three per request. Use hrtime_ns() to time work inside
  // one callback.
  uint64_t now_ns() {
    if (cached_ns_ == 0) cached_ns_ = uv_hrtime();
    return cached_ns_;
  }

  // Called by TcpStream when it has bytes to send; flushed at the end of the iteration.
  void schedule_flush(TcpStream* stream);
  void cancel_flush(TcpStream* stream);
  void flush_now();

  // Destroys `object` after the callback that released it returns: at the end of this
  // loop iteration, in release order (see the top of this file). Never on the caller's stack.
  template <typename T>
  void release_later(std::unique_ptr<T> object) {
    if (!object) return;
    release_erased(Released(object.release(), [](void* p) { delete static_cast<T*>(p); }));
  }
  // Destroys everything released so far, including what those destructors release. The
  // loop calls it at the end of each iteration; owners call it only where no released
  // object can be on the stack (their own destructor, at shutdown).
  void destroy_released();
  size_t released_count() const { return released_.size(); }
  // Spare connection buffers of this loop (loop thread only).
  BufferPool& buffers() { return buffers_; }

 private:
  using Released = std::unique_ptr<void, void (*)(void*)>;
  void release_erased(Released object);
  static void on_check(uv_check_t* handle);

  BufferPool buffers_;
  uv_loop_t loop_{};
  uv_check_t flush_check_{};
  uv_prepare_t clock_prepare_{};  // forgets cached_ns_ before the poll phase blocks
  uint64_t cached_ns_ = 0;        // 0: not read yet in this iteration
  std::vector<TcpStream*> dirty_;
  std::vector<TcpStream*> flushing_;
  // Keeps the poll phase from blocking while objects wait to be destroyed.
  uv_idle_t release_idle_{};
  std::vector<Released> released_;
};

}  // namespace slotgate::net
