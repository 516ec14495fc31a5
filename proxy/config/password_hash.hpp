// The one hash of user passwords (SHA-256, 64 lower-case hex digits): configured passwords are
// kept only in this form, and Redis ACL's "#<hash>" rules use it.
#pragma once

#include <string>
#include <string_view>

namespace slotgate::config {

std::string sha256_hex(std::string_view text);

}  // namespace slotgate::config
