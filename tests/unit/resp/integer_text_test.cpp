#include <catch2/catch.hpp>

#include "resp/integer_text.hpp"

TEST_CASE("parse_integer is Redis's string2ll") {
  using slotgate::resp::parse_integer;
  CHECK(parse_integer("0") == 0);
  CHECK(parse_integer("-12") == -12);
  CHECK(parse_integer("9223372036854775807") == 9223372036854775807LL);
  CHECK(parse_integer("-9223372036854775808") == (-9223372036854775807LL - 1));
  CHECK_FALSE(parse_integer("9223372036854775808"));
  CHECK_FALSE(parse_integer("-0"));
  CHECK_FALSE(parse_integer("01"));
  CHECK_FALSE(parse_integer("+1"));
  CHECK_FALSE(parse_integer(" 1"));
  CHECK_FALSE(parse_integer(""));
  CHECK_FALSE(parse_integer("-"));
}
