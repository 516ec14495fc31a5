// net::TcpStream: a TCP connection (accepted or outgoing) with an owner-supplied
// read buffer and a coalescing write buffer. Writes appended during one loop
// iteration leave in a single uv_try_write/uv_write at the end of it. The write
// buffer is taken from the loop's BufferPool when output is appended and given back
// once the kernel has it all, so an idle connection holds no output storage.
//
// A stream may carry TLS (use_tls() before reading or connecting): its owner still reads
// and writes plaintext; the stream runs the handshake first, decrypts what arrives into
// the owner's read space and encrypts its output at flush time (net/tls.hpp).
#pragma once

#include <uv.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace slotgate::net {

class Loop;
class TlsChannel;

// What a stream tells its owner. All calls happen on the loop's thread.
class StreamHandler {
 public:
  virtual ~StreamHandler() = default;
  // Where the next read should land (must be non-empty).
  virtual std::span<char> read_space() = 0;
  // n bytes were read into the span last returned by read_space().
  virtual void on_read(size_t n) = 0;
  // A read found nothing after all (a spurious wake-up): the span last returned by
  // read_space() is unused, and may be given back.
  virtual void on_read_nothing() {}
  // The peer closed, an error happened, or a connect failed (status is a libuv
  // error code; UV_EOF for an orderly close). The stream is unusable afterwards.
  virtual void on_closed(int status) = 0;
  // Outgoing connections: the connect finished successfully.
  virtual void on_connected() {}
  // All queued output has been handed to the kernel.
  virtual void on_drained() {}
  // Queued output is about to be handed to the kernel: from here on the peer may see it.
  virtual void on_flush() {}
  // TLS streams: the handshake ended (before on_connected for an outgoing stream; on a
  // failure, before on_closed). The stream's tls() tells the peer or the reason.
  virtual void on_tls_handshake(bool /*ok*/) {}
};

class TcpStream {
 public:
  // An empty stream to accept into, or to connect() with.
  TcpStream(Loop& loop, StreamHandler& handler);
  ~TcpStream();
  TcpStream(const TcpStream&) = delete;
  TcpStream& operator=(const TcpStream&) = delete;

  uv_tcp_t* raw();
  // Starts reading (after accept, or called internally after connect).
  void start_reading();
  void stop_reading();
  // Makes this a TLS stream; call before start_reading() or connect().
  void use_tls(std::unique_ptr<TlsChannel> channel);
  const TlsChannel* tls() const { return tls_.get(); }
  // Connects to a numeric IPv4/IPv6 address. Returns a libuv error code
  // synchronously when the address is not numeric or the connect cannot start.
  int connect(const std::string& ip, uint16_t port);

  // Output buffer: append to it, then call mark_dirty() (or use write()).
  std::string& out() {
    if (out_.empty()) take_out_buffer();
    return out_;
  }
  void mark_dirty();
  void write(std::string_view bytes) {
    out().append(bytes);
    mark_dirty();
  }
  size_t pending_output() const { return out_.size() + tls_wire_.size() + inflight_size_; }
  void flush();
  // Closes the socket now; on_closed is NOT called for a close the owner asked for.
  void close();
  bool is_open() const { return state_ != nullptr && !closing_; }
  // Set TCP keep-alive / nodelay.
  void set_nodelay(bool on);
  void set_keepalive(bool on, unsigned delay_s);
  std::string peer_address() const;
  std::string local_address() const;
  // The socket's file descriptor (CLIENT LIST fd=), -1 when closed.
  int fd() const;

 private:
  struct State;
  static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void on_read_cb(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_write_cb(uv_write_t* req, int status);
  static void on_connect_cb(uv_connect_t* req, int status);
  void fail(int status);
  // Hands `bytes` (out_, or TLS records) to the kernel; what it does not take at once
  // leaves with uv_write. `bytes` is left empty.
  void send(std::string& bytes);
  void flush_tls();
  void on_tls_bytes(size_t n);
  void decrypt_into_handler();
  // out_ is empty: give it the pool's storage (it may have none since its last drain).
  void take_out_buffer();
  // Everything written: out_'s storage goes back to the pool.
  void give_out_buffer();

  Loop& loop_;
  StreamHandler& handler_;
  State* state_;  // owned; freed in the uv_close callback
  std::string out_;
  size_t inflight_size_ = 0;
  bool dirty_ = false;
  bool closing_ = false;
  bool reading_ = false;
  bool connecting_ = false;  // outgoing connect not finished: nothing may be written yet
  bool outgoing_ = false;
  std::unique_ptr<TlsChannel> tls_;
  std::unique_ptr<char[]> tls_in_;  // ciphertext read buffer (from the pool while reading)
  std::string tls_wire_;            // encrypted records not yet handed to the kernel
  bool tls_read_pending_ = false;   // decrypted input waits for start_reading()
};

}  // namespace slotgate::net
