// Helpers shared by the commands unit tests: turn "CMD a b" into argument views.
#pragma once

#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace slotgate::commands::testing {

// Owns the words of a command line and exposes them as string_views, like a parsed request.
struct Args {
  std::vector<std::string> words;
  std::vector<std::string_view> views;

  explicit Args(const std::string& line) {
    std::istringstream in(line);
    for (std::string w; in >> w;) words.push_back(w == "\"\"" ? std::string() : w);
    for (const std::string& w : words) views.emplace_back(w);
  }
};

}  // namespace slotgate::commands::testing
