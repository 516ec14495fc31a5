#include "client/auth.hpp"

#include <algorithm>

namespace slotgate::client {

bool auth_required(const config::ClientsConfig& clients) {
  return !clients.password.empty() || !clients.users.empty();
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Compare over the longer length so the time does not depend on where they differ
  // or on the length of the secret.
  size_t n = std::max(a.size(), b.size());
  unsigned char diff = static_cast<unsigned char>(a.size() != b.size());
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

AuthResult authenticate(const config::ClientsConfig& clients, std::string_view user,
                        std::string_view password) {
  if (user.empty() || user == "default") {
    if (clients.password.empty()) {
      // Redis answers AUTH <pw> this way when the default user has no password.
      if (user.empty() && clients.users.empty()) return {AuthOutcome::NoPasswordConfigured};
      return {AuthOutcome::WrongPass};
    }
    return {constant_time_equal(password, clients.password) ? AuthOutcome::Ok
                                                            : AuthOutcome::WrongPass};
  }
  for (const auto& u : clients.users) {
    if (u.name == user) {
      return {constant_time_equal(password, u.password) ? AuthOutcome::Ok : AuthOutcome::WrongPass,
              &u};
    }
  }
  // Unknown users take as long as known ones.
  (void)constant_time_equal(password, clients.password);
  return {AuthOutcome::WrongPass};
}

bool glob_match(std::string_view p, std::string_view s) {
  size_t pi = 0, si = 0, star_p = std::string_view::npos, star_s = 0;
  while (si < s.size()) {
    if (pi < p.size()) {
      char c = p[pi];
      if (c == '*') {
        star_p = pi++;
        star_s = si;
        continue;
      }
      if (c == '?') {
        ++pi;
        ++si;
        continue;
      }
      if (c == '[') {
        size_t j = pi + 1;
        bool negate = j < p.size() && p[j] == '^';
        if (negate) ++j;
        bool matched = false;
        while (j < p.size() && p[j] != ']') {
          if (p[j] == '\\' && j + 1 < p.size()) {
            if (p[j + 1] == s[si]) matched = true;
            j += 2;
          } else if (j + 2 < p.size() && p[j + 1] == '-' && p[j + 2] != ']') {
            char lo = std::min(p[j], p[j + 2]), hi = std::max(p[j], p[j + 2]);
            if (s[si] >= lo && s[si] <= hi) matched = true;
            j += 3;
          } else {
            if (p[j] == s[si]) matched = true;
            ++j;
          }
        }
        if (j < p.size() && matched != negate) {
          pi = j + 1;
          ++si;
          continue;
        }
      } else if (c == '\\' && pi + 1 < p.size()) {
        if (p[pi + 1] == s[si]) {
          pi += 2;
          ++si;
          continue;
        }
      } else if (c == s[si]) {
        ++pi;
        ++si;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    pi = star_p + 1;
    si = ++star_s;
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

}  // namespace slotgate::client
