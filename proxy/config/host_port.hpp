// config::HostPort: a "host:port" address as written in the configuration
// (listen, announce, seeds, admin). The host stays a string: seeds may be DNS
// names (a headless Service) that are resolved, and re-resolved, later.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace slotgate::config {

struct HostPort {
  std::string host;
  uint16_t port = 0;

  // "host:port", or "[v6]:port" when the host contains a colon.
  std::string to_string() const;
  bool operator==(const HostPort&) const = default;
};

// Parses HOST:PORT (also [v6]:port). Error text names the problem.
std::variant<HostPort, std::string> parse_host_port(std::string_view text);

}  // namespace slotgate::config
