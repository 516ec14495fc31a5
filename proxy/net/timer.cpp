#include "net/timer.hpp"

#include "net/loop.hpp"

namespace slotgate::net {

struct Timer::State {
  uv_timer_t timer{};
  std::function<void()> cb;
};

Timer::Timer(Loop& loop) : state_(new State) {
  uv_timer_init(loop.raw(), &state_->timer);
  state_->timer.data = state_;
}

Timer::~Timer() {
  uv_timer_stop(&state_->timer);
  state_->cb = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&state_->timer),
           [](uv_handle_t* h) { delete static_cast<State*>(h->data); });
}

void Timer::start(uint64_t timeout_ms, uint64_t repeat_ms, std::function<void()> cb) {
  state_->cb = std::move(cb);
  uv_timer_start(
      &state_->timer,
      [](uv_timer_t* t) {
        auto* st = static_cast<State*>(t->data);
        if (st->cb) st->cb();
      },
      timeout_ms, repeat_ms);
}

void Timer::stop() {
  uv_timer_stop(&state_->timer);
}
void Timer::unref() {
  uv_unref(reinterpret_cast<uv_handle_t*>(&state_->timer));
}

struct Async::State {
  uv_async_t async{};
  std::function<void()> cb;
};

Async::Async(Loop& loop, std::function<void()> cb) : state_(new State) {
  state_->cb = std::move(cb);
  uv_async_init(loop.raw(), &state_->async, [](uv_async_t* a) {
    auto* st = static_cast<State*>(a->data);
    if (st->cb) st->cb();
  });
  state_->async.data = state_;
}

Async::~Async() {
  state_->cb = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&state_->async),
           [](uv_handle_t* h) { delete static_cast<State*>(h->data); });
}

void Async::send() {
  uv_async_send(&state_->async);
}
void Async::unref() {
  uv_unref(reinterpret_cast<uv_handle_t*>(&state_->async));
}

struct Signal::State {
  uv_signal_t sig{};
  std::function<void()> cb;
};

Signal::Signal(Loop& loop, int signum, std::function<void()> cb) : state_(new State) {
  state_->cb = std::move(cb);
  uv_signal_init(loop.raw(), &state_->sig);
  state_->sig.data = state_;
  uv_signal_start(
      &state_->sig,
      [](uv_signal_t* s, int) {
        auto* st = static_cast<State*>(s->data);
        if (st->cb) st->cb();
      },
      signum);
  uv_unref(reinterpret_cast<uv_handle_t*>(&state_->sig));
}

Signal::~Signal() {
  uv_signal_stop(&state_->sig);
  state_->cb = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&state_->sig),
           [](uv_handle_t* h) { delete static_cast<State*>(h->data); });
}

}  // namespace slotgate::net
