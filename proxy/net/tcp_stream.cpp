#include "net/tcp_stream.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "net/loop.hpp"

namespace slotgate::net {

// The libuv side of a stream. It lives until libuv's close callback, which may
// come after the TcpStream is gone: callbacks check `owner` before using it.
// The write and connect requests are allocated when first needed: an accepted
// connection never connects, and most never fill the kernel's socket buffer.
struct TcpStream::State {
  uv_tcp_t tcp{};
  std::unique_ptr<uv_write_t> write_req;
  std::unique_ptr<uv_connect_t> connect_req;
  std::string inflight;  // holds the bytes handed to uv_write until its callback
  TcpStream* owner = nullptr;
};

TcpStream::TcpStream(Loop& loop, StreamHandler& handler)
    : loop_(loop), handler_(handler), state_(new State) {
  state_->owner = this;
  uv_tcp_init(loop.raw(), &state_->tcp);
  state_->tcp.data = state_;
}

TcpStream::~TcpStream() {
  close();
}

uv_tcp_t* TcpStream::raw() {
  return &state_->tcp;
}

void TcpStream::close() {
  if (state_ == nullptr || closing_) return;
  closing_ = true;
  if (dirty_) loop_.cancel_flush(this);
  dirty_ = false;
  State* st = state_;
  st->owner = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(&st->tcp),
           [](uv_handle_t* h) { delete static_cast<State*>(h->data); });
  state_ = nullptr;
}

void TcpStream::start_reading() {
  if (!is_open() || reading_) return;
  reading_ = true;
  int rc = uv_read_start(reinterpret_cast<uv_stream_t*>(&state_->tcp), &TcpStream::on_alloc,
                         &TcpStream::on_read_cb);
  if (rc != 0) fail(rc);
}

void TcpStream::stop_reading() {
  if (!is_open() || !reading_) return;
  reading_ = false;
  uv_read_stop(reinterpret_cast<uv_stream_t*>(&state_->tcp));
}

int TcpStream::connect(const std::string& ip, uint16_t port) {
  sockaddr_storage addr{};
  int rc = uv_ip4_addr(ip.c_str(), port, reinterpret_cast<sockaddr_in*>(&addr));
  if (rc != 0) rc = uv_ip6_addr(ip.c_str(), port, reinterpret_cast<sockaddr_in6*>(&addr));
  if (rc != 0) return rc;
  if (!state_->connect_req) state_->connect_req = std::make_unique<uv_connect_t>();
  state_->connect_req->data = state_;
  rc = uv_tcp_connect(state_->connect_req.get(), &state_->tcp, reinterpret_cast<sockaddr*>(&addr),
                      &TcpStream::on_connect_cb);
  connecting_ = rc == 0;
  return rc;
}

void TcpStream::on_connect_cb(uv_connect_t* req, int status) {
  auto* st = static_cast<State*>(req->data);
  TcpStream* self = st->owner;
  if (self == nullptr) return;
  self->connecting_ = false;
  if (status != 0) {
    self->fail(status);
    return;
  }
  self->set_nodelay(true);
  self->start_reading();
  if (!self->is_open()) return;
  self->handler_.on_connected();
  if (self->is_open() && !self->out_.empty()) self->mark_dirty();
}

void TcpStream::take_out_buffer() {
  if (out_.capacity() <= std::string().capacity()) out_ = loop_.buffers().take_write();
}

void TcpStream::give_out_buffer() {
  loop_.buffers().give_write(out_);
}

void TcpStream::mark_dirty() {
  if (dirty_ || !is_open()) return;
  dirty_ = true;
  loop_.schedule_flush(this);
}

