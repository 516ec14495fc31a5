// client::Authenticator: checks the credentials clients present to slotgate
// (AUTH pw, AUTH user pw, HELLO … AUTH user pw) against the configured default
// password and named users. Comparison takes the same time whatever the input,
// so response timing does not reveal how much of a password was right.
#pragma once

#include <optional>
#include <string_view>

#include "config/config.hpp"

namespace slotgate::client {

enum class AuthOutcome { Ok, WrongPass, NoPasswordConfigured };

struct AuthResult {
  AuthOutcome outcome;
  const config::UserConfig* user = nullptr;  // null = the default user
};

// True when clients must authenticate before running commands.
bool auth_required(const config::ClientsConfig& clients);
// `user` empty or "default" means the default user.
AuthResult authenticate(const config::ClientsConfig& clients, std::string_view user,
                        std::string_view password);
bool constant_time_equal(std::string_view a, std::string_view b);
// Redis-style glob match (*, ?, [abc], [^a-z], \x), used for per-user key patterns.
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace slotgate::client
