// Fuzz target: resp::parse_value, which turns one reply frame into a Value (topology
// replies, merged replies, INFO). Must never crash, whatever the frame.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "resp/value_parser.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)slotgate::resp::parse_value(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
