// FrameScanner: finding where backend replies end, for every RESP2 and RESP3 type.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "resp/frame_scanner.hpp"

using slotgate::resp::FrameScanner;
using Status = FrameScanner::Status;

namespace {

struct Sample {
  std::string frame;
  char type;
};

const std::vector<Sample> kFrames = {
    // RESP2
    {"+OK\r\n", '+'},
    {"-ERR unknown command 'FOO'\r\n", '-'},
    {":1000\r\n", ':'},
    {":-42\r\n", ':'},
    {"$5\r\nhello\r\n", '$'},
    {"$0\r\n\r\n", '$'},
    {"$6\r\na\r\nb\r\n\r\n", '$'},  // CRLF inside a bulk is payload
    {"$-1\r\n", '$'},
    {"*-1\r\n", '*'},
    {"*0\r\n", '*'},
    {"*3\r\n:1\r\n$3\r\nfoo\r\n+bar\r\n", '*'},
    {"*2\r\n*2\r\n:1\r\n:2\r\n*1\r\n*1\r\n$-1\r\n", '*'},
    // RESP3
    {"_\r\n", '_'},
    {",3.14\r\n", ','},
    {",-inf\r\n", ','},
    {"#t\r\n", '#'},
    {"#f\r\n", '#'},
    {"(3492890328409238509324850943850943825024385\r\n", '('},
    {"=15\r\ntxt:Some string\r\n", '='},
    {"!21\r\nSYNTAX invalid syntax\r\n", '!'},
    {"%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n", '%'},
    {"%0\r\n", '%'},
    {"~3\r\n+a\r\n+b\r\n+c\r\n", '~'},
    {">3\r\n$7\r\nmessage\r\n$3\r\nch1\r\n$5\r\nhello\r\n", '>'},
    {"%1\r\n$5\r\nnodes\r\n*2\r\n%2\r\n+id\r\n:1\r\n+ip\r\n_\r\n~1\r\n#t\r\n", '%'},
    // Attributes belong to the reply after them; the frame's type is that reply's.
    {"|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n"
     "*2\r\n:2039123\r\n:9543892\r\n",
     '*'},
    {"|0\r\n+OK\r\n", '+'},
    {"|1\r\n+a\r\n+b\r\n|1\r\n+c\r\n+d\r\n:7\r\n", ':'},
    {"*2\r\n|1\r\n+ttl\r\n:3\r\n$1\r\nv\r\n:2\r\n", '*'},  // attribute on an element
    {"|1\r\n+meta\r\n*1\r\n:1\r\n-MOVED 1 h:1\r\n", '-'},
};

}  // namespace

TEST_CASE("every RESP2 and RESP3 reply type is framed whole") {
  for (const auto& [frame, type] : kFrames) {
    INFO(frame);
    FrameScanner s;
    std::string buf = frame + "+NEXT\r\n";  // a pipelined reply after it must not be included
    REQUIRE(s.scan(buf) == Status::Complete);
    CHECK(s.frame_length() == frame.size());
    CHECK(s.type() == type);
    // The next reply is framed on the next call.
    REQUIRE(s.scan(std::string_view(buf).substr(s.frame_length())) == Status::Complete);
    CHECK(s.frame_length() == 7);
    CHECK(s.type() == '+');
  }
}

TEST_CASE("every reply split at every byte position is Incomplete until its last byte") {
  for (const auto& sample : kFrames) {
    const std::string& frame = sample.frame;
    for (size_t cut = 0; cut < frame.size(); ++cut) {
      INFO(frame << " cut at " << cut);
      FrameScanner s;
      std::string buf = frame.substr(0, cut);
      REQUIRE(s.scan(buf) == Status::Incomplete);
      buf += frame.substr(cut);
      REQUIRE(s.scan(buf) == Status::Complete);
      CHECK(s.frame_length() == frame.size());
      CHECK(s.type() == sample.type);
    }
  }
}

TEST_CASE("a reply fed one byte at a time is framed once complete") {
  for (const auto& sample : kFrames) {
    INFO(sample.frame);
    FrameScanner s;
    std::string buf;
    for (size_t i = 0; i < sample.frame.size(); ++i) {
      buf.push_back(sample.frame[i]);
      Status st = s.scan(buf);
      REQUIRE(st == (i + 1 == sample.frame.size() ? Status::Complete : Status::Incomplete));
    }
    CHECK(s.frame_length() == sample.frame.size());
  }
}

