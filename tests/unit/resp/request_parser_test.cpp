// RequestParser: how client commands are framed, as a Redis user would see it.
#include <catch2/catch.hpp>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "resp/request_parser.hpp"

using slotgate::resp::RequestLimits;
using slotgate::resp::RequestParser;
using Status = RequestParser::Status;
using Command = std::vector<std::string>;

namespace {

struct Outcome {
  std::vector<Command> commands;
  std::vector<std::string> raws;
  std::vector<bool> inline_flags;
  std::string error;
  std::string leftover;
};

// Feeds `chunks` one after another into a growing std::string (which reallocates and moves),
// taking out every complete command like a client session would.
Outcome feed(RequestParser& p, const std::vector<std::string>& chunks) {
  Outcome out;
  std::string buf;
  for (const std::string& chunk : chunks) {
    buf += chunk;
    for (;;) {
      Status s = p.parse(buf);
      if (s == Status::Error) {
        out.error = p.error();
        return out;
      }
      if (s == Status::Incomplete) break;
      Command c;
      for (auto a : p.args()) c.emplace_back(a);
      out.commands.push_back(c);
      out.raws.emplace_back(p.raw());
      out.inline_flags.push_back(p.was_inline());
      buf.erase(0, p.consumed());
    }
  }
  out.leftover = buf;
  return out;
}

Outcome feed_whole(const std::string& bytes, RequestLimits limits = {}) {
  RequestParser p(limits);
  return feed(p, {bytes});
}

std::vector<std::string> bytes_one_by_one(const std::string& s) {
  std::vector<std::string> v;
  for (char c : s) v.emplace_back(1, c);
  return v;
}

std::string first_error(const std::string& bytes, RequestLimits limits = {}) {
  return feed_whole(bytes, limits).error;
}

const std::string kPipeline =
    "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nva\r\nl\r\n"  // binary-safe: CRLF inside a bulk
    "*0\r\n"
    "GET key\r\n"
    "*-1\r\n"
    "\r\n"
    "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n"  // an empty bulk is an argument
    "set k \"a b\\x41\\n\" 'it\\'s'\n"
    "*1\r\n$4\r\nPING\r\n";

const std::vector<Command> kPipelineCommands = {
    {"SET", "key", "va\r\nl"},      {"GET", "key"}, {"ECHO", ""},
    {"set", "k", "a bA\n", "it's"}, {"PING"},
};

}  // namespace

TEST_CASE("a RESP array of bulk strings is one command with zero-copy arguments") {
  RequestParser p;
  std::string buf = "*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n*1\r\n";
  REQUIRE(p.parse(buf) == Status::Complete);
  REQUIRE(p.args().size() == 2);
  CHECK(p.args()[0] == "GET");
  CHECK(p.args()[1] == "foo");
  CHECK(p.args()[1].data() == buf.data() + 17);  // a view into the buffer, not a copy
  CHECK(p.consumed() == 22);
  CHECK(p.raw() == "*2\r\n$3\r\nGET\r\n$3\r\nfoo\r\n");
  CHECK_FALSE(p.was_inline());
  // The next call starts at the next command.
  CHECK(p.parse(std::string_view(buf).substr(22)) == Status::Incomplete);
}

TEST_CASE("a pipeline in one read yields every command in order") {
  auto out = feed_whole(kPipeline);
  CHECK(out.error.empty());
  CHECK(out.commands == kPipelineCommands);
  CHECK(out.leftover.empty());
  CHECK(out.inline_flags == std::vector<bool>{false, true, false, true, false});
}

TEST_CASE("a pipeline fed one byte at a time gives the same commands") {
  RequestParser p;
  auto out = feed(p, bytes_one_by_one(kPipeline));
  CHECK(out.error.empty());
  CHECK(out.commands == kPipelineCommands);
  CHECK(out.leftover.empty());
}

TEST_CASE("a pipeline split at every byte position gives the same commands") {
  for (size_t cut = 0; cut <= kPipeline.size(); ++cut) {
    RequestParser p;
    auto out = feed(p, {kPipeline.substr(0, cut), kPipeline.substr(cut)});
    INFO("cut at " << cut);
    CHECK(out.error.empty());
    CHECK(out.commands == kPipelineCommands);
    CHECK(out.leftover.empty());
  }
}

