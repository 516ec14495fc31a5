// Fuzz target: resp::RequestParser, the parser of everything a client sends (RESP
// arrays and inline commands). The input is one connection's bytes. Each is parsed
// twice: whole, and again arriving in small reads (the way a socket delivers it), and
// both must frame the same commands with the same arguments. Small limits make the
// size checks reachable.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "resp/request_parser.hpp"

using slotgate::resp::RequestLimits;
using slotgate::resp::RequestParser;

namespace {

struct Command {
  std::vector<std::string> args;
  bool was_inline;
};

RequestLimits small_limits() {
  RequestLimits l;
  l.max_args = 64;
  l.max_bulk = 4096;
  l.max_inline = 1024;
  return l;
}

// Parses commands out of buf until it is used up or incomplete; returns them and
// whether the stream ended with a protocol error.
std::vector<Command> parse_all(std::string_view buf, bool& error) {
  RequestParser parser(small_limits());
  std::vector<Command> out;
  error = false;
  for (;;) {
    const RequestParser::Status st = parser.parse(buf);
    if (st == RequestParser::Status::Incomplete) return out;
    if (st == RequestParser::Status::Error) {
      FUZZ_CHECK(!parser.error().empty());
      error = true;
      return out;
    }
    FUZZ_CHECK(parser.consumed() > 0 && parser.consumed() <= buf.size());
    FUZZ_CHECK(parser.raw().size() <= parser.consumed());
    // max_args bounds arrays; an inline line is bounded by max_inline alone (as in Redis).
    FUZZ_CHECK(parser.was_inline() ? parser.args().size() <= 1024 : parser.args().size() <= 64);
    Command c{{}, parser.was_inline()};
    for (std::string_view a : parser.args()) c.args.emplace_back(a);
    out.push_back(std::move(c));
    buf.remove_prefix(parser.consumed());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t step = 1 + data[0] % 13;  // read size for the incremental pass
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

  bool whole_error = false;
  const std::vector<Command> whole = parse_all(input, whole_error);

  // Incremental: the buffer grows by `step` bytes per "read"; completed commands are
  // dropped from its front, as a client connection does.
  RequestParser parser(small_limits());
  std::string buf;
  size_t fed = 0;
  size_t next = 0;
  bool error = false;
  while (!error && fed < input.size()) {
    const size_t n = std::min(step, input.size() - fed);
    buf.append(input.substr(fed, n));
    fed += n;
    for (;;) {
      const RequestParser::Status st = parser.parse(buf);
      if (st == RequestParser::Status::Incomplete) break;
      if (st == RequestParser::Status::Error) {
        error = true;
        break;
      }
      FUZZ_CHECK(next < whole.size());
      FUZZ_CHECK(parser.args().size() == whole[next].args.size());
      for (size_t i = 0; i < parser.args().size(); ++i)
        FUZZ_CHECK(parser.args()[i] == whole[next].args[i]);
      FUZZ_CHECK(parser.was_inline() == whole[next].was_inline);
      ++next;
      buf.erase(0, parser.consumed());
    }
  }
  FUZZ_CHECK(error == whole_error);
  FUZZ_CHECK(next == whole.size());
  return 0;
}