TEST_CASE("errors report their code word and text; pushes are flagged") {
  FrameScanner s;
  REQUIRE(s.scan("-MOVED 3999 127.0.0.1:6381\r\n") == Status::Complete);
  CHECK(s.is_error());
  CHECK_FALSE(s.is_push());
  CHECK(s.error_code() == "MOVED");
  CHECK(s.error_text() == "MOVED 3999 127.0.0.1:6381");

  REQUIRE(s.scan("-TRYAGAIN Multiple keys request during rehashing of slot\r\n") ==
          Status::Complete);
  CHECK(s.error_code() == "TRYAGAIN");

  REQUIRE(s.scan("-CLUSTERDOWN\r\n") == Status::Complete);
  CHECK(s.error_code() == "CLUSTERDOWN");

  REQUIRE(s.scan("!26\r\nLOADING Redis is loading\r\n\r\n") == Status::Complete);
  CHECK(s.is_error());
  CHECK(s.error_code() == "LOADING");
  CHECK(s.error_text() == "LOADING Redis is loading\r\n");

  REQUIRE(s.scan("|1\r\n+a\r\n+b\r\n-ASK 1 h:2\r\n") == Status::Complete);
  CHECK(s.error_code() == "ASK");

  // An error nested in an array is not a top-level error (EXEC results).
  REQUIRE(s.scan("*1\r\n-ERR x\r\n") == Status::Complete);
  CHECK_FALSE(s.is_error());
  CHECK(s.error_code().empty());

  REQUIRE(s.scan(">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n") == Status::Complete);
  CHECK(s.is_push());
  CHECK_FALSE(s.is_error());
}

TEST_CASE("malformed replies are protocol errors") {
  const std::vector<std::string> bad = {
      "$?\r\n",       "*?\r\n",  "?x\r\n",       "+OK\rX",          "$3\r\nabcXY", ":abc\r\n",
      ":\r\n",        "#x\r\n",  "_x\r\n",       "%-1\r\n",         "~-1\r\n",     "=-1\r\n",
      "$-2\r\n",      "*-2\r\n", "$01\r\na\r\n", "*1\r\n$1\r\nabc",
      "|1\r\n:1\r\n",  // last: incomplete, not malformed (checked below)
  };
  for (size_t i = 0; i + 1 < bad.size(); ++i) {
    INFO(bad[i]);
    FrameScanner s;
    CHECK(s.scan(bad[i]) == Status::Error);
    CHECK_FALSE(s.protocol_error().empty());
    CHECK(s.scan("+OK\r\n") == Status::Error);  // sticky
    s.reset();
    CHECK(s.scan("+OK\r\n") == Status::Complete);
  }
  FrameScanner s;
  CHECK(s.scan(bad.back()) == Status::Incomplete);
}

TEST_CASE("nesting depth does not matter: a 100000-deep reply is one frame") {
  // redis-server sends any depth a Lua table has (hiredis's reader stops at 7); the
  // scanner must frame it, or the shared connection carrying it would be dropped.
  const int depth = 100000;
  std::string frame;
  for (int i = 0; i < depth; ++i) frame += "*2\r\n:1\r\n";
  frame += "$3\r\nend\r\n";
  for (const char* tail : {"", "+next\r\n"}) {
    FrameScanner s;
    REQUIRE(s.scan(frame + tail) == Status::Complete);
    CHECK(s.frame_length() == frame.size());
    CHECK(s.type() == '*');
  }
}

TEST_CASE("a deep reply arriving one byte at a time is framed at its last byte") {
  std::string frame;
  for (int i = 0; i < 300; ++i)
    frame += i % 3 == 0 ? "%1\r\n+k\r\n" : (i % 3 == 1 ? "~1\r\n" : "*1\r\n");
  frame += "|1\r\n+a\r\n*0\r\n:7\r\n";
  FrameScanner s;
  for (size_t n = 1; n < frame.size(); ++n) {
    REQUIRE(s.scan(std::string_view(frame).substr(0, n)) == Status::Incomplete);
  }
  REQUIRE(s.scan(frame) == Status::Complete);
  CHECK(s.frame_length() == frame.size());
  CHECK(s.type() == '%');
}

