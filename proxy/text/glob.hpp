// text/glob: Redis's glob patterns (stringmatchlen): * ? [abc] [^a-z] and \ escapes.
// Redis matches with or without case depending on the caller, and so do we: ACL key
// and channel patterns are case-sensitive, COMMAND LIST FILTERBY PATTERN is not.
#pragma once

#include <string_view>

namespace slotgate::text {

enum class Case { Sensitive, Insensitive };

// Backtracks to the last '*' only, so a pattern a client sends costs O(pattern x text)
// at worst, never exponential time.
bool glob_match(std::string_view pattern, std::string_view text, Case c);

}  // namespace slotgate::text
