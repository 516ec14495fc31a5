// Strict decimal integer parsing for RESP length and integer fields.
//
// Mirrors Redis's string2ll(): an optional '-', then either a single "0" or a
// digit 1-9 followed by digits, nothing else (no '+', no spaces, no leading
// zeros, no "-0"), and no overflow. Redis applies exactly these rules to
// "*<n>" and "$<n>" lines, so a proxy that is more lenient would forward
// frames the backend then rejects, and a stricter one would refuse commands
// Redis accepts.
#pragma once

#include <optional>
#include <string_view>

namespace slotgate::resp {

inline std::optional<long long> parse_integer(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  if (s.size() == 1 && s[0] == '0') return 0;
  bool negative = false;
  size_t i = 0;
  if (s[0] == '-') {
    negative = true;
    i = 1;
    if (i == s.size()) return std::nullopt;
  }
  if (s[i] < '1' || s[i] > '9') return std::nullopt;
  // Accumulate as unsigned so LLONG_MIN is representable before negation.
  unsigned long long v = 0;
  constexpr unsigned long long kMax = 9223372036854775807ull;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c < '0' || c > '9') return std::nullopt;
    unsigned digit = static_cast<unsigned>(c - '0');
    if (v > (kMax + 1 - digit) / 10) return std::nullopt;
    v = v * 10 + digit;
  }
  if (negative) {
    if (v > kMax + 1) return std::nullopt;
    return v == kMax + 1 ? static_cast<long long>(-9223372036854775807ll - 1)
                         : -static_cast<long long>(v);
  }
  if (v > kMax) return std::nullopt;
  return static_cast<long long>(v);
}

// The digits of a short RESP length at buf[from], read in one pass for the parsers' fast paths:
// at most max_digits of them, and a leading "0" only alone (as parse_integer accepts). Sets
// value and returns the index just past the digits; npos when no digit starts there. Callers
// check what follows (CR) and fall back to the general path on anything unexpected.
inline size_t short_decimal(std::string_view buf, size_t from, size_t max_digits, size_t& value) {
  const size_t limit = buf.size() < from + max_digits ? buf.size() : from + max_digits;
  if (from >= limit || buf[from] < '0' || buf[from] > '9') return std::string_view::npos;
  size_t i = from;
  size_t v = static_cast<size_t>(buf[i++] - '0');
  if (v != 0) {
    while (i < limit && buf[i] >= '0' && buf[i] <= '9')
      v = v * 10 + static_cast<size_t>(buf[i++] - '0');
  }
  value = v;
  return i;
}

}  // namespace slotgate::resp
