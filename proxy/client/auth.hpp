// client::Authenticator: checks the credentials clients present to slotgate
// (AUTH pw, AUTH user pw, HELLO … AUTH user pw) against the configured default
// password and named users. Comparison takes the same time whatever the input,
// so response timing does not reveal how much of a password was right: both
// sides are hashed with SHA-256 and the fixed-size digests compared without an
// early exit, so neither the position of a difference nor the secret's length
// shows. Named users are Redis ACL users (client/acl_user.hpp): on/off, nopass,
// several password hashes. Also: how user-supplied names are written to the log.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "client/acl_user.hpp"
#include "config/config.hpp"

namespace slotgate::client {

enum class AuthOutcome { Ok, WrongPass, NoPasswordConfigured };

struct AuthResult {
  AuthOutcome outcome;
  const config::UserConfig* user = nullptr;  // null = the default user
  std::shared_ptr<const AclUser> acl;        // the named user's permissions (Ok only)
};

// True when clients must authenticate before running commands.
bool auth_required(const config::ClientsConfig& clients);
// `user` empty or "default" means the default user.
AuthResult authenticate(const config::ClientsConfig& clients, std::string_view user,
                        std::string_view password);
// SHA-256 of both, compared in constant time.
bool password_matches(std::string_view given, std::string_view expected);
// True when `password` is one of the user's (or the user is nopass); every stored hash is
// compared, in constant time.
bool acl_password_matches(const AclUser& user, std::string_view password);
// The log form of a name a client chose: printable ASCII as is, everything else (newlines,
// control characters, quotes, backslashes) as \xNN, so it cannot forge or split log lines.
std::string log_escaped(std::string_view text, size_t max_len = 64);
}  // namespace slotgate::client
