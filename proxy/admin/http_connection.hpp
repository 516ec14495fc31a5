// admin::HttpConnection: one HTTP/1.1 client of the admin server. Parses with
// llhttp, answers each complete request through route(), keeps the connection
// alive when the client asks for it, and protects the admin loop from bad
// clients: request heads over 8 KiB or bodies over 64 KiB get 413, malformed
// requests 400, and a connection that makes no progress for 5 s (no request
// completed, idle between requests, or its answer not taken) is closed. While an
// answer is unsent (the client does not read) no further request is parsed and
// the socket is not read, so a pipelining client that never reads holds at most
// one answer in memory.
#pragma once

#include <llhttp.h>

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "admin/admin_hooks.hpp"
#include "net/loop.hpp"
#include "net/tcp_stream.hpp"
#include "net/timer.hpp"

namespace slotgate::admin {

inline constexpr size_t kMaxRequestHead = 8 * 1024;
inline constexpr uint64_t kMaxRequestBody = 64 * 1024;
// Idle or stalled for this long (waiting for a request, or for the client to take
// its answer): closed. Probes and scrapers send their request at once.
inline constexpr uint64_t kIdleTimeoutMs = 5'000;

class HttpConnection final : public net::StreamHandler {
 public:
  // on_finished is called once, when the connection is closed; the owner must
  // not destroy the connection inside that call (defer it to a later loop turn).
  using OnFinished = std::function<void(HttpConnection*)>;

  HttpConnection(net::Loop& loop, const AdminHooks& hooks, OnFinished on_finished);
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  net::TcpStream& stream() { return stream_; }
  // Call after the stream was accepted.
  void start();
  // Closes the connection now (the server makes room for a new one); on_finished follows.
  void close() { finish(); }
  // Monotonic time (ns) of the last progress (accepted, a request answered, an answer sent):
  // the server closes the longest-stalled connection first when it is full.
  uint64_t last_progress_ns() const { return last_progress_ns_; }

  // net::StreamHandler
  std::span<char> read_space() override { return read_buffer_; }
  void on_read(size_t n) override;
  void on_closed(int status) override;
  void on_drained() override;

 private:
  static int on_message_begin(llhttp_t* parser);
  static int on_url(llhttp_t* parser, const char* at, size_t length);
  static int on_header_field(llhttp_t* parser, const char* at, size_t length);
  static int on_header_value(llhttp_t* parser, const char* at, size_t length);
  static int on_headers_complete(llhttp_t* parser);
  static int on_body(llhttp_t* parser, const char* at, size_t length);
  static int on_message_complete(llhttp_t* parser);
  static const llhttp_settings_t& settings();

  // Counts bytes of the request head; false (and a 413) when over the limit.
  bool count_head(size_t length);
  // Parses bytes (read now, or held back while an answer was unsent).
  void parse(const char* data, size_t n);
  void progress();
  void send(const std::string& bytes, bool close_after);
  void reject(int status, std::string_view message);
  void finish();

  OnFinished on_finished_;
  const AdminHooks& hooks_;
  net::TcpStream stream_;
  net::Timer timeout_;
  llhttp_t parser_{};
  std::array<char, 4096> read_buffer_{};
  std::string url_;
  // Bytes after a request whose answer is not sent yet; parsed once it is.
  std::string held_input_;
  uint64_t last_progress_ns_ = 0;
  bool paused_for_output_ = false;
  size_t head_bytes_ = 0;
  uint64_t body_bytes_ = 0;
  int limit_status_ = 0;  // set by a callback that stopped the parser for a limit
  bool close_after_drain_ = false;
  bool finished_ = false;
};

}  // namespace slotgate::admin