TEST_CASE("an error nested inside a deep array is data, not the frame's error") {
  std::string frame;
  for (int i = 0; i < 200; ++i) frame += "*1\r\n";
  frame += "-MOVED 1 10.0.0.1:6379\r\n";
  FrameScanner s;
  REQUIRE(s.scan(frame) == Status::Complete);
  CHECK_FALSE(s.is_error());
  CHECK(s.error_text().empty());
}

TEST_CASE("element counts that could overflow are refused") {
  std::string frame;
  for (int i = 0; i < 2000; ++i) frame += "*1099511627776\r\n";
  FrameScanner s;
  CHECK(s.scan(frame) == Status::Error);
}

TEST_CASE("a 32 MB bulk reply in 64 KB pieces is examined once") {
  // Before every call, all bytes the scanner has already examined are overwritten with "\r\n"
  // garbage: a scanner that re-read from the start would report a protocol error or a wrong
  // length; one that resumes from its offsets frames the reply correctly.
  const size_t payload = 32 << 20;
  const std::string header = "*2\r\n+hdr\r\n$" + std::to_string(payload) + "\r\n";
  FrameScanner s;
  std::string buf = header;
  REQUIRE(s.scan(buf) == Status::Incomplete);
  size_t sent = 0;
  while (sent < payload) {
    size_t n = std::min<size_t>(64 * 1024, payload - sent);
    std::fill(buf.begin(), buf.end(), '\n');
    buf.append(n, 'x');
    sent += n;
    REQUIRE(s.scan(buf) == Status::Incomplete);
  }
  buf += "\r\n";
  REQUIRE(s.scan(buf) == Status::Complete);
  CHECK(s.frame_length() == header.size() + payload + 2);
  CHECK(s.type() == '*');
}

TEST_CASE("a long status line arriving in pieces is searched for CR once") {
  FrameScanner s;
  std::string buf = "+";
  for (int i = 0; i < 100; ++i) {
    buf.append(100, 'a');
    REQUIRE(s.scan(buf) == Status::Incomplete);
    std::fill(buf.begin() + 1, buf.end(), '\r');  // a re-scan would find these
  }
  buf += "\r\n";
  REQUIRE(s.scan(buf) == Status::Complete);
  CHECK(s.frame_length() == buf.size());
}

// "$<n>" and "*<n>" headers of up to 12 digits are read in one pass, the rest by the general
// path: the answer must not depend on which path a header takes.
TEST_CASE("length headers of every width frame alike on both paths") {
  for (size_t width = 1; width <= 14; ++width) {
    INFO("width " << width);
    const std::string number = "1" + std::string(width - 1, '0');
    // 10^12 (13 digits) is still below the 2^40 length cap; 10^13 is not.
    const Status want = width <= 13 ? Status::Incomplete : Status::Error;
    FrameScanner bulk;
    CHECK(bulk.scan("$" + number + "\r\n") == want);
    FrameScanner array;
    CHECK(array.scan("*" + number + "\r\n") == want);
  }
  for (std::string bad : {"$01\r\n", "$00\r\n\r\n", "*01\r\n", "$-0\r\n", "*1\r\n$02\r\nab\r\n"}) {
    INFO(bad);
    FrameScanner s;
    CHECK(s.scan(bad) == Status::Error);
  }
  FrameScanner empty;
  REQUIRE(empty.scan("$0\r\n\r\n") == Status::Complete);
  CHECK(empty.frame_length() == 6);
  CHECK(empty.type() == '$');
  // A header waits for its LF on both paths.
  FrameScanner waiting;
  CHECK(waiting.scan("*2\r") == Status::Incomplete);
  CHECK(waiting.scan("*2\r\n$1\r") == Status::Incomplete);
  CHECK(waiting.scan("*2\r\n$1\r\na\r\n$2\r\nbc\r\n") == Status::Complete);
  CHECK(waiting.frame_length() == 19);
  // CR not followed by LF is refused whichever path reads the header.
  FrameScanner no_lf;
  CHECK(no_lf.scan("*2\rX") == Status::Error);
  // 13 digits above the 2^40 length cap are refused, not read by the one-pass path.
  FrameScanner too_long;
  CHECK(too_long.scan("$9999999999999\r\n") == Status::Error);
  // 12-digit counts (the one-pass path) still cannot add up past the element cap.
  std::string many;
  for (int i = 0; i < 2000; ++i) many += "*999999999999\r\n";
  FrameScanner capped;
  CHECK(capped.scan(many) == Status::Error);
  CHECK(capped.protocol_error() == std::string_view("reply has too many elements"));
}