TEST_CASE("raw() is the command's exact bytes, without skipped no-op frames") {
  auto out = feed_whole("*0\r\n*-1\r\n\r\n*1\r\n$4\r\nPING\r\n");
  REQUIRE(out.commands == std::vector<Command>{{"PING"}});
  CHECK(out.raws[0] == "*1\r\n$4\r\nPING\r\n");
  CHECK(out.leftover.empty());
}

TEST_CASE("*0, *-1 and empty lines alone are consumed by the next command, never returned") {
  RequestParser p;
  std::string buf = "*0\r\n*-1\r\n\r\n\n   \r\n";
  CHECK(p.parse(buf) == Status::Incomplete);
  buf += "PING\r\n";
  REQUIRE(p.parse(buf) == Status::Complete);
  CHECK(p.consumed() == buf.size());
  CHECK(p.raw() == "PING\r\n");
}

TEST_CASE("inline commands follow redis-cli / sdssplitargs quoting") {
  auto one = [](const std::string& line) {
    auto out = feed_whole(line);
    INFO(line);
    REQUIRE(out.error.empty());
    REQUIRE(out.commands.size() == 1);
    return out.commands[0];
  };
  CHECK(one("SET k v\r\n") == Command{"SET", "k", "v"});
  CHECK(one("SET k v\n") == Command{"SET", "k", "v"});
  CHECK(one("  GET \t k   \r\n") == Command{"GET", "k"});
  CHECK(one("SET k \"hello world\"\r\n") == Command{"SET", "k", "hello world"});
  CHECK(one("ECHO \"\\n\\r\\t\\b\\a\\\\\\\"\\q\"\r\n") == Command{"ECHO", "\n\r\t\b\a\\\"q"});
  CHECK(one("ECHO \"\\x41\\x7a\\xZZ\\x4\"\r\n") == Command{"ECHO", "AzxZZx4"});
  CHECK(one("ECHO \"\\x00\"\r\n") == Command{"ECHO", std::string(1, '\0')});
  CHECK(one("ECHO 'it\\'s' 'a\\nb'\r\n") == Command{"ECHO", "it's", "a\\nb"});
  CHECK(one("ECHO a\"b c\"\r\n") == Command{"ECHO", "ab c"});
  CHECK(one("ECHO \"a\"\tb\r\n") == Command{"ECHO", "a", "b"});
  // Redis drops empty arguments of inline commands.
  CHECK(one("SET k \"\" ''\r\n") == Command{"SET", "k"});
  // The line is a C string to Redis: a NUL byte ends it.
  CHECK(one(std::string("GET k\0junk\r\n", 12)) == Command{"GET", "k"});
}

TEST_CASE("inline arguments without quotes are views into the buffer") {
  RequestParser p;
  std::string buf = "GET \"k k\" plain\r\n";
  REQUIRE(p.parse(buf) == Status::Complete);
  REQUIRE(p.args().size() == 3);
  CHECK(p.args()[0].data() == buf.data());
  CHECK(p.args()[2].data() == buf.data() + 10);
  CHECK(p.args()[1] == "k k");
  CHECK(p.was_inline());
}

TEST_CASE("unbalanced quotes in inline commands get Redis's error") {
  const std::string text = "Protocol error: unbalanced quotes in request";
  CHECK(first_error("SET k \"abc\r\n") == text);
  CHECK(first_error("SET k 'abc\r\n") == text);
  CHECK(first_error("SET k \"a\"b\r\n") == text);
  CHECK(first_error("SET k 'a'b\r\n") == text);
  CHECK(first_error("SET k \"abc\\\"\r\n") == text);
}

