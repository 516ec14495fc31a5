// FrameScanner: incremental RESP2/RESP3 reply framing (see frame_scanner.hpp).
#include "resp/frame_scanner.hpp"

#include <algorithm>
#include <cstring>

#include "resp/integer_text.hpp"

namespace slotgate::resp {

namespace {

// Aggregate and bulk lengths beyond this are not something Redis sends; refusing them also
// keeps 2n + 1 and offset arithmetic far from overflow.
constexpr long long kMaxLength = 1ll << 40;
// Elements owed by one frame: no reply has 2^50 of them (petabytes), and the sum stays far from
// overflow however many huge headers a broken stream sends.
constexpr long long kMaxPending = 1ll << 50;

// "$<n>\r\n" / "*<n>\r\n" headers, the common case, read in one pass: buf[from] starts up to 12
// digits (below kMaxLength) without a leading zero, or a lone "0", followed by CRLF. Sets n and
// next (the byte after the LF). Anything else (signs, "?", longer numbers, a line not all here
// yet, a bad line) returns false and takes the general path, which answers the same for these.
bool short_length_line(std::string_view buf, size_t from, long long& n, size_t& next) {
  size_t v = 0;
  const size_t i = short_decimal(buf, from, 12, v);
  if (i == std::string_view::npos || i + 1 >= buf.size() || buf[i] != '\r' || buf[i + 1] != '\n')
    return false;
  n = static_cast<long long>(v);
  next = i + 2;
  return true;
}

static_assert(kMaxLength > 999'999'999'999, "short_length_line's 12 digits stay within kMaxLength");

}  // namespace

void FrameScanner::reset() {
  pending_ = 1;
  top_seen_ = false;
  pos_ = scan_from_ = bulk_end_ = 0;
  waiting_bulk_ = done_ = failed_ = false;
  type_ = 0;
  error_offset_ = error_length_ = frame_length_ = 0;
  buf_ = {};
  protocol_error_ = "";
}

std::string_view FrameScanner::error_text() const {
  if (!is_error() || error_offset_ + error_length_ > buf_.size()) return {};
  return buf_.substr(error_offset_, error_length_);
}

std::string_view FrameScanner::error_code() const {
  std::string_view text = error_text();
  return text.substr(0, text.find(' '));
}

FrameScanner::Status FrameScanner::fail(const char* why) {
  protocol_error_ = why;
  failed_ = true;
  return Status::Error;
}

// One header line's checks and what it adds to the frame: elements owed (aggregates) or a
// payload to wait for (bulks, `bulk` set). The reason when the line is not valid RESP, else
// nullptr. Always inlined: it is scan()'s hot loop body, split out only to be read.
[[gnu::always_inline]] inline const char* FrameScanner::read_header(char t, std::string_view line,
                                                                    size_t next, bool top,
                                                                    bool& bulk) {
  switch (t) {
    case '+':  // simple string
    case '-':  // simple error
    case ',':  // double
    case '(':  // big number
      break;
    case ':':
      if (!parse_integer(line)) return "invalid integer reply";
      break;
    case '_':
      if (!line.empty()) return "invalid null reply";
      break;
    case '#':
      if (line != "t" && line != "f") return "invalid boolean reply";
      break;
    case '$':    // bulk string
    case '=':    // verbatim string
    case '!': {  // bulk error
      if (line == "?") return "streamed strings are not supported";
      auto n = parse_integer(line);
      if (!n || *n < -1 || *n > kMaxLength || (*n == -1 && t != '$')) {
        return "invalid bulk length";
      }
      if (*n >= 0) {  // "$-1" is the RESP2 null bulk: a complete element as is
        if (top && t == '!') {
          error_offset_ = next;
          error_length_ = static_cast<size_t>(*n);
        }
        waiting_bulk_ = true;
        bulk_end_ = next + static_cast<size_t>(*n) + 2;
        bulk = true;
      }
      break;
    }
    case '*':    // array
    case '~':    // set
    case '>':    // push
    case '%':    // map
    case '|': {  // attribute
      if (line == "?") return "streamed aggregates are not supported";
      auto n = parse_integer(line);
      if (!n || *n < -1 || *n > kMaxLength || (*n == -1 && t != '*')) {
        return "invalid aggregate length";
      }
      long long elements = *n;
      if (t == '%' || t == '|') elements = 2 * *n;
      if (elements > 0) {  // "*-1" (RESP2 null array) and empty aggregates add nothing
        if (pending_ > kMaxPending - elements) return "reply has too many elements";
        pending_ += elements;
      }
      break;
    }
    default:
      return "unknown reply type byte";
  }
  return nullptr;
}

// A "$<n>" or "*<n>" header at pos_ that short_length_line() reads, taken in one pass.
[[gnu::always_inline]] inline FrameScanner::Shortcut FrameScanner::short_header(
    std::string_view buf) {
  const char t = buf[pos_];
  if (t != '$' && t != '*') return Shortcut::NotTaken;
  long long n = 0;
  size_t next = 0;
  if (!short_length_line(buf, pos_ + 1, n, next)) return Shortcut::NotTaken;
  if (t == '*' && pending_ - 1 > kMaxPending - n) return Shortcut::NotTaken;  // refused there
  if (!top_seen_ && pending_ == 1) {
    top_seen_ = true;
    type_ = t;
  }
  --pending_;
  pos_ = scan_from_ = next;
  if (t == '$') {
    waiting_bulk_ = true;
    bulk_end_ = next + static_cast<size_t>(n) + 2;
    return Shortcut::Taken;
  }
  pending_ += n;
  return pending_ == 0 ? Shortcut::FrameDone : Shortcut::Taken;
}

FrameScanner::Status FrameScanner::scan(std::string_view buf) {
  if (failed_) return Status::Error;
  if (done_ || buf.size() < pos_) {
    reset();
  }
  buf_ = buf;

  for (;;) {
    if (waiting_bulk_) {
      // O(1) per call while a big bulk trickles in.
      if (buf.size() < bulk_end_) return Status::Incomplete;
      if (buf[bulk_end_ - 2] != '\r' || buf[bulk_end_ - 1] != '\n') {
        return fail("bulk payload not followed by CRLF");
      }
      waiting_bulk_ = false;
      pos_ = scan_from_ = bulk_end_;
      if (pending_ == 0) break;
      continue;
    }

    if (pos_ >= buf.size()) return Status::Incomplete;
    if (const Shortcut taken = short_header(buf); taken != Shortcut::NotTaken) {
      if (taken == Shortcut::FrameDone) break;
      continue;
    }
    size_t from = std::max(scan_from_, pos_ + 1);
    const void* hit =
        from < buf.size() ? std::memchr(buf.data() + from, '\r', buf.size() - from) : nullptr;
    if (hit == nullptr) {
      scan_from_ = buf.size();
      return Status::Incomplete;
    }
    const size_t cr = static_cast<size_t>(static_cast<const char*>(hit) - buf.data());
    scan_from_ = cr;
    if (cr + 1 >= buf.size()) return Status::Incomplete;
    if (buf[cr + 1] != '\n') return fail("CR not followed by LF");

    const char t = buf[pos_];
    const std::string_view line = buf.substr(pos_ + 1, cr - pos_ - 1);
    const size_t next = cr + 2;
    // The top-level reply is the first header that is not an attribute while the frame owes
    // only that one element (attribute pairs still to come would be owed too).
    const bool top = !top_seen_ && pending_ == 1 && t != '|';
    if (top) {
      top_seen_ = true;
      type_ = t;
      if (t == '-') {
        error_offset_ = pos_ + 1;
        error_length_ = line.size();
      }
    }

    if (t != '|') --pending_;  // this header is one element (an attribute annotates the next)
    bool bulk = false;
    if (const char* why = read_header(t, line, next, top, bulk)) return fail(why);

    pos_ = scan_from_ = next;
    if (!bulk && pending_ == 0) break;
  }

  frame_length_ = pos_;
  done_ = true;
  return Status::Complete;
}

}  // namespace slotgate::resp
