// Password comparison, log escaping and the permission vocabulary of client users.
#include <catch2/catch.hpp>

#include "client/auth.hpp"

using namespace slotgate;
using client::log_escaped;
using client::password_matches;

TEST_CASE("passwords match only when equal, whatever their lengths") {
  CHECK(password_matches("secret", "secret"));
  CHECK_FALSE(password_matches("secret", "secreT"));
  CHECK_FALSE(password_matches("secre", "secret"));
  CHECK_FALSE(password_matches("secret!", "secret"));
  CHECK_FALSE(password_matches("", "secret"));
  CHECK(password_matches("", ""));
  CHECK(password_matches(std::string(1000, 'x'), std::string(1000, 'x')));
}

TEST_CASE("a client's text is escaped before it reaches the log") {
  CHECK(log_escaped("songs") == "songs");
  CHECK(log_escaped("a\nb") == "a\\x0ab");
  CHECK(log_escaped("a\r\nINFO forged") == "a\\x0d\\x0aINFO forged");
  CHECK(log_escaped("q'\"\\") == "q\\x27\\x22\\x5c");
  CHECK(log_escaped(std::string(100, 'u'), 8) == "uuuuuuuu...");
  CHECK(log_escaped("\xff") == "\\xff");
}
