// Resp2Reader: RESP2 replies on the topology connection, through hiredis.
#include <catch2/catch.hpp>

#include <string>

#include "resp/resp2_reader.hpp"

using slotgate::resp::Resp2Reader;
using slotgate::resp::Type;
using slotgate::resp::Value;
using Status = Resp2Reader::Status;

TEST_CASE("replies fed in pieces come out whole and in order") {
  Resp2Reader r;
  Value v;
  const std::string bytes =
      "*3\r\n*3\r\n:0\r\n:5460\r\n*3\r\n$9\r\n127.0.0.1\r\n:7000\r\n$3\r\nabc\r\n"
      "$-1\r\n-ERR x\r\n+OK\r\n";
  for (size_t i = 0; i < 10; ++i) {
    r.feed(bytes.substr(i, 1));
    CHECK(r.next(v) == Status::Incomplete);
  }
  r.feed(bytes.substr(10));
  REQUIRE(r.next(v) == Status::Value);
  REQUIRE(v.type == Type::Array);
  REQUIRE(v.elements.size() == 3);
  CHECK(v.elements[0].elements[1].integer == 5460);
  CHECK(v.elements[0].elements[2].elements[0].str == "127.0.0.1");
  CHECK(v.elements[1].is_null());
  CHECK(v.elements[2].type == Type::Error);
  CHECK(v.elements[2].str == "ERR x");
  REQUIRE(r.next(v) == Status::Value);
  CHECK(v.type == Type::SimpleString);
  CHECK(v.str == "OK");
  CHECK(r.next(v) == Status::Incomplete);
}

TEST_CASE("a RESP3-only reply is a protocol error for the RESP2 reader") {
  Resp2Reader r;
  Value v;
  r.feed("%1\r\n+a\r\n:1\r\n");
  CHECK(r.next(v) == Status::Error);
  CHECK_FALSE(r.error().empty());
  CHECK(r.next(v) == Status::Error);
}

TEST_CASE("a moved-from reader reports an error instead of crashing") {
  Resp2Reader a;
  Resp2Reader b(std::move(a));
  Value v;
  b.feed(":1\r\n");
  REQUIRE(b.next(v) == Status::Value);
  CHECK(v.integer == 1);
  a.feed(":2\r\n");  // NOLINT(bugprone-use-after-move): that is the point
  CHECK(a.next(v) == Status::Error);
}
