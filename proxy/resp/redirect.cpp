// parse_redirect: MOVED / ASK error text -> Redirect.
#include "resp/redirect.hpp"

#include <charconv>

namespace slotgate::resp {

namespace {

// Unsigned decimal, digits only, within [0, max].
std::optional<unsigned> parse_unsigned(std::string_view s, unsigned max) {
  if (s.empty() || s.size() > 5) return std::nullopt;
  unsigned v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || v > max) return std::nullopt;
  return v;
}

}  // namespace

std::optional<Redirect> parse_redirect(std::string_view text) {
  Redirect r{};
  if (text.starts_with("MOVED ")) {
    r.ask = false;
    text.remove_prefix(6);
  } else if (text.starts_with("ASK ")) {
    r.ask = true;
    text.remove_prefix(4);
  } else {
    return std::nullopt;
  }
  size_t space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  auto slot = parse_unsigned(text.substr(0, space), 16383);
  if (!slot) return std::nullopt;
  std::string_view endpoint = text.substr(space + 1);
  size_t colon = endpoint.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto port = parse_unsigned(endpoint.substr(colon + 1), 65535);
  if (!port || *port == 0) return std::nullopt;
  r.host = endpoint.substr(0, colon);
  if (r.host.find_first_of(" \r\n") != std::string_view::npos) return std::nullopt;
  r.slot = static_cast<uint16_t>(*slot);
  r.port = static_cast<uint16_t>(*port);
  return r;
}

}  // namespace slotgate::resp
