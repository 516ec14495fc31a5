#include "client/auth.hpp"

#include <fmt/format.h>
#include <openssl/sha.h>

#include <algorithm>

#include "config/password_hash.hpp"

namespace slotgate::client {

bool auth_required(const config::ClientsConfig& clients) {
  return !clients.password.empty() || !clients.users.empty();
}

namespace {
using Digest = std::array<unsigned char, SHA256_DIGEST_LENGTH>;

Digest sha256(std::string_view text) {
  Digest d{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), d.data());
  return d;
}
}  // namespace

bool password_matches(std::string_view given, std::string_view expected) {
  // Comparing digests instead of the texts: the loop always runs over 32 bytes and never
  // stops early, so neither where the texts differ nor the secret's length is timed.
  const Digest a = sha256(given), b = sha256(expected);
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string log_escaped(std::string_view text, size_t max_len) {
  std::string out;
  out.reserve(std::min(text.size(), max_len) + 8);
  for (size_t i = 0; i < text.size() && i < max_len; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'' && c != '"') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  if (text.size() > max_len) out += "...";
  return out;
}

bool acl_password_matches(const AclUser& user, std::string_view password) {
  const std::string given = config::sha256_hex(password);
  bool found = false;
  for (const std::string& h : user.password_hashes) {
    unsigned char diff = h.size() == given.size() ? 0 : 1;
    for (size_t i = 0; i < given.size() && i < h.size(); ++i) {
      diff |= static_cast<unsigned char>(given[i] ^ h[i]);
    }
    found = found || diff == 0;
  }
  return user.nopass || found;
}

AuthResult authenticate(const config::ClientsConfig& clients, std::string_view user,
                        std::string_view password) {
  if (user.empty() || user == "default") {
    if (clients.password.empty()) {
      // Redis answers AUTH <pw> this way when the default user has no password.
      if (user.empty() && clients.users.empty())
        return {AuthOutcome::NoPasswordConfigured, nullptr, {}};
      return {AuthOutcome::WrongPass, nullptr, {}};
    }
    return {password_matches(password, clients.password) ? AuthOutcome::Ok : AuthOutcome::WrongPass,
            nullptr,
            {}};
  }
  for (const auto& u : clients.users) {
    if (u.name != user) continue;
    AclBuild built = build_acl_user(u);  // checked when the configuration was loaded
    if (!built.user || !acl_password_matches(*built.user, password) || !built.user->enabled) {
      return {AuthOutcome::WrongPass, &u, {}};
    }
    return {AuthOutcome::Ok, &u, std::make_shared<const AclUser>(std::move(*built.user))};
  }
  // Unknown users take as long as known ones.
  (void)password_matches(password, clients.password);
  return {AuthOutcome::WrongPass, nullptr, {}};
}

}  // namespace slotgate::client
