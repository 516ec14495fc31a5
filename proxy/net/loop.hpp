// net::Loop: one libuv event loop, owned by one thread. Also runs the "end of
// iteration" flush: streams that were written to during an iteration register
// themselves and are flushed once, after all I/O callbacks of that iteration
// ran, so many replies (or many pipelined backend requests) leave in one write.
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

  // Called by TcpStream when it has bytes to send; flushed at the end of the iteration.
  void schedule_flush(TcpStream* stream);
  void cancel_flush(TcpStream* stream);
  void flush_now();

  // Spare connection buffers of this loop (loop thread only).
  BufferPool& buffers() { return buffers_; }

 private:
  static void on_check(uv_check_t* handle);

  BufferPool buffers_;
  uv_loop_t loop_{};
  uv_check_t flush_check_{};
  std::vector<TcpStream*> dirty_;
  std::vector<TcpStream*> flushing_;
};

}  // namespace slotgate::net
