// Fuzz target: resp::parse_redirect, which reads "MOVED <slot> <host>:<port>" and
// "ASK ..." out of an error reply's text. Any text a script could produce arrives here.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "resp/redirect.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto r = slotgate::resp::parse_redirect(text);
  if (r) {
    FUZZ_CHECK(r->slot < 16384);
    FUZZ_CHECK(r->host.empty() || (r->host.data() >= text.data() &&
                                   r->host.data() + r->host.size() <= text.data() + size));
  }
  return 0;
}