void TcpStream::flush() {
  dirty_ = false;
  if (is_open() && out_.empty()) give_out_buffer();
  if (!is_open() || out_.empty() || inflight_size_ != 0) return;
  // Not connected yet: the connect callback re-schedules the flush. (libuv would
  // queue the bytes, but then a refused connect would look like a lost write.)
  if (connecting_ || uv_is_writable(reinterpret_cast<uv_stream_t*>(&state_->tcp)) == 0) return;
  handler_.on_flush();
  uv_buf_t buf = uv_buf_init(out_.data(), static_cast<unsigned>(out_.size()));
  int n = uv_try_write(reinterpret_cast<uv_stream_t*>(&state_->tcp), &buf, 1);
  size_t written = 0;
  if (n >= 0) {
    written = static_cast<size_t>(n);
  } else if (n != UV_EAGAIN) {
    fail(n);
    return;
  }
  if (written == out_.size()) {
    give_out_buffer();
    handler_.on_drained();
    return;
  }
  // The kernel buffer is full: hand the rest to uv_write and keep it alive until the
  // write callback (out_ itself moves there, no copy); new output accumulates in a
  // fresh out_ meanwhile.
  State* st = state_;
  st->inflight.swap(out_);
  give_out_buffer();
  inflight_size_ = st->inflight.size() - written;
  uv_buf_t rest = uv_buf_init(st->inflight.data() + written, static_cast<unsigned>(inflight_size_));
  if (!st->write_req) st->write_req = std::make_unique<uv_write_t>();
  st->write_req->data = st;
  int rc = uv_write(st->write_req.get(), reinterpret_cast<uv_stream_t*>(&st->tcp), &rest, 1,
                    &TcpStream::on_write_cb);
  if (rc != 0) fail(rc);
}

void TcpStream::on_write_cb(uv_write_t* req, int status) {
  auto* st = static_cast<State*>(req->data);
  TcpStream* self = st->owner;
  if (self == nullptr) {
    std::string().swap(st->inflight);
    return;
  }
  self->loop_.buffers().give_write(st->inflight);
  self->inflight_size_ = 0;
  if (status != 0) {
    self->fail(status);
    return;
  }
  if (!self->out_.empty()) {
    self->mark_dirty();
  } else {
    self->handler_.on_drained();
  }
}

void TcpStream::on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* st = static_cast<State*>(h->data);
  if (st->owner == nullptr) {
    *buf = uv_buf_init(nullptr, 0);
    return;
  }
  std::span<char> space = st->owner->handler_.read_space();
  *buf = uv_buf_init(space.data(), static_cast<unsigned>(space.size()));
}

void TcpStream::on_read_cb(uv_stream_t* s, ssize_t nread, const uv_buf_t*) {
  auto* st = static_cast<State*>(s->data);
  TcpStream* self = st->owner;
  if (self == nullptr) return;
  if (nread > 0) {
    self->handler_.on_read(static_cast<size_t>(nread));
  } else if (nread == 0) {
    self->handler_.on_read_nothing();
  } else {
    self->fail(static_cast<int>(nread));
  }
}

void TcpStream::fail(int status) {
  if (!is_open()) return;
  close();
  handler_.on_closed(status);
}

void TcpStream::set_nodelay(bool on) {
  if (is_open()) uv_tcp_nodelay(&state_->tcp, on ? 1 : 0);
}

void TcpStream::set_keepalive(bool on, unsigned delay_s) {
  if (is_open()) uv_tcp_keepalive(&state_->tcp, on ? 1 : 0, delay_s);
}

static std::string format_addr(const sockaddr_storage& ss) {
  char ip[INET6_ADDRSTRLEN] = {0};
  uint16_t port = 0;
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    uv_ip4_name(a, ip, sizeof ip);
    port = ntohs(a->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    uv_ip6_name(a, ip, sizeof ip);
    port = ntohs(a->sin6_port);
  } else {
    return "?";
  }
  return std::string(ip) + ":" + std::to_string(port);
}

std::string TcpStream::peer_address() const {
  if (state_ == nullptr) return "?";
  sockaddr_storage ss{};
  int len = sizeof ss;
  if (uv_tcp_getpeername(&state_->tcp, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "?";
  return format_addr(ss);
}

std::string TcpStream::local_address() const {
  if (state_ == nullptr) return "?";
  sockaddr_storage ss{};
  int len = sizeof ss;
  if (uv_tcp_getsockname(&state_->tcp, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "?";
  return format_addr(ss);
}

}  // namespace slotgate::net