TEST_CASE("limit violations get Redis's exact error texts") {
  SECTION("multibulk count") {
    CHECK(first_error("*1048577\r\n") == "Protocol error: invalid multibulk length");
    CHECK(feed_whole("*1048576\r\n").error.empty());
    CHECK(first_error("*abc\r\n") == "Protocol error: invalid multibulk length");
    CHECK(first_error("*+1\r\n") == "Protocol error: invalid multibulk length");
    CHECK(first_error("*01\r\n") == "Protocol error: invalid multibulk length");
    CHECK(first_error("*\r\n") == "Protocol error: invalid multibulk length");
    CHECK(first_error("*3\r\n", {.max_args = 2}) == "Protocol error: invalid multibulk length");
  }
  SECTION("bulk length") {
    CHECK(first_error("*1\r\n$-1\r\n") == "Protocol error: invalid bulk length");
    CHECK(first_error("*1\r\n$x\r\n") == "Protocol error: invalid bulk length");
    CHECK(first_error("*1\r\n$536870913\r\n") == "Protocol error: invalid bulk length");
    CHECK(feed_whole("*1\r\n$536870912\r\n").error.empty());
    CHECK(first_error("*1\r\n$5\r\n", {.max_bulk = 4}) == "Protocol error: invalid bulk length");
  }
  SECTION("element that is not a bulk string") {
    CHECK(first_error("*1\r\n:1\r\n") == "Protocol error: expected '$', got ':'");
    CHECK(first_error("*2\r\n$3\r\nGET\r\nfoo\r\n") == "Protocol error: expected '$', got 'f'");
    CHECK(first_error("*1\r\n\r\n") == "Protocol error: expected '$', got ' '");
  }
  SECTION("over-long lines without a terminator") {
    RequestLimits small{.max_inline = 16};
    CHECK(feed_whole(std::string(16, 'a'), small).error.empty());
    CHECK(first_error(std::string(17, 'a'), small) == "Protocol error: too big inline request");
    CHECK(first_error(std::string(20, 'a') + "\r\n", small) ==
          "Protocol error: too big inline request");
    CHECK(first_error("*" + std::string(16, '1'), small) ==
          "Protocol error: too big mbulk count string");
    CHECK(first_error("*1\r\n$" + std::string(16, '1'), small) ==
          "Protocol error: too big bulk count string");
    // Like Redis, the length cap is checked before the '$' prefix.
    CHECK(first_error("*1\r\n" + std::string(17, 'X'), small) ==
          "Protocol error: too big bulk count string");
  }
  SECTION("default inline limit is 64 KiB") {
    CHECK(feed_whole(std::string(64 * 1024, 'a')).error.empty());
    CHECK(first_error(std::string(64 * 1024 + 1, 'a')) == "Protocol error: too big inline request");
  }
}

TEST_CASE("a protocol error is sticky until reset()") {
  RequestParser p;
  REQUIRE(p.parse("*x\r\n") == Status::Error);
  CHECK(p.parse("PING\r\n") == Status::Error);
  p.reset();
  CHECK(p.parse("PING\r\n") == Status::Complete);
  CHECK(p.error().empty());
}

TEST_CASE("a huge bulk arriving in pieces is not re-read from the start") {
  // After the headers are parsed the parser only compares lengths. We prove it by overwriting
  // every byte it has already seen with garbage before each call: a parser that re-scanned from
  // the start would fail; one that resumes from its offsets completes normally.
  const size_t payload = 8 << 20;
  const std::string header = "*2\r\n$3\r\nSET\r\n$" + std::to_string(payload) + "\r\n";
  std::string buf;
  RequestParser p;
  buf += header;
  REQUIRE(p.parse(buf) == Status::Incomplete);
  size_t sent = 0;
  const size_t piece = 64 * 1024;
  while (sent < payload) {
    size_t n = std::min(piece, payload - sent);
    std::fill(buf.begin(), buf.end(), '\r');  // poison what was examined already
    buf.append(n, 'v');
    sent += n;
    REQUIRE(p.parse(buf) == Status::Incomplete);
  }
  buf += "\r\n";
  REQUIRE(p.parse(buf) == Status::Complete);
  REQUIRE(p.args().size() == 2);
  CHECK(p.args()[1].size() == payload);
  CHECK(p.consumed() == buf.size());
}

TEST_CASE("an inline line arriving byte by byte is searched once") {
  // Same poisoning idea: bytes already searched for '\n' are turned into '\n'; a re-scan would
  // find them and frame a different command.
  RequestParser p;
  std::string buf;
  const std::string line = "ECHO hello";
  for (char c : line) {
    buf.push_back(c);
    REQUIRE(p.parse(buf) == Status::Incomplete);
  }
  std::string poisoned = buf;
  poisoned[4] = '\n';
  poisoned += "\r\n";
  REQUIRE(p.parse(poisoned) == Status::Complete);
  CHECK(p.consumed() == poisoned.size());
}

