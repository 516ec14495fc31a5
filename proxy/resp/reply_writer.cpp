// Reply writers (see reply_writer.hpp).
#include "resp/reply_writer.hpp"

#include <charconv>
#include <cmath>
#include <cstring>

namespace slotgate::resp {

namespace {

void append_crlf(std::string& out) {
  out.append("\r\n", 2);
}

// "<prefix><n>\r\n" without a temporary string, in one append (a header is written for every
// element of every reply slotgate builds, and for every part of a split command).
void append_prefixed_number(std::string& out, char prefix, long long n) {
  char line[24];  // prefix, up to 20 characters of a long long, CRLF
  line[0] = prefix;
  char* end = std::to_chars(line + 1, line + sizeof(line) - 2, n).ptr;
  *end++ = '\r';
  *end++ = '\n';
  out.append(line, static_cast<size_t>(end - line));
}

void append_length(std::string& out, char prefix, size_t n) {
  append_prefixed_number(out, prefix, static_cast<long long>(n));
}

// A status or error line must stay one line: CR and LF become spaces.
void append_line_text(std::string& out, std::string_view s) {
  size_t start = out.size();
  out.append(s);
  for (size_t i = start; i < out.size(); ++i) {
    if (out[i] == '\r' || out[i] == '\n') out[i] = ' ';
  }
}

}  // namespace

void append_simple(std::string& out, std::string_view s) {
  out.push_back('+');
  append_line_text(out, s);
  append_crlf(out);
}

void append_error(std::string& out, std::string_view s) {
  out.push_back('-');
  append_line_text(out, s);
  append_crlf(out);
}

void append_integer(std::string& out, long long n) {
  append_prefixed_number(out, ':', n);
}

void append_bulk(std::string& out, std::string_view s) {
  append_length(out, '$', s.size());
  out.append(s);
  append_crlf(out);
}

void append_null_bulk(std::string& out, int proto) {
  out.append(proto >= 3 ? "_\r\n" : "$-1\r\n");
}

void append_null_array(std::string& out, int proto) {
  out.append(proto >= 3 ? "_\r\n" : "*-1\r\n");
}

void append_array_header(std::string& out, size_t n) {
  append_length(out, '*', n);
}

void append_map_header(std::string& out, size_t n, int proto) {
  if (proto >= 3) {
    append_length(out, '%', n);
  } else {
    append_length(out, '*', 2 * n);
  }
}

void append_set_header(std::string& out, size_t n, int proto) {
  append_length(out, proto >= 3 ? '~' : '*', n);
}

void append_push_header(std::string& out, size_t n, int proto) {
  append_length(out, proto >= 3 ? '>' : '*', n);
}

void append_double(std::string& out, double d, int proto) {
  // Redis 7.0 writes doubles with "%.17g", and infinities explicitly as "inf" / "-inf";
  // to_chars in general format with precision 17 gives the same digits.
  char text[40];
  size_t len;
  if (std::isinf(d)) {
    std::string_view s = d > 0 ? "inf" : "-inf";
    s.copy(text, s.size());
    len = s.size();
  } else {
    auto res = std::to_chars(text, text + sizeof(text), d, std::chars_format::general, 17);
    len = static_cast<size_t>(res.ptr - text);
  }
  if (proto >= 3) {
    out.push_back(',');
    out.append(text, len);
    append_crlf(out);
  } else {
    append_bulk(out, std::string_view(text, len));
  }
}

void append_bool(std::string& out, bool b, int proto) {
  if (proto >= 3) {
    out.append(b ? "#t\r\n" : "#f\r\n");
  } else {
    out.append(b ? ":1\r\n" : ":0\r\n");
  }
}

void append_verbatim(std::string& out, std::string_view s, int proto, std::string_view format) {
  if (proto < 3) {
    append_bulk(out, s);
    return;
  }
  append_length(out, '=', format.size() + 1 + s.size());
  out.append(format);
  out.push_back(':');
  out.append(s);
  append_crlf(out);
}

void write_value(std::string& out, const Value& v, int proto) {
  switch (v.type) {
    case Type::SimpleString:
      append_simple(out, v.str);
      return;
    case Type::Error:
      append_error(out, v.str);
      return;
    case Type::Integer:
      append_integer(out, v.integer);
      return;
    case Type::BulkString:
      append_bulk(out, v.str);
      return;
    case Type::Null:
      append_null_bulk(out, proto);
      return;
    case Type::Array:
      append_array_header(out, v.elements.size());
      break;
    case Type::Map:
      append_map_header(out, v.elements.size() / 2, proto);
      break;
    case Type::Set:
      append_set_header(out, v.elements.size(), proto);
      break;
    case Type::Push:
      append_push_header(out, v.elements.size(), proto);
      break;
    case Type::Double:
      // The text as the backend sent it ("1.5", "inf", "nan"): re-formatting could change digits.
      if (proto >= 3) {
        out.push_back(',');
        out.append(v.str);
        append_crlf(out);
      } else {
        append_bulk(out, v.str);
      }
      return;
    case Type::Boolean:
      append_bool(out, v.integer != 0, proto);
      return;
    case Type::BigNumber:
      if (proto >= 3) {
        out.push_back('(');
        out.append(v.str);
        append_crlf(out);
      } else {
        append_bulk(out, v.str);
      }
      return;
    case Type::Verbatim:
      append_verbatim(out, v.str, proto, v.format.size() == 3 ? v.format : "txt");
      return;
  }
  // A map's elements are key, value pairs; an odd trailing element would corrupt the stream.
  size_t count = v.type == Type::Map ? v.elements.size() / 2 * 2 : v.elements.size();
  for (size_t i = 0; i < count; ++i) write_value(out, v.elements[i], proto);
}

namespace {

size_t decimal_digits(size_t n) {
  size_t d = 1;
  while (n >= 10) {
    n /= 10;
    ++d;
  }
  return d;
}

char* put_length_line(char* p, char prefix, size_t n) {
  *p++ = prefix;
  p = std::to_chars(p, p + 20, n).ptr;
  *p++ = '\r';
  *p++ = '\n';
  return p;
}

}  // namespace

// Sized once and written in place: the parts of a split command (one per slot, so a hundred
// for an MGET of 100 keys) are built here, and an append per header and bulk cost more than
// the bytes.
void append_command(std::string& out, std::span<const std::string_view> args) {
  size_t size = 3 + decimal_digits(args.size());
  for (std::string_view a : args) size += 5 + decimal_digits(a.size()) + a.size();
  const size_t at = out.size();
  out.resize(at + size);
  char* p = put_length_line(out.data() + at, '*', args.size());
  for (std::string_view a : args) {
    p = put_length_line(p, '$', a.size());
    if (!a.empty()) std::memcpy(p, a.data(), a.size());
    p += a.size();
    *p++ = '\r';
    *p++ = '\n';
  }
}

}  // namespace slotgate::resp
