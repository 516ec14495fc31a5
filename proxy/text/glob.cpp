#include "text/glob.hpp"

#include <algorithm>

#include "text/ascii.hpp"

namespace slotgate::text {

bool glob_match(std::string_view p, std::string_view s, Case c) {
  const bool nocase = c == Case::Insensitive;
  auto fold = [nocase](char ch) { return nocase ? to_lower(ch) : ch; };
  auto same = [&](char a, char b) { return fold(a) == fold(b); };
  size_t pi = 0, si = 0, star_p = std::string_view::npos, star_s = 0;
  while (si < s.size()) {
    if (pi < p.size()) {
      const char pc = p[pi];
      if (pc == '*') {
        star_p = pi++;
        star_s = si;
        continue;
      }
      if (pc == '?') {
        ++pi;
        ++si;
        continue;
      }
      if (pc == '[') {
        size_t j = pi + 1;
        const bool negate = j < p.size() && p[j] == '^';
        if (negate) ++j;
        bool matched = false;
        const char sc = fold(s[si]);
        while (j < p.size() && p[j] != ']') {
          if (p[j] == '\\' && j + 1 < p.size()) {
            if (same(p[j + 1], s[si])) matched = true;
            j += 2;
          } else if (j + 2 < p.size() && p[j + 1] == '-' && p[j + 2] != ']') {
            char lo = fold(p[j]), hi = fold(p[j + 2]);
            if (lo > hi) std::swap(lo, hi);
            if (sc >= lo && sc <= hi) matched = true;
            j += 3;
          } else {
            if (same(p[j], s[si])) matched = true;
            ++j;
          }
        }
        if (j < p.size() && matched != negate) {
          pi = j + 1;
          ++si;
          continue;
        }
      } else if (pc == '\\' && pi + 1 < p.size()) {
        if (same(p[pi + 1], s[si])) {
          pi += 2;
          ++si;
          continue;
        }
      } else if (same(pc, s[si])) {
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

}  // namespace slotgate::text
