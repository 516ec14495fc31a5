#include "admin/http_connection.hpp"

#include <string_view>

#include "admin/admin_routes.hpp"
#include "admin/http_response.hpp"

namespace slotgate::admin {
namespace {

HttpConnection& self_of(llhttp_t* parser) {
  return *static_cast<HttpConnection*>(parser->data);
}

}  // namespace

const llhttp_settings_t& HttpConnection::settings() {
  static const llhttp_settings_t s = [] {
    llhttp_settings_t init;
    llhttp_settings_init(&init);
    init.on_message_begin = &HttpConnection::on_message_begin;
    init.on_url = &HttpConnection::on_url;
    init.on_header_field = &HttpConnection::on_header_field;
    init.on_header_value = &HttpConnection::on_header_value;
    init.on_headers_complete = &HttpConnection::on_headers_complete;
    init.on_body = &HttpConnection::on_body;
    init.on_message_complete = &HttpConnection::on_message_complete;
    return init;
  }();
  return s;
}

HttpConnection::HttpConnection(net::Loop& loop, const AdminHooks& hooks, OnFinished on_finished)
    : on_finished_(std::move(on_finished)), hooks_(hooks), stream_(loop, *this), timeout_(loop) {
  llhttp_init(&parser_, HTTP_REQUEST, &settings());
  parser_.data = this;
}

void HttpConnection::start() {
  stream_.set_nodelay(true);
  stream_.start_reading();
  progress();
}

void HttpConnection::progress() {
  last_progress_ns_ = net::Loop::hrtime_ns();  // ns, not the loop's ms: no ties to break
  timeout_.start(kIdleTimeoutMs, 0, [this] { finish(); });
}

void HttpConnection::on_read(size_t n) {
  if (paused_for_output_) {  // reading is stopped; a read already under way is held too
    held_input_.append(read_buffer_.data(), n);
    return;
  }
  parse(read_buffer_.data(), n);
}

void HttpConnection::parse(const char* data, size_t n) {
  if (finished_ || close_after_drain_) return;  // the answer is final; ignore the rest
  const llhttp_errno_t err = llhttp_execute(&parser_, data, n);
  if (finished_ || close_after_drain_) return;
  if (limit_status_ != 0) {
    reject(limit_status_,
           limit_status_ == 413 ? "request too large (head 8 KiB, body 64 KiB)" : "bad request");
    return;
  }
  if (err == HPE_OK) return;
  if (err == HPE_PAUSED && paused_for_output_) {
    // The client has not taken its answer: keep the rest of what it sent (at most
    // one read) and read no more until the answer is out.
    const char* stop = llhttp_get_error_pos(&parser_);
    const size_t used = stop == nullptr ? n : static_cast<size_t>(stop - data);
    held_input_.assign(data + used, n - used);
    stream_.stop_reading();
    return;
  }
  if (err == HPE_PAUSED_UPGRADE) {  // no protocol upgrades here; the request was answered
    close_after_drain_ = true;
    stream_.stop_reading();
    return;
  }
  reject(400, std::string("bad request: ") + llhttp_get_error_reason(&parser_));
}

void HttpConnection::on_closed(int) {
  finish();
}

void HttpConnection::on_drained() {
  if (close_after_drain_) {
    finish();
    return;
  }
  if (finished_) return;
  progress();
  if (!paused_for_output_) return;
  // The answer is out: go on with the requests that were held back, then read again.
  paused_for_output_ = false;
  llhttp_resume(&parser_);
  const std::string held = std::move(held_input_);
  held_input_.clear();
  parse(held.data(), held.size());
  if (!paused_for_output_ && !finished_ && !close_after_drain_) stream_.start_reading();
}

int HttpConnection::on_message_begin(llhttp_t* parser) {
  HttpConnection& self = self_of(parser);
  self.url_.clear();
  self.head_bytes_ = 0;
  self.body_bytes_ = 0;
  return HPE_OK;
}

bool HttpConnection::count_head(size_t length) {
  head_bytes_ += length;
  if (head_bytes_ <= kMaxRequestHead) return true;
  limit_status_ = 413;
  return false;
}

int HttpConnection::on_url(llhttp_t* parser, const char* at, size_t length) {
  HttpConnection& self = self_of(parser);
  if (!self.count_head(length)) return HPE_USER;
  self.url_.append(at, length);
  return HPE_OK;
}

int HttpConnection::on_header_field(llhttp_t* parser, const char*, size_t length) {
  // + 4 for ": " and CRLF, so a flood of empty headers also hits the limit.
  return self_of(parser).count_head(length + 4) ? HPE_OK : HPE_USER;
}

int HttpConnection::on_header_value(llhttp_t* parser, const char*, size_t length) {
  return self_of(parser).count_head(length) ? HPE_OK : HPE_USER;
}

int HttpConnection::on_headers_complete(llhttp_t* parser) {
  HttpConnection& self = self_of(parser);
  // A declared length over the limit is refused before any of the body is read.
  if ((parser->flags & F_CONTENT_LENGTH) != 0 && parser->content_length > kMaxRequestBody) {
    self.limit_status_ = 413;
    return -1;
  }
  return 0;
}

int HttpConnection::on_body(llhttp_t* parser, const char*, size_t length) {
  HttpConnection& self = self_of(parser);
  self.body_bytes_ += length;  // chunked bodies have no declared length
  if (self.body_bytes_ <= kMaxRequestBody) return HPE_OK;
  self.limit_status_ = 413;
  return HPE_USER;
}

int HttpConnection::on_message_complete(llhttp_t* parser) {
  HttpConnection& self = self_of(parser);
  const std::string_view method = llhttp_method_name(static_cast<llhttp_method_t>(parser->method));
  const bool keep_alive = llhttp_should_keep_alive(parser) != 0;
  const HttpResponse response = route(method, self.url_, self.hooks_);
  self.send(serialize(response, keep_alive, method != "HEAD"), !keep_alive);
  if (self.finished_ || self.close_after_drain_) return HPE_PAUSED;
  self.progress();  // each answered request earns the connection another 5 s
  if (self.stream_.pending_output() > 0) {
    // Not all of the answer reached the kernel: the client is not reading. Parse
    // nothing more until it does, or pipelined requests pile up answers here.
    self.paused_for_output_ = true;
    return HPE_PAUSED;
  }
  return HPE_OK;
}

void HttpConnection::send(const std::string& bytes, bool close_after) {
  if (!stream_.is_open()) return;
  if (close_after) {
    close_after_drain_ = true;
    stream_.stop_reading();
  }
  stream_.out().append(bytes);
  // Written at once rather than at the end of the loop turn: a client that sends
  // its request and shuts down its side still gets the answer before the EOF is seen.
  stream_.flush();
}

void HttpConnection::reject(int status, std::string_view message) {
  send(serialize(text_response(status, message), false, true), true);
}

void HttpConnection::finish() {
  if (finished_) return;
  finished_ = true;
  timeout_.stop();
  stream_.close();
  on_finished_(this);
}

}  // namespace slotgate::admin
