#include "client/auth.hpp"

#include <fmt/format.h>
#include <openssl/sha.h>

#include <algorithm>

#include "text/glob.hpp"

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

bool key_allowed(const config::UserConfig& user, std::string_view key) {
  return std::any_of(user.keys.begin(), user.keys.end(), [&](const std::string& p) {
    return text::glob_match(p, key, text::Case::Sensitive);
  });
}

bool channel_allowed(const config::UserConfig& user, std::string_view channel, bool is_pattern) {
  return std::any_of(user.channels.begin(), user.channels.end(), [&](const std::string& p) {
    return p == "*" ||
           (is_pattern ? p == channel : text::glob_match(p, channel, text::Case::Sensitive));
  });
}

AuthResult authenticate(const config::ClientsConfig& clients, std::string_view user,
                        std::string_view password) {
  if (user.empty() || user == "default") {
    if (clients.password.empty()) {
      // Redis answers AUTH <pw> this way when the default user has no password.
      if (user.empty() && clients.users.empty()) return {AuthOutcome::NoPasswordConfigured};
      return {AuthOutcome::WrongPass};
    }
    return {password_matches(password, clients.password) ? AuthOutcome::Ok
                                                         : AuthOutcome::WrongPass};
  }
  for (const auto& u : clients.users) {
    if (u.name == user) {
      return {password_matches(password, u.password) ? AuthOutcome::Ok : AuthOutcome::WrongPass,
              &u};
    }
  }
  // Unknown users take as long as known ones.
  (void)password_matches(password, clients.password);
  return {AuthOutcome::WrongPass};
}

}  // namespace slotgate::client
