#include "config/host_port.hpp"

#include <charconv>

namespace slotgate::config {

std::string HostPort::to_string() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

std::variant<HostPort, std::string> parse_host_port(std::string_view text) {
  const std::string quoted = "'" + std::string(text) + "'";
  if (text.empty()) return std::string("empty address (use HOST:PORT, e.g. 127.0.0.1:6379)");
  std::string_view host;
  std::string_view port_text;
  if (text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return "unclosed '[' in address " + quoted;
    host = text.substr(1, close - 1);
    if (close + 1 >= text.size() || text[close + 1] != ':')
      return "missing port in address " + quoted + " (use [v6]:PORT)";
    port_text = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos)
      return "missing port in address " + quoted + " (use HOST:PORT)";
    host = text.substr(0, colon);
    // A bare IPv6 address has several colons and is ambiguous without brackets.
    if (host.find(':') != std::string_view::npos)
      return "IPv6 address " + quoted + " must be written as [v6]:PORT";
    port_text = text.substr(colon + 1);
  }
  if (host.empty()) return "missing host in address " + quoted;
  for (char c : host) {
    if (c == ' ' || c == '\t' || c == '/' || c == '[' || c == ']')
      return "invalid character in host of address " + quoted;
  }
  if (port_text.empty()) return "missing port in address " + quoted;
  unsigned port = 0;
  const auto [end, ec] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size())
    return "port '" + std::string(port_text) + "' in address " + quoted + " is not a number";
  if (port == 0 || port > 65535)
    return "port " + std::string(port_text) + " in address " + quoted + " is out of range 1-65535";
  return HostPort{std::string(host), static_cast<uint16_t>(port)};
}

}  // namespace slotgate::config
