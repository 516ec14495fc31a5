#include "config/units.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <limits>
#include <utility>

#include "text/ascii.hpp"

namespace slotgate::config {
namespace {

struct Unit {
  std::string_view name;
  uint64_t factor;
};

// Time units in milliseconds.
constexpr std::array<Unit, 4> kDurationUnits{
    {{"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}}};

// Why both kb and k: Redis' own config reads "1k" as 1000 bytes and "1kb" as
// 1024; users copy values from redis.conf, so the same spelling means the same here.
constexpr std::array<Unit, 7> kSizeUnits{{{"b", 1},
                                          {"k", 1000},
                                          {"kb", 1024},
                                          {"m", 1000 * 1000},
                                          {"mb", 1024 * 1024},
                                          {"g", 1000 * 1000 * 1000},
                                          {"gb", 1024ULL * 1024 * 1024}}};

using text::lower;

// Splits "512 MB" into the number and the lower-cased unit; the number must be a
// non-negative integer. Returns false when the text has no leading digits.
bool split_number(std::string_view text, uint64_t& number, std::string& unit, bool& overflow) {
  overflow = false;
  size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  if (i == 0) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + i, number);
  if (ec == std::errc::result_out_of_range) overflow = true;
  (void)end;
  size_t j = i;
  while (j < text.size() && text[j] == ' ') ++j;
  unit = lower(text.substr(j));
  return true;
}

template <size_t N>
const Unit* find_unit(const std::array<Unit, N>& units, std::string_view name) {
  for (const Unit& u : units) {
    if (u.name == name) return &u;
  }
  return nullptr;
}

bool checked_multiply(uint64_t a, uint64_t b, uint64_t& out) {
  if (a != 0 && b > std::numeric_limits<uint64_t>::max() / a) return false;
  out = a * b;
  return true;
}

}  // namespace

std::variant<std::chrono::milliseconds, std::string> parse_duration(std::string_view text) {
  const std::string bad =
      "invalid duration '" + std::string(text) + "' (use e.g. 250ms, 20s, 5m, 1h)";
  uint64_t n = 0;
  std::string unit;
  bool overflow = false;
  if (!split_number(text, n, unit, overflow)) return bad;
  if (overflow) return "duration '" + std::string(text) + "' is too large";
  // A plain number is seconds: that is what "timeout 30" means in redis.conf.
  const Unit* u = unit.empty() ? &kDurationUnits[1] : find_unit(kDurationUnits, unit);
  if (u == nullptr) return bad;
  uint64_t ms = 0;
  // Cap at ~29 years so the value fits every clock arithmetic later on.
  if (!checked_multiply(n, u->factor, ms) || ms > (1ULL << 50))
    return "duration '" + std::string(text) + "' is too large";
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

std::variant<uint64_t, std::string> parse_size(std::string_view text) {
  const std::string bad =
      "invalid size '" + std::string(text) + "' (use e.g. 100b, 64kb, 512mb, 1gb)";
  uint64_t n = 0;
  std::string unit;
  bool overflow = false;
  if (!split_number(text, n, unit, overflow)) return bad;
  if (overflow) return "size '" + std::string(text) + "' is too large";
  const Unit* u = unit.empty() ? &kSizeUnits[0] : find_unit(kSizeUnits, unit);
  if (u == nullptr) return bad;
  uint64_t bytes = 0;
  if (!checked_multiply(n, u->factor, bytes))
    return "size '" + std::string(text) + "' is too large";
  return bytes;
}

std::string format_duration(std::chrono::milliseconds d) {
  const auto ms = static_cast<uint64_t>(d.count() < 0 ? 0 : d.count());
  if (ms == 0) return "0s";
  for (size_t i = kDurationUnits.size(); i-- > 0;) {
    if (ms % kDurationUnits[i].factor == 0)
      return std::to_string(ms / kDurationUnits[i].factor) + std::string(kDurationUnits[i].name);
  }
  return std::to_string(ms) + "ms";
}

std::string format_size(uint64_t bytes) {
  if (bytes == 0) return "0b";
  // Only the binary units: they are the ones our own defaults use.
  for (const auto& [name, factor] :
       {std::pair<std::string_view, uint64_t>{"gb", 1024ULL * 1024 * 1024},
        {"mb", 1024 * 1024},
        {"kb", 1024}}) {
    if (bytes % factor == 0) return std::to_string(bytes / factor) + std::string(name);
  }
  return std::to_string(bytes) + "b";
}

}  // namespace slotgate::config
