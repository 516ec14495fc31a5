// parse_value: one complete RESP2/RESP3 reply frame -> resp::Value.
//
// For the few replies the proxy must look inside (merging split replies, INFO,
// topology over RESP3). Forwarded replies are never parsed. Attributes ('|')
// are read and dropped: Value has no place for them, and Redis 7.0 only sends
// them for client-side-caching debug output.
#pragma once

#include <optional>
#include <string_view>

#include "resp/value.hpp"

namespace slotgate::resp {

// `frame` must hold exactly one complete frame (e.g. the bytes FrameScanner framed); returns
// nullopt if it is malformed, incomplete, nested deeper than 128 levels, or has trailing bytes.
std::optional<Value> parse_value(std::string_view frame);

}  // namespace slotgate::resp
