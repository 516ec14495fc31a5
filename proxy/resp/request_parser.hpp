// RequestParser: frames client commands out of a connection's read buffer.
//
// Owns the two request syntaxes Redis accepts from clients: RESP arrays of
// bulk strings ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n") and inline commands, the
// space-separated lines a telnet/nc user types, with the quoting rules of
// Redis's sdssplitargs(). Arguments are string_views into the caller's buffer
// (zero copy); only inline arguments that needed unquoting live in a scratch
// string owned by the parser. Parsing is incremental: progress is kept as
// offsets, so a 500 MB bulk arriving in 64 KB reads is examined once, and the
// caller may move or grow its buffer between calls.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace slotgate::resp {

struct RequestLimits {
  size_t max_args = 1024 * 1024;   // Redis: "*<n>" above this is an invalid multibulk length
  size_t max_bulk = 512ull << 20;  // Redis: proto-max-bulk-len
  size_t max_inline = 64 * 1024;   // Redis: PROTO_INLINE_MAX_SIZE, also caps "*"/"$" lines
  // Before AUTH, Redis accepts only what AUTH/HELLO need and says so in its errors
  // ("unauthenticated multibulk length" / "unauthenticated bulk length").
  bool unauthenticated = false;

  // What redis-server allows a client that has not authenticated yet: 10 arguments of at
  // most 16 KiB each, so a stranger cannot make the proxy buffer a 512 MB bulk.
  static RequestLimits before_auth() {
    RequestLimits l;
    l.max_args = 10;
    l.max_bulk = 16 * 1024;
    l.unauthenticated = true;
    return l;
  }
};

class RequestParser {
 public:
  explicit RequestParser(RequestLimits limits = {});

  enum class Status { Complete, Incomplete, Error };

  // Looks for one complete command in buf[0..]. On Complete: args() holds views into buf (or into
  // the parser's scratch for unescaped inline args), consumed() is the number of bytes to drop
  // from the front of buf, and raw() is the command's own bytes, forwardable as-is when the frame
  // was a RESP array. On Incomplete: call again later with the same buffer start plus more bytes
  // appended (the parser remembers its progress). On Error: error() holds the Redis error text
  // (without "-ERR "); the error is sticky until reset(), since Redis closes such a connection.
  Status parse(std::string_view buf);

  std::span<const std::string_view> args() const { return args_; }
  // Bytes of buf that belong to the completed command, including any no-op frames Redis skips
  // before it ("*0\r\n", "*-1\r\n", empty inline lines).
  size_t consumed() const { return consumed_; }
  // The completed command's bytes without the skipped no-op prefix: buf.substr(frame start,
  // consumed() - frame start). Valid while the buffer passed to parse() is.
  std::string_view raw() const { return raw_; }
  bool was_inline() const { return inline_; }
  const std::string& error() const { return error_; }

  // Forget partial progress (and a sticky error); the next parse() starts a new command at buf[0].
  void reset();
  // New limits for the commands that follow (AUTH succeeded, or RESET undid it). Call it
  // between commands: a command already half parsed keeps being checked against the
  // new limits.
  void set_limits(RequestLimits limits) { limits_ = limits; }

 private:
  enum class State { FrameStart, MultibulkCount, BulkHeader, BulkData, Failed };

  // Where an argument's bytes are: an offset into the caller's buffer or into scratch_. Offsets,
  // not pointers, because the caller's buffer may move between parse() calls.
  struct ArgSpan {
    size_t offset;
    size_t length;
    bool in_scratch;
  };

  Status parse_multibulk(std::string_view buf);
  std::optional<Status> read_count(std::string_view buf);
  // An array of `count` (> 0, within the limits) whose "*<count>" line ends at buf[cr].
  std::optional<Status> begin_array(size_t count, size_t cr);
  std::optional<Status> read_bulk_header(std::string_view buf);
  std::optional<Status> read_bulk_data(std::string_view buf);
  Status parse_inline(std::string_view buf);
  // Splits one inline line like sdssplitargs(); false on unbalanced quotes.
  bool split_inline(std::string_view buf, size_t begin, size_t end);
  // Finds `c` in buf starting at the remembered scan position (never re-reading bytes).
  size_t find_from_memo(std::string_view buf, char c);
  Status complete(std::string_view buf, size_t end);
  Status fail(std::string text);
  void start_frame();

  RequestLimits limits_;
  State state_ = State::FrameStart;
  size_t pos_ = 0;          // next unparsed byte of buf
  size_t frame_start_ = 0;  // first byte of the current command (after skipped no-ops)
  size_t scan_from_ = 0;    // terminator search resumes here
  size_t args_left_ = 0;    // bulk strings still expected in the current array
  size_t bulk_len_ = 0;     // length of the bulk whose data we are waiting for
  bool inline_ = false;
  std::vector<ArgSpan> spans_;
  std::vector<std::string_view> args_;
  std::string scratch_;
  std::string error_;
  std::string_view raw_;
  size_t consumed_ = 0;
  bool done_ = false;  // the last parse() completed a command; the next one starts fresh
};

}  // namespace slotgate::resp
