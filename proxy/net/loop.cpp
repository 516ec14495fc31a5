#include "net/loop.hpp"

#include <algorithm>
#include <stdexcept>

#include "net/tcp_stream.hpp"

namespace slotgate::net {

Loop::Loop() {
  if (int rc = uv_loop_init(&loop_); rc != 0) throw std::runtime_error(uv_strerror(rc));
  uv_check_init(&loop_, &flush_check_);
  flush_check_.data = this;
  uv_check_start(&flush_check_, &Loop::on_check);
  // The check handle alone must not keep the loop alive.
  uv_unref(reinterpret_cast<uv_handle_t*>(&flush_check_));
  uv_prepare_init(&loop_, &clock_prepare_);
  clock_prepare_.data = this;
  uv_prepare_start(&clock_prepare_,
                   [](uv_prepare_t* h) { static_cast<Loop*>(h->data)->cached_ns_ = 0; });
  uv_unref(reinterpret_cast<uv_handle_t*>(&clock_prepare_));
  uv_idle_init(&loop_, &release_idle_);
  release_idle_.data = this;
  uv_unref(reinterpret_cast<uv_handle_t*>(&release_idle_));
}

Loop::~Loop() {
  // Released objects close their handles as they go: destroy them while the loop can
  // still run those handles' close callbacks.
  destroy_released();
  uv_check_stop(&flush_check_);
  uv_close(reinterpret_cast<uv_handle_t*>(&flush_check_), nullptr);
  uv_prepare_stop(&clock_prepare_);
  uv_close(reinterpret_cast<uv_handle_t*>(&clock_prepare_), nullptr);
  uv_idle_stop(&release_idle_);
  uv_close(reinterpret_cast<uv_handle_t*>(&release_idle_), nullptr);
  // Let pending close callbacks run so every handle's memory is released.
  for (int i = 0; i < 8 && uv_run(&loop_, UV_RUN_NOWAIT) != 0; ++i) {
  }
  uv_walk(
      &loop_,
      [](uv_handle_t* h, void*) {
        if (!uv_is_closing(h)) uv_close(h, nullptr);
      },
      nullptr);
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
}

void Loop::run() {
  uv_run(&loop_, UV_RUN_DEFAULT);
}

void Loop::schedule_flush(TcpStream* stream) {
  dirty_.push_back(stream);
}

void Loop::cancel_flush(TcpStream* stream) {
  std::replace(dirty_.begin(), dirty_.end(), stream, static_cast<TcpStream*>(nullptr));
  std::replace(flushing_.begin(), flushing_.end(), stream, static_cast<TcpStream*>(nullptr));
}

void Loop::flush_now() {
  // A flush may complete a write synchronously and make its owner queue more
  // output for another stream; loop until nothing is left.
  while (!dirty_.empty()) {
    flushing_.swap(dirty_);
    for (size_t i = 0; i < flushing_.size(); ++i) {
      if (TcpStream* s = flushing_[i]) s->flush();
    }
    flushing_.clear();
  }
}

void Loop::release_erased(Released object) {
  if (released_.empty()) {
    // An active idle handle makes this iteration's poll return at once, so the object
    // goes at the end of this iteration even when it was released from a timer.
    uv_idle_start(&release_idle_, [](uv_idle_t*) {});
  }
  released_.push_back(std::move(object));
}

void Loop::destroy_released() {
  // A destructor may release more (a session its dedicated connections): loop until none
  // is left. Destroyed one by one, in release order.
  while (!released_.empty()) {
    std::vector<Released> batch;
    batch.swap(released_);
    for (Released& object : batch) object.reset();
  }
  uv_idle_stop(&release_idle_);
}

void Loop::on_check(uv_check_t* handle) {
  Loop* loop = static_cast<Loop*>(handle->data);
  loop->cached_ns_ = 0;  // the I/O callbacks of this iteration are done
  loop->flush_now();
  loop->destroy_released();
  // A destructor may have queued output (a session's last words): send it this iteration.
  loop->flush_now();
}

}  // namespace slotgate::net
