#include "net/tcp_stream.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "net/loop.hpp"
#include "net/tls.hpp"

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
  if (tls_in_) loop_.buffers().give_read(std::move(tls_in_));
}

void TcpStream::use_tls(std::unique_ptr<TlsChannel> channel) {
  tls_ = std::move(channel);
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
  if (tls_read_pending_) mark_dirty();
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
  outgoing_ = true;
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
  if (self->tls_) {
    // The client speaks first: its hello leaves with the next flush; on_connected
    // waits for the end of the handshake.
    if (self->tls_->handshake() == TlsChannel::Progress::Failed) {
      self->handler_.on_tls_handshake(false);
      self->fail(UV_EPROTO);
      return;
    }
    self->mark_dirty();
    return;
  }
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
  if (tls_) {
    flush_tls();
    return;
  }
  if (is_open() && out_.empty()) give_out_buffer();
  if (!is_open() || out_.empty() || inflight_size_ != 0) return;
  // Not connected yet: the connect callback re-schedules the flush. (libuv would
  // queue the bytes, but then a refused connect would look like a lost write.)
  if (connecting_ || uv_is_writable(reinterpret_cast<uv_stream_t*>(&state_->tcp)) == 0) return;
  handler_.on_flush();
  send(out_);
}

void TcpStream::send(std::string& bytes) {
  uv_buf_t buf = uv_buf_init(bytes.data(), static_cast<unsigned>(bytes.size()));
  int n = uv_try_write(reinterpret_cast<uv_stream_t*>(&state_->tcp), &buf, 1);
  size_t written = 0;
  if (n >= 0) {
    written = static_cast<size_t>(n);
  } else if (n != UV_EAGAIN) {
    fail(n);
    return;
  }
  if (written == bytes.size()) {
    loop_.buffers().give_write(bytes);
    if (out_.empty()) handler_.on_drained();
    return;
  }
  // The kernel buffer is full: hand the rest to uv_write and keep it alive until the
  // write callback (out_ itself moves there, no copy); new output accumulates in a
  // fresh out_ meanwhile.
  State* st = state_;
  st->inflight.swap(bytes);
  loop_.buffers().give_write(bytes);
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
  if (!self->out_.empty() || !self->tls_wire_.empty()) {
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
  TcpStream* self = st->owner;
  if (self->tls_) {
    // Ciphertext lands in a pool buffer; plaintext goes to the owner's read space.
    if (!self->tls_in_) self->tls_in_ = self->loop_.buffers().take_read();
    *buf = uv_buf_init(self->tls_in_.get(), static_cast<unsigned>(BufferPool::kBufferSize));
    return;
  }
  std::span<char> space = self->handler_.read_space();
  *buf = uv_buf_init(space.data(), static_cast<unsigned>(space.size()));
}

void TcpStream::on_read_cb(uv_stream_t* s, ssize_t nread, const uv_buf_t*) {
  auto* st = static_cast<State*>(s->data);
  TcpStream* self = st->owner;
  if (self == nullptr) return;
  if (self->tls_) {
    if (nread > 0) self->on_tls_bytes(static_cast<size_t>(nread));
    if (self->tls_in_) self->loop_.buffers().give_read(std::move(self->tls_in_));
    if (nread < 0) self->fail(static_cast<int>(nread));
    return;
  }
  if (nread > 0) {
    self->handler_.on_read(static_cast<size_t>(nread));
  } else if (nread == 0) {
    self->handler_.on_read_nothing();
  } else {
    self->fail(static_cast<int>(nread));
  }
}

// Ciphertext arrived: advance the handshake, then hand the owner what decrypts.
void TcpStream::on_tls_bytes(size_t n) {
  tls_->feed(std::span<const char>(tls_in_.get(), n));
  if (!tls_->established()) {
    TlsChannel::Progress progress = tls_->handshake();
    if (tls_->has_output()) mark_dirty();
    if (progress == TlsChannel::Progress::Failed) {
      // The alert that says why still goes out before the close.
      if (tls_->has_output()) {
        tls_->take_output(tls_wire_);
        uv_buf_t buf = uv_buf_init(tls_wire_.data(), static_cast<unsigned>(tls_wire_.size()));
        uv_try_write(reinterpret_cast<uv_stream_t*>(&state_->tcp), &buf, 1);
        tls_wire_.clear();
      }
      handler_.on_tls_handshake(false);
      fail(UV_EPROTO);
      return;
    }
    if (progress == TlsChannel::Progress::NeedMore) return;
    handler_.on_tls_handshake(true);
    if (!is_open()) return;
    if (outgoing_) {
      handler_.on_connected();
      if (!is_open()) return;
    }
    if (!out_.empty()) mark_dirty();
  }
  decrypt_into_handler();
}

void TcpStream::decrypt_into_handler() {
  while (reading_ && is_open()) {
    long n = tls_->read(handler_.read_space());
    if (n > 0) {
      handler_.on_read(static_cast<size_t>(n));
      continue;
    }
    handler_.on_read_nothing();
    if (n < 0) {
      fail(tls_->failure_class() == "closed" ? UV_EOF : UV_EPROTO);
      return;
    }
    break;
  }
  if (!is_open()) return;
  // The owner stopped reading with records still buffered: start_reading() resumes them.
  if (!reading_ && tls_->has_buffered_input()) tls_read_pending_ = true;
  if (tls_->has_output()) mark_dirty();
}

void TcpStream::flush_tls() {
  if (tls_read_pending_ && reading_ && is_open()) {
    tls_read_pending_ = false;
    decrypt_into_handler();
  }
  if (!is_open() || connecting_) return;
  if (tls_->established() && !out_.empty()) {
    handler_.on_flush();
    if (!tls_->write(out_)) {
      fail(UV_EPROTO);
      return;
    }
    give_out_buffer();
  }
  if (tls_->has_output()) {
    if (tls_wire_.empty()) tls_wire_ = loop_.buffers().take_write();
    tls_->take_output(tls_wire_);
  }
  if (tls_wire_.empty() || inflight_size_ != 0) return;
  if (uv_is_writable(reinterpret_cast<uv_stream_t*>(&state_->tcp)) == 0) return;
  send(tls_wire_);
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

int TcpStream::fd() const {
  if (state_ == nullptr) return -1;
  uv_os_fd_t fd = -1;
  if (uv_fileno(reinterpret_cast<const uv_handle_t*>(&state_->tcp), &fd) != 0) return -1;
  return static_cast<int>(fd);
}

}  // namespace slotgate::net
