// config units: durations ("250ms", "20s", "5m", "1h", "0", plain integers are
// seconds) and sizes ("512mb", "64kb", "100b", plain integers are bytes), both
// ways: parsing what a user wrote and printing a value the way a user writes it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace slotgate::config {

std::variant<std::chrono::milliseconds, std::string> parse_duration(std::string_view text);
std::variant<uint64_t, std::string> parse_size(std::string_view text);

// The shortest exact spelling: 20000ms -> "20s", 1500ms -> "1500ms", 0 -> "0s".
std::string format_duration(std::chrono::milliseconds d);
// 536870912 -> "512mb", 1000 -> "1000b".
std::string format_size(uint64_t bytes);

}  // namespace slotgate::config