TEST_CASE("the argument vector is reused across commands") {
  RequestParser p;
  std::string a = "*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n";
  REQUIRE(p.parse(a) == Status::Complete);
  const auto* storage = p.args().data();
  REQUIRE(p.parse(a) == Status::Complete);
  CHECK(p.args().data() == storage);
  REQUIRE(p.parse("x y z\r\n") == Status::Complete);
  CHECK(p.args().data() == storage);
}

TEST_CASE("before AUTH: more than 10 arguments is refused with Redis's text") {
  RequestParser p(RequestLimits::before_auth());
  CHECK(p.parse("*10\r\n") == Status::Incomplete);
  RequestParser q(RequestLimits::before_auth());
  REQUIRE(q.parse("*11\r\n") == Status::Error);
  CHECK(q.error() == "Protocol error: unauthenticated multibulk length");
}

TEST_CASE("before AUTH: a bulk over 16 KiB is refused from its header, not buffered") {
  RequestParser p(RequestLimits::before_auth());
  REQUIRE(p.parse("*1\r\n$536870912\r\n") == Status::Error);
  CHECK(p.error() == "Protocol error: unauthenticated bulk length");
  RequestParser q(RequestLimits::before_auth());
  CHECK(q.parse("*2\r\n$4\r\nAUTH\r\n$16384\r\n") == Status::Incomplete);
}

TEST_CASE("after AUTH the normal limits apply to the next command") {
  RequestParser p(RequestLimits::before_auth());
  REQUIRE(p.parse("*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n") == Status::Complete);
  p.set_limits(RequestLimits{});
  std::string big = "*1\r\n$20000\r\n" + std::string(20000, 'x') + "\r\n";
  REQUIRE(p.parse(big) == Status::Complete);
  CHECK(p.args()[0].size() == 20000);
}

// "*<n>" and "$<n>" lines of up to 18 digits are read in one pass, longer or signed ones by the
// general path: the answer must not depend on which path a line takes.
TEST_CASE("length lines of every width parse alike on both paths") {
  RequestLimits unlimited{.max_args = ~size_t{0}, .max_bulk = ~size_t{0}};
  for (size_t width = 1; width <= 21; ++width) {
    INFO("width " << width);
    // 1 followed by zeros fits a long long (Redis's limit) up to 19 digits; 20 do not.
    const std::string number = "1" + std::string(width - 1, '0');
    RequestParser bulk(unlimited);
    Status s = bulk.parse("*1\r\n$" + number + "\r\n");
    CHECK(s == (width <= 19 ? Status::Incomplete : Status::Error));
    if (width > 19) CHECK(bulk.error() == "Protocol error: invalid bulk length");
    RequestParser count(unlimited);
    s = count.parse("*" + number + "\r\n");
    CHECK(s == (width <= 19 ? Status::Incomplete : Status::Error));
    if (width > 19) CHECK(count.error() == "Protocol error: invalid multibulk length");
    // 19 nines do not fit.
    const std::string nines(width, '9');
    RequestParser big(unlimited);
    CHECK(big.parse("*1\r\n$" + nines + "\r\n") ==
          (width <= 18 ? Status::Incomplete : Status::Error));
  }
  // A small bulk of each width of its length line: the data is found right after it.
  for (std::string len : {"3", "03", "0003"}) {
    INFO("$" << len);
    Outcome o = feed_whole("*2\r\n$3\r\nGET\r\n$" + len + "\r\nkey\r\n");
    if (len == "3") {
      REQUIRE(o.commands.size() == 1);
      CHECK(o.commands[0] == Command{"GET", "key"});
    } else {
      CHECK(o.error == "Protocol error: invalid bulk length");  // leading zeros, as in Redis
    }
  }
  CHECK(feed_whole("*1\r\n$0\r\n\r\n").commands == std::vector<Command>{{""}});
  CHECK(first_error("*1\r\n$00\r\n\r\n") == "Protocol error: invalid bulk length");
  CHECK(first_error("*1\r\n$-0\r\n") == "Protocol error: invalid bulk length");
  // Redis waits for the byte after '\r' before it acts on a length line.
  RequestParser p;
  CHECK(p.parse("*1\r") == Status::Incomplete);
  CHECK(p.parse("*1\r\n$4\r") == Status::Incomplete);
  CHECK(p.parse("*1\r\n$4\r\nPING\r\n") == Status::Complete);
  CHECK(p.args()[0] == "PING");
  // The count cap applies on both paths (before AUTH: 10).
  CHECK(first_error("*11\r\n", RequestLimits::before_auth()) ==
        "Protocol error: unauthenticated multibulk length");
  CHECK(feed_whole("*10\r\n", RequestLimits::before_auth()).error.empty());
  CHECK(first_error("*1\r\n$16385\r\n", RequestLimits::before_auth()) ==
        "Protocol error: unauthenticated bulk length");
}

