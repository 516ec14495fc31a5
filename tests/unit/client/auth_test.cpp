// Password comparison, log escaping and the permission vocabulary of client users.
#include <catch2/catch.hpp>

#include "client/auth.hpp"

using namespace slotgate;
using client::channel_allowed;
using client::key_allowed;
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

TEST_CASE("users' key and channel patterns") {
  config::UserConfig u;
  u.keys = {"report:*"};
  u.channels = {"news.*"};
  CHECK(key_allowed(u, "report:1"));
  CHECK_FALSE(key_allowed(u, "secret"));
  CHECK(channel_allowed(u, "news.sport", false));
  CHECK_FALSE(channel_allowed(u, "gossip", false));
  // PSUBSCRIBE: the pattern itself must be one the user has.
  CHECK(channel_allowed(u, "news.*", true));
  CHECK_FALSE(channel_allowed(u, "*", true));
  CHECK_FALSE(channel_allowed(u, "news.[a]*", true));
  u.channels = {"*"};
  CHECK(channel_allowed(u, "*", true));
  CHECK(channel_allowed(u, "anything", false));
  u.channels = {};
  CHECK_FALSE(channel_allowed(u, "news.sport", false));
}
