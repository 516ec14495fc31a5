// parse_value and write_value: replies the proxy reads, merges and writes back in the client's
// protocol (RESP2 or RESP3).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "resp/reply_writer.hpp"
#include "resp/value_parser.hpp"

using slotgate::resp::parse_value;
using slotgate::resp::Type;
using slotgate::resp::Value;
using slotgate::resp::write_value;

namespace {

bool same(const Value& a, const Value& b) {
  if (a.type != b.type || a.str != b.str || a.integer != b.integer || a.format != b.format ||
      a.elements.size() != b.elements.size()) {
    return false;
  }
  for (size_t i = 0; i < a.elements.size(); ++i) {
    if (!same(a.elements[i], b.elements[i])) return false;
  }
  return true;
}

std::string written(const Value& v, int proto) {
  std::string out;
  write_value(out, v, proto);
  return out;
}

// Frames that are already in canonical RESP3 form: parse then write (proto 3) gives them back.
const std::vector<std::string> kCanonical = {
    "+OK\r\n",
    "-ERR wrong number of arguments\r\n",
    ":0\r\n",
    ":-9223372036854775808\r\n",
    "$0\r\n\r\n",
    "$5\r\nh\r\nl0\r\n",
    "*0\r\n",
    "*3\r\n:1\r\n$1\r\na\r\n*1\r\n+x\r\n",
    "_\r\n",
    ",1.5\r\n",
    ",nan\r\n",
    "#t\r\n",
    "#f\r\n",
    "(12345678901234567890123\r\n",
    "=9\r\nmkd:# hi\n\r\n",
    "%2\r\n+a\r\n:1\r\n+b\r\n%1\r\n+c\r\n~2\r\n:1\r\n:2\r\n",
    "~0\r\n",
    ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
};

}  // namespace

TEST_CASE("canonical RESP3 frames survive parse_value -> write_value(3) unchanged") {
  for (const std::string& frame : kCanonical) {
    INFO(frame);
    auto v = parse_value(frame);
    REQUIRE(v);
    CHECK(written(*v, 3) == frame);
    // and the RESP2 rendering parses back to a RESP2-only tree
    auto v2 = parse_value(written(*v, 2));
    REQUIRE(v2);
  }
}

TEST_CASE("parse_value reads every type into the documented Value fields") {
  auto v = parse_value("=15\r\ntxt:Some string\r\n");
  REQUIRE(v);
  CHECK(v->type == Type::Verbatim);
  CHECK(v->format == "txt");
  CHECK(v->str == "Some string");

  v = parse_value("$-1\r\n");
  REQUIRE(v);
  CHECK(v->is_null());
  v = parse_value("*-1\r\n");
  REQUIRE(v);
  CHECK(v->is_null());

  v = parse_value("!21\r\nSYNTAX invalid syntax\r\n");
  REQUIRE(v);
  CHECK(v->is_error());
  CHECK(v->str == "SYNTAX invalid syntax");

  v = parse_value("#t\r\n");
  REQUIRE(v);
  CHECK(v->type == Type::Boolean);
  CHECK(v->integer == 1);

  v = parse_value("%1\r\n+k\r\n:1\r\n");
  REQUIRE(v);
  CHECK(v->type == Type::Map);
  REQUIRE(v->elements.size() == 2);
  CHECK(v->elements[0].str == "k");
  CHECK(v->elements[1].integer == 1);

  // Attributes are dropped; the reply they annotate is returned.
  v = parse_value("|1\r\n+ttl\r\n:3\r\n*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n:2\r\n");
  REQUIRE(v);
  CHECK(v->type == Type::Array);
  REQUIRE(v->elements.size() == 2);
  CHECK(v->elements[0].integer == 1);
}

TEST_CASE("parse_value refuses malformed, incomplete and trailing input") {
  for (const std::string& bad :
       {std::string("+OK"), std::string("+OK\r\n+OK\r\n"), std::string("$3\r\nab\r\n"),
        std::string("*2\r\n:1\r\n"), std::string("*1000000000\r\n"),
        std::string("%4611686018427387904\r\n"), std::string("=3\r\ntxt\r\n"),
        std::string("#x\r\n"), std::string(":1.5\r\n"), std::string("?\r\n"), std::string(""),
        std::string("$-2\r\n"), std::string("|9223372036854775807\r\n")}) {
    INFO(bad);
    CHECK_FALSE(parse_value(bad));
  }
  std::string deep;
  for (int i = 0; i < 200; ++i) deep += "*1\r\n";
  deep += ":1\r\n";
  CHECK_FALSE(parse_value(deep));
}

TEST_CASE("write_value converts RESP3 types for RESP2 clients like Redis does") {
  auto as2 = [](const std::string& frame) {
    auto v = parse_value(frame);
    REQUIRE(v);
    return written(*v, 2);
  };
  CHECK(as2("%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n") == "*4\r\n+a\r\n:1\r\n+b\r\n:2\r\n");
  CHECK(as2("~2\r\n+a\r\n+b\r\n") == "*2\r\n+a\r\n+b\r\n");
  CHECK(as2(">2\r\n+a\r\n+b\r\n") == "*2\r\n+a\r\n+b\r\n");
  CHECK(as2(",3.25\r\n") == "$4\r\n3.25\r\n");
  CHECK(as2(",inf\r\n") == "$3\r\ninf\r\n");
  CHECK(as2("#t\r\n") == ":1\r\n");
  CHECK(as2("#f\r\n") == ":0\r\n");
  CHECK(as2("_\r\n") == "$-1\r\n");
  CHECK(as2("*-1\r\n") == "$-1\r\n");  // null kinds are not distinguished in Value
  CHECK(as2("(123456789012345678901\r\n") == "$21\r\n123456789012345678901\r\n");
  CHECK(as2("=15\r\ntxt:Some string\r\n") == "$11\r\nSome string\r\n");
  CHECK(as2("!5\r\nERR x\r\n") == "-ERR x\r\n");
  CHECK(as2("*1\r\n%1\r\n+k\r\n~1\r\n#t\r\n") == "*1\r\n*2\r\n+k\r\n*1\r\n:1\r\n");
}

TEST_CASE("Values built in code round-trip through both protocols") {
  Value v =
      Value::array({Value::bulk("a"), Value::integer_of(-7), Value::null(),
                    Value::map({Value::simple("k"), Value::error("ERR no")}), Value::array({})});
  auto back3 = parse_value(written(v, 3));
  REQUIRE(back3);
  CHECK(same(*back3, v));

  auto back2 = parse_value(written(v, 2));
  REQUIRE(back2);
  REQUIRE(back2->elements.size() == 5);
  CHECK(back2->elements[3].type == Type::Array);  // the map arrives flattened
  CHECK(back2->elements[3].elements.size() == 2);
  CHECK(back2->elements[2].is_null());
}