// Found by fuzz_request_parser: after "*<n>\r\n" with nothing more, the bulk header's first
// byte was read one past the end of the buffer. The bytes live in an exactly sized heap block
// here (a std::string would hide the overread behind its terminator), so ASan sees it.
TEST_CASE("an array header with nothing after it reads no byte past the buffer") {
  for (std::string_view input : {"*15\r\n", "*1\r\n", "*2\r\n$3\r\nGET\r\n"}) {
    INFO(input);
    auto bytes = std::make_unique<char[]>(input.size());
    std::memcpy(bytes.get(), input.data(), input.size());
    RequestParser p;
    CHECK(p.parse(std::string_view(bytes.get(), input.size())) == Status::Incomplete);
  }
}

// Found by fuzz_request_parser: a line of exactly max_inline bytes and CRLF was refused when
// its CR arrived before its LF (the wait for '\n' counts what it holds, CR included) and
// accepted when the line arrived whole. Now the same answer at every split.
TEST_CASE("an inline line at the size limit gets the same answer however it is split") {
  RequestLimits small{.max_inline = 16};
  for (const std::string& line : {std::string(15, 'a') + "\r\n", std::string(16, 'a') + "\r\n",
                                  std::string(16, 'a') + "\n", std::string(17, 'a') + "\n"}) {
    INFO(line.size() << " bytes");
    const std::string whole_error = first_error(line + "PING\r\n", small);
    for (size_t cut = 1; cut < line.size(); ++cut) {
      RequestParser p(small);
      Outcome o = feed(p, {line.substr(0, cut), line.substr(cut) + "PING\r\n"});
      CHECK(o.error == whole_error);
    }
  }
  CHECK(first_error(std::string(15, 'a') + "\r\n", small).empty());
  CHECK(first_error(std::string(16, 'a') + "\n", small).empty());
  CHECK(first_error(std::string(16, 'a') + "\r\n", small) ==
        "Protocol error: too big inline request");
}

// Found by fuzz_request_parser: a count or bulk header line longer than max_inline is refused
// while its CR is awaited, but one whose CR had arrived (with nothing after it yet) was left
// waiting for one more byte. Now both are refused as soon as the CR is seen.
TEST_CASE("an over-long length line gets the same answer whether its CR has arrived or not") {
  RequestLimits small{.max_inline = 16};
  const std::string long_line(17, '-');
  struct Case {
    std::string prefix;
    std::string error;
  };
  for (const Case& c : {Case{"*", "Protocol error: too big mbulk count string"},
                        Case{"*-4\r\n*", "Protocol error: too big mbulk count string"},
                        Case{"*1\r\n$", "Protocol error: too big bulk count string"}}) {
    const std::string bytes = c.prefix + long_line + "\r";
    INFO(bytes);
    CHECK(first_error(bytes, small) == c.error);
    for (size_t cut = 1; cut < bytes.size(); ++cut) {
      RequestParser p(small);
      CHECK(feed(p, {bytes.substr(0, cut), bytes.substr(cut)}).error == c.error);
    }
  }
  // At the limit it is still a length line (and then a bad one).
  CHECK(first_error("*" + std::string(15, '-') + "\r\n", small) ==
        "Protocol error: invalid multibulk length");
}
