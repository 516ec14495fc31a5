// Fuzz target: resp::FrameScanner, which frames every reply a backend (or anything
// that answers on a backend's address) sends. The input is a reply stream; it is
// scanned whole and again in small reads, and both must find the same frames. Every
// frame the scanner accepts is also given to parse_value (the topology and merge
// paths parse what the scanner framed).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "resp/frame_scanner.hpp"
#include "resp/redirect.hpp"
#include "resp/value_parser.hpp"

using slotgate::resp::FrameScanner;

namespace {

std::vector<size_t> scan_all(std::string_view buf, bool& error) {
  FrameScanner scanner;
  std::vector<size_t> lengths;
  error = false;
  for (;;) {
    const FrameScanner::Status st = scanner.scan(buf);
    if (st == FrameScanner::Status::Incomplete) return lengths;
    if (st == FrameScanner::Status::Error) {
      error = true;
      return lengths;
    }
    const size_t len = scanner.frame_length();
    FUZZ_CHECK(len > 0 && len <= buf.size());
    if (scanner.is_error()) {
      const std::string_view text = scanner.error_text();
      FUZZ_CHECK(text.data() >= buf.data() && text.data() + text.size() <= buf.data() + len);
      (void)slotgate::resp::parse_redirect(text);
    }
    (void)slotgate::resp::parse_value(buf.substr(0, len));
    lengths.push_back(len);
    buf.remove_prefix(len);
    scanner.reset();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t step = 1 + data[0] % 17;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  bool whole_error = false;
  const std::vector<size_t> whole = scan_all(input, whole_error);

  FrameScanner scanner;
  std::string buf;
  size_t fed = 0, next = 0;
  bool error = false;
  while (!error && fed < input.size()) {
    const size_t n = std::min(step, input.size() - fed);
    buf.append(input.substr(fed, n));
    fed += n;
    for (;;) {
      const FrameScanner::Status st = scanner.scan(buf);
      if (st == FrameScanner::Status::Incomplete) break;
      if (st == FrameScanner::Status::Error) {
        error = true;
        break;
      }
      FUZZ_CHECK(next < whole.size() && scanner.frame_length() == whole[next]);
      ++next;
      buf.erase(0, scanner.frame_length());
    }
  }
  FUZZ_CHECK(error == whole_error);
  FUZZ_CHECK(next == whole.size());
  return 0;
}
