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

}  // namespace slotgate::resp
