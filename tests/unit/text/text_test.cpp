#include <catch2/catch.hpp>

#include "text/ascii.hpp"
#include "text/glob.hpp"

using slotgate::text::Case;
using slotgate::text::glob_match;
using slotgate::text::iequals;
using slotgate::text::lower;

TEST_CASE("lower and iequals fold ASCII letters only") {
  CHECK(lower("GeT") == "get");
  CHECK(lower("CLIENT|SETNAME") == "client|setname");
  CHECK(lower("\xC4\xB0") == "\xC4\xB0");  // bytes above 0x7f stay as they are
  CHECK(iequals("STREAMS", "streams"));
  CHECK(iequals("", ""));
  CHECK_FALSE(iequals("block", "blocks"));
  CHECK_FALSE(iequals("[", "{"));  // '[' and '{' differ by 0x20 but are not letters
}

TEST_CASE("glob_match follows Redis's stringmatchlen") {
  for (Case c : {Case::Sensitive, Case::Insensitive}) {
    CHECK(glob_match("*", "", c));
    CHECK(glob_match("user:*", "user:42", c));
    CHECK_FALSE(glob_match("user:*", "users:42", c));
    CHECK(glob_match("h?llo", "hello", c));
    CHECK_FALSE(glob_match("h?llo", "hllo", c));
    CHECK(glob_match("h[ae]llo", "hallo", c));
    CHECK_FALSE(glob_match("h[ae]llo", "hillo", c));
    CHECK(glob_match("h[^e]llo", "hallo", c));
    CHECK_FALSE(glob_match("h[^e]llo", "hello", c));
    CHECK(glob_match("h[a-c]llo", "hbllo", c));
    CHECK(glob_match("h[c-a]llo", "hbllo", c));  // a reversed range is swapped
    CHECK(glob_match("a\\*b", "a*b", c));
    CHECK_FALSE(glob_match("a\\*b", "axb", c));
    CHECK(glob_match("*a*b*c", "xxaxxbxxc", c));
    CHECK_FALSE(glob_match("", "x", c));
  }
}

TEST_CASE("glob_match: ACL patterns are case-sensitive, COMMAND LIST patterns are not") {
  CHECK_FALSE(glob_match("user:*", "USER:1", Case::Sensitive));
  CHECK(glob_match("user:*", "USER:1", Case::Insensitive));
  CHECK_FALSE(glob_match("[A-C]*", "bitcount", Case::Sensitive));
  CHECK(glob_match("[A-C]*", "bitcount", Case::Insensitive));
  CHECK(glob_match("X\\Y", "xy", Case::Insensitive));
  CHECK_FALSE(glob_match("X\\Y", "xy", Case::Sensitive));
}

TEST_CASE("glob_match of a client's pattern costs no exponential time") {
  const std::string text(2000, 'a');
  CHECK_FALSE(glob_match("*a*a*a*a*a*a*a*a*a*a*b", text, Case::Insensitive));
}
