// parse_value: recursive descent over one RESP2/RESP3 frame (see value_parser.hpp).
#include "resp/value_parser.hpp"

#include "resp/integer_text.hpp"

namespace slotgate::resp {

namespace {

constexpr int kMaxDepth = 128;

class ValueReader {
 public:
  explicit ValueReader(std::string_view in) : in_(in) {}

  bool at_end() const { return pos_ == in_.size(); }

  bool read(Value& out, int depth) {
    if (depth > kMaxDepth || pos_ >= in_.size()) return false;
    const char t = in_[pos_++];
    std::string_view line;
    if (!read_line(line)) return false;
    switch (t) {
      case '$':
      case '!':
      case '=':
        return read_blob(t, line, out);
      case '*':
      case '~':
      case '>':
      case '%':
        return read_aggregate(t, line, out, depth);
      case '|':
        return read_attribute(line, out, depth);
      default:
        return read_simple(t, line, out);
    }
  }

 private:
  // A reply that is all in its header line: + - : _ , ( #.
  static bool read_simple(char t, std::string_view line, Value& out) {
    switch (t) {
      case '+':
        out.type = Type::SimpleString;
        out.str.assign(line);
        return true;
      case '-':
        out.type = Type::Error;
        out.str.assign(line);
        return true;
      case ':': {
        auto n = parse_integer(line);
        if (!n) return false;
        out.type = Type::Integer;
        out.integer = *n;
        return true;
      }
      case '_':
        out.type = Type::Null;
        return line.empty();
      case ',':
        if (line.empty()) return false;
        out.type = Type::Double;
        out.str.assign(line);
        return true;
      case '(':
        if (line.empty()) return false;
        out.type = Type::BigNumber;
        out.str.assign(line);
        return true;
      case '#':
        if (line != "t" && line != "f") return false;
        out.type = Type::Boolean;
        out.integer = line == "t" ? 1 : 0;
        return true;
      default:
        return false;
    }
  }

  // $ (bulk string), ! (bulk error), = (verbatim): a length line, then the payload.
  bool read_blob(char t, std::string_view line, Value& out) {
    auto n = parse_integer(line);
    if (!n) return false;
    if (*n == -1 && t == '$') {
      out.type = Type::Null;
      return true;
    }
    std::string_view payload;
    if (*n < 0 || !read_payload(static_cast<size_t>(*n), payload)) return false;
    if (t == '=') {
      // Verbatim: "fmt:" (three bytes and a colon) then the text.
      if (payload.size() < 4 || payload[3] != ':') return false;
      out.type = Type::Verbatim;
      out.format.assign(payload.substr(0, 3));
      out.str.assign(payload.substr(4));
    } else {
      out.type = t == '$' ? Type::BulkString : Type::Error;
      out.str.assign(payload);
    }
    return true;
  }

  // * ~ > %: a count, then that many elements (pairs for a map).
  bool read_aggregate(char t, std::string_view line, Value& out, int depth) {
    auto n = parse_integer(line);
    if (!n) return false;
    if (*n == -1 && t == '*') {
      out.type = Type::Null;
      return true;
    }
    // Every element takes at least 3 bytes ("_\r\n"): a count the remaining input cannot
    // hold is malformed, and checking first keeps a lying header from a huge resize().
    const long long room = static_cast<long long>((in_.size() - pos_) / 3);
    if (*n < 0 || *n > room) return false;
    const long long count = t == '%' ? 2 * *n : *n;
    if (count > room) return false;
    out.type = t == '*' ? Type::Array : t == '~' ? Type::Set : t == '>' ? Type::Push : Type::Map;
    out.elements.resize(static_cast<size_t>(count));
    for (Value& e : out.elements) {
      if (!read(e, depth + 1)) return false;
    }
    return true;
  }

  // Attribute: n key/value pairs, then the reply they describe. Dropped.
  bool read_attribute(std::string_view line, Value& out, int depth) {
    auto n = parse_integer(line);
    if (!n || *n < 0 || *n > static_cast<long long>(in_.size() - pos_)) return false;
    for (long long i = 0; i < 2 * *n; ++i) {
      Value ignored;
      if (!read(ignored, depth + 1)) return false;
    }
    return read(out, depth + 1);
  }

  bool read_line(std::string_view& line) {
    size_t cr = in_.find('\r', pos_);
    if (cr == std::string_view::npos || cr + 1 >= in_.size() || in_[cr + 1] != '\n') return false;
    line = in_.substr(pos_, cr - pos_);
    pos_ = cr + 2;
    return true;
  }

  bool read_payload(size_t n, std::string_view& payload) {
    if (in_.size() - pos_ < n + 2 || in_[pos_ + n] != '\r' || in_[pos_ + n + 1] != '\n') {
      return false;
    }
    payload = in_.substr(pos_, n);
    pos_ += n + 2;
    return true;
  }

  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace

std::optional<Value> parse_value(std::string_view frame) {
  ValueReader reader(frame);
  Value v;
  if (!reader.read(v, 0) || !reader.at_end()) return std::nullopt;
  return v;
}

}  // namespace slotgate::resp
