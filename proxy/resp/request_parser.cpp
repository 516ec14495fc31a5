// RequestParser: RESP multibulk and inline request framing, following Redis
// 7.0's processMultibulkBuffer() / processInlineBuffer() so clients see the same
// behaviour and the same protocol error texts as from a real Redis.
#include "resp/request_parser.hpp"

#include <algorithm>
#include <cstring>
#include <optional>

#include "resp/integer_text.hpp"

namespace slotgate::resp {

namespace {

// isspace() in the C locale, as sdssplitargs uses it to skip blanks between arguments.
bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

// An inline line as sdssplitargs() reads it: a C string, so the end reads as '\0'.
struct InlineLine {
  std::string_view buf;
  size_t end;
  char operator[](size_t i) const { return i < end ? buf[i] : '\0'; }
};

// The character a backslash escape stands for inside "double quotes".
char double_quote_escape(char e) {
  switch (e) {
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    case 'b':
      return '\b';
    case 'a':
      return '\a';
    default:
      return e;
  }
}

// One character (or escape) at line[i] inside quotes opened with `quote`: appended to out
// unescaped, i left on its last byte; at the closing quote `closed` is set. False when the
// quotes are unbalanced (unterminated, or closed and not followed by a blank or the end).
bool quoted_char(const InlineLine& at, size_t& i, char quote, std::string& out, bool& closed) {
  const char c = at[i];
  if (quote == '"') {
    if (c == '\\' && at[i + 1] == 'x' && is_hex(at[i + 2]) && is_hex(at[i + 3])) {
      out.push_back(static_cast<char>(hex_value(at[i + 2]) * 16 + hex_value(at[i + 3])));
      i += 3;
      return true;
    }
    if (c == '\\' && at[i + 1] != '\0') {
      ++i;
      out.push_back(double_quote_escape(at[i]));
      return true;
    }
  } else if (c == '\\' && at[i + 1] == '\'') {  // 'single quotes' know only \'
    ++i;
    out.push_back('\'');
    return true;
  }
  if (c == quote) {
    if (at[i + 1] != '\0' && !is_blank(at[i + 1])) return false;
    closed = true;
    return true;
  }
  if (c == '\0') return false;  // unterminated quotes
  out.push_back(c);
  return true;
}

// The common case of a "*<n>\r" or "$<n>\r" line, read in one pass: buf[from] starts up to 18
// digits without a leading zero (or is a lone "0"), followed by '\r' and at least one more
// byte. Sets value and cr (the '\r') and returns true; anything else (a sign, a longer number,
// a line not all here yet, a malformed one) returns false and takes the general path, which
// gives the same answer for these lines and the exact Redis error for the others.
bool short_decimal_line(std::string_view buf, size_t from, size_t& value, size_t& cr) {
  const size_t i = short_decimal(buf, from, 18, value);
  if (i == std::string_view::npos || i + 1 >= buf.size() || buf[i] != '\r') return false;
  cr = i;
  return true;
}

}  // namespace

RequestParser::RequestParser(RequestLimits limits) : limits_(limits) {}

void RequestParser::reset() {
  state_ = State::FrameStart;
  pos_ = frame_start_ = scan_from_ = 0;
  args_left_ = bulk_len_ = 0;
  inline_ = false;
  spans_.clear();
  args_.clear();
  error_.clear();
  raw_ = {};
  consumed_ = 0;
  done_ = false;
}

void RequestParser::start_frame() {
  state_ = State::FrameStart;
  scan_from_ = pos_;
  spans_.clear();
}

size_t RequestParser::find_from_memo(std::string_view buf, char c) {
  size_t from = std::max(scan_from_, pos_);
  if (from >= buf.size()) {
    scan_from_ = buf.size();
    return std::string_view::npos;
  }
  const void* hit = std::memchr(buf.data() + from, c, buf.size() - from);
  if (hit == nullptr) {
    scan_from_ = buf.size();
    return std::string_view::npos;
  }
  size_t at = static_cast<size_t>(static_cast<const char*>(hit) - buf.data());
  scan_from_ = at;  // found again in O(1) if we must wait for the byte after it
  return at;
}

RequestParser::Status RequestParser::fail(std::string text) {
  error_ = std::move(text);
  state_ = State::Failed;
  args_.clear();
  return Status::Error;
}

RequestParser::Status RequestParser::complete(std::string_view buf, size_t end) {
  consumed_ = end;
  raw_ = buf.substr(frame_start_, end - frame_start_);
  args_.clear();
  std::string_view scratch = scratch_;
  for (const ArgSpan& s : spans_) {
    args_.push_back(s.in_scratch ? scratch.substr(s.offset, s.length)
                                 : buf.substr(s.offset, s.length));
  }
  done_ = true;
  return Status::Complete;
}

RequestParser::Status RequestParser::parse(std::string_view buf) {
  if (state_ == State::Failed) return Status::Error;
  // A new command starts at buf[0] after a completed one; a buffer shorter than our progress
  // breaks the resume contract, and starting over is the only safe answer.
  if (done_ || buf.size() < pos_) {
    done_ = false;
    pos_ = 0;
    start_frame();
  }
  consumed_ = 0;
  raw_ = {};

  for (;;) {
    if (state_ == State::FrameStart) {
      if (pos_ >= buf.size()) return Status::Incomplete;
      frame_start_ = pos_;  // scan_from_ is left alone: an inline line may be resuming
      // Like Redis, the first byte decides: '*' starts a multibulk, anything else is inline.
      if (buf[pos_] == '*') {
        inline_ = false;
        state_ = State::MultibulkCount;
      } else {
        inline_ = true;
        Status s = parse_inline(buf);
        if (s == Status::Complete && spans_.empty()) continue;  // skipped an empty line
        return s;
      }
    }
    Status s = parse_multibulk(buf);
    if (s == Status::Complete && state_ == State::FrameStart && !done_) continue;  // "*0" / "*-1"
    return s;
  }
}

// The steps of a multibulk request, one per state: each returns the status to give back to
// the caller, or nullopt when the next state can go on with the same buffer. Always inlined:
// they are parse_multibulk()'s loop body, split out only to be read.
[[gnu::always_inline]] inline std::optional<RequestParser::Status> RequestParser::read_count(
    std::string_view buf) {
  size_t count = 0;
  size_t cr = 0;
  if (short_decimal_line(buf, pos_ + 1, count, cr) && count > 0 && count <= limits_.max_args) {
    return begin_array(count, cr);
  }
  cr = find_from_memo(buf, '\r');
  // A line longer than max_inline is refused whether its CR has arrived or not (Redis checks
  // only while it waits), so the answer does not depend on how the reads were split.
  if ((cr == std::string_view::npos ? buf.size() : cr) - pos_ > limits_.max_inline) {
    return fail("Protocol error: too big mbulk count string");
  }
  if (cr == std::string_view::npos) return Status::Incomplete;
  // Redis waits for one byte after '\r' and then skips it without checking it is '\n'.
  if (cr + 1 >= buf.size()) return Status::Incomplete;
  auto n = parse_integer(buf.substr(pos_ + 1, cr - pos_ - 1));
  if (limits_.unauthenticated && n && *n > 0 &&
      static_cast<unsigned long long>(*n) > limits_.max_args) {
    return fail("Protocol error: unauthenticated multibulk length");
  }
  if (!n || (*n > 0 && static_cast<unsigned long long>(*n) > limits_.max_args)) {
    return fail("Protocol error: invalid multibulk length");
  }
  if (*n <= 0) {
    // Why: Redis treats "*0" and "*-1" (and any negative count) as a no-op and
    // goes on with the next command in the buffer; so do we.
    pos_ = cr + 2;
    start_frame();
    return Status::Complete;
  }
  return begin_array(static_cast<size_t>(*n), cr);
}

[[gnu::always_inline]] inline std::optional<RequestParser::Status> RequestParser::begin_array(
    size_t count, size_t cr) {
  pos_ = cr + 2;
  args_left_ = count;
  // Don't trust the announced count for the allocation: "*1048576" alone must not
  // cost megabytes. The vector grows as bulks actually arrive and is kept afterwards.
  spans_.reserve(std::min<size_t>(args_left_, 1024));
  scan_from_ = pos_;
  state_ = State::BulkHeader;
  return std::nullopt;
}

[[gnu::always_inline]] inline std::optional<RequestParser::Status> RequestParser::read_bulk_header(
    std::string_view buf) {
  size_t len = 0;
  size_t cr = 0;
  if (pos_ < buf.size() && buf[pos_] == '$' && short_decimal_line(buf, pos_ + 1, len, cr) &&
      len <= limits_.max_bulk) {
    pos_ = cr + 2;
    bulk_len_ = len;
    state_ = State::BulkData;
    return std::nullopt;
  }
  cr = find_from_memo(buf, '\r');
  if ((cr == std::string_view::npos ? buf.size() : cr) - pos_ > limits_.max_inline) {
    return fail("Protocol error: too big bulk count string");  // as for the count line
  }
  if (cr == std::string_view::npos) return Status::Incomplete;
  if (cr + 1 >= buf.size()) return Status::Incomplete;
  if (buf[pos_] != '$') {
    // Redis formats the offending byte with %c and then turns CR/LF into spaces
    // so the error line stays one line.
    char got = buf[pos_];
    if (got == '\r' || got == '\n') got = ' ';
    std::string text = "Protocol error: expected '$', got '";
    text.push_back(got);
    text.push_back('\'');
    return fail(std::move(text));
  }
  auto n = parse_integer(buf.substr(pos_ + 1, cr - pos_ - 1));
  if (limits_.unauthenticated && n && *n >= 0 &&
      static_cast<unsigned long long>(*n) > limits_.max_bulk) {
    return fail("Protocol error: unauthenticated bulk length");
  }
  if (!n || *n < 0 || static_cast<unsigned long long>(*n) > limits_.max_bulk) {
    return fail("Protocol error: invalid bulk length");
  }
  pos_ = cr + 2;
  bulk_len_ = static_cast<size_t>(*n);
  state_ = State::BulkData;
  return std::nullopt;
}

[[gnu::always_inline]] inline std::optional<RequestParser::Status> RequestParser::read_bulk_data(
    std::string_view buf) {
  // O(1) per call however the bulk trickles in: only the length is compared.
  if (buf.size() - pos_ < bulk_len_ + 2) return Status::Incomplete;
  spans_.push_back({pos_, bulk_len_, false});
  // Like Redis, the two bytes after the payload are skipped, not checked for CRLF.
  pos_ += bulk_len_ + 2;
  scan_from_ = pos_;
  if (--args_left_ == 0) {
    Status s = complete(buf, pos_);
    state_ = State::FrameStart;
    return s;
  }
  state_ = State::BulkHeader;
  return std::nullopt;
}

RequestParser::Status RequestParser::parse_multibulk(std::string_view buf) {
  for (;;) {
    std::optional<Status> s;
    switch (state_) {
      case State::MultibulkCount:
        s = read_count(buf);
        break;
      case State::BulkHeader:
        s = read_bulk_header(buf);
        break;
      case State::BulkData:
        s = read_bulk_data(buf);
        break;
      case State::FrameStart:
      case State::Failed:
        return Status::Error;  // not reached: parse() dispatches these
    }
    if (s) return *s;
  }
}

RequestParser::Status RequestParser::parse_inline(std::string_view buf) {
  size_t nl = find_from_memo(buf, '\n');
  if (nl == std::string_view::npos) {
    if (buf.size() - pos_ > limits_.max_inline) {
      return fail("Protocol error: too big inline request");
    }
    return Status::Incomplete;
  }
  size_t end = nl;
  if (end > pos_ && buf[end - 1] == '\r') --end;
  // Redis only notices an oversized line while it is still waiting for its '\n'; we also
  // refuse one that arrived whole, so the outcome does not depend on how reads were split.
  // Measured up to the '\n', '\r' included, as the wait above measures what it holds: a line
  // of exactly max_inline bytes and CRLF is refused whether or not its CR arrived first.
  if (nl - pos_ > limits_.max_inline) return fail("Protocol error: too big inline request");
  if (!split_inline(buf, pos_, end)) {
    return fail("Protocol error: unbalanced quotes in request");
  }
  pos_ = nl + 1;
  if (spans_.empty()) {
    // Empty (or all-blank, or only empty-string) lines are skipped, as Redis does: telnet
    // users press enter, and replicas send bare newlines as keepalives.
    start_frame();
    return Status::Complete;
  }
  Status s = complete(buf, pos_);
  state_ = State::FrameStart;
  return s;
}

// Splits buf[begin, end) into arguments with sdssplitargs()'s rules:
//  - blanks separate arguments; "double quotes" understand \n \r \t \b \a \xHH and
//    backslash-anything; 'single quotes' understand only \';
//  - quotes may start in the middle of an argument (a"b c" is `ab c`), but a closing
//    quote must be followed by a blank or the end of the line, else the quotes are
//    "unbalanced";
//  - the line is a C string to Redis, so a NUL byte ends it.
// Redis then drops empty arguments (an inline "" is no argument at all).
// Unquoted arguments stay views into buf; anything with quotes is unescaped into scratch_.
bool RequestParser::split_inline(std::string_view buf, size_t begin, size_t end) {
  spans_.clear();
  scratch_.clear();
  if (const void* nul = std::memchr(buf.data() + begin, '\0', end - begin)) {
    end = static_cast<size_t>(static_cast<const char*>(nul) - buf.data());
  }
  const InlineLine at{buf, end};

  size_t i = begin;
  for (;;) {
    while (i < end && is_blank(buf[i])) ++i;
    if (i >= end) return true;

    const size_t token_start = i;
    size_t token_end = i;
    bool plain = true;  // no quote seen yet: the token is buf[token_start, token_end)
    const size_t scratch_start = scratch_.size();
    char quote = 0;  // the quote mark we are inside of, or 0
    bool done = false;
    while (!done) {
      const char c = at[i];
      if (quote != 0) {
        if (!quoted_char(at, i, quote, scratch_, done)) return false;
      } else if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\0') {
        token_end = i;
        done = true;
      } else if (c == '"' || c == '\'') {
        if (plain) {
          plain = false;
          scratch_.append(buf.data() + token_start, i - token_start);
        }
        quote = c;
      } else if (!plain) {
        scratch_.push_back(c);
      }
      if (at[i] != '\0') ++i;
    }

    ArgSpan span = plain ? ArgSpan{token_start, token_end - token_start, false}
                         : ArgSpan{scratch_start, scratch_.size() - scratch_start, true};
    if (span.length > 0) spans_.push_back(span);
  }
}

}  // namespace slotgate::resp
