// Redirect: the parsed form of a cluster redirection error, "MOVED <slot> <host>:<port>" or
// "ASK <slot> <host>:<port>".
//
// Why both matter: MOVED means the slot's owner changed for good (update the slot map and
// resend), ASK means only this one command goes to the other node during a migration, and it
// must be preceded by ASKING on the same connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace slotgate::resp {

struct Redirect {
  bool ask;               // false: MOVED
  uint16_t slot;          // 0..16383
  std::string_view host;  // may be empty: Redis 7 sends ":6381" when the endpoint is unknown,
                          // meaning "the host you are already talking to"
  uint16_t port;
};

// Parses the error text after '-' without CRLF. The host is split at the last ':' so IPv6
// addresses (which Redis sends without brackets) work. Returns nullopt for anything else.
std::optional<Redirect> parse_redirect(std::string_view error_text);

}  // namespace slotgate::resp
