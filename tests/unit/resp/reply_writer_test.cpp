// Reply writers: the exact bytes a client receives for replies the proxy builds itself.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "resp/reply_writer.hpp"

using namespace slotgate::resp;

TEST_CASE("scalar writers produce Redis's bytes") {
  std::string out;
  append_simple(out, "OK");
  append_error(out, "ERR unknown command");
  append_integer(out, -9223372036854775807ll - 1);
  append_integer(out, 0);
  append_bulk(out, "a\r\nb");
  append_bulk(out, "");
  CHECK(out ==
        "+OK\r\n-ERR unknown command\r\n:-9223372036854775808\r\n:0\r\n$4\r\na\r\nb\r\n$0\r\n\r\n");
}

TEST_CASE("CR and LF in status and error text become spaces, as in Redis") {
  std::string out;
  append_error(out, "ERR bad\r\nthing");
  append_simple(out, "a\nb");
  CHECK(out == "-ERR bad  thing\r\n+a b\r\n");
}

TEST_CASE("nulls and headers follow the client's protocol") {
  auto both = [](auto fn) {
    std::string two, three;
    fn(two, 2);
    fn(three, 3);
    return std::pair{two, three};
  };
  CHECK(both([](std::string& o, int p) { append_null_bulk(o, p); }) ==
        std::pair<std::string, std::string>{"$-1\r\n", "_\r\n"});
  CHECK(both([](std::string& o, int p) { append_null_array(o, p); }) ==
        std::pair<std::string, std::string>{"*-1\r\n", "_\r\n"});
  CHECK(both([](std::string& o, int p) { append_map_header(o, 3, p); }) ==
        std::pair<std::string, std::string>{"*6\r\n", "%3\r\n"});
  CHECK(both([](std::string& o, int p) { append_set_header(o, 2, p); }) ==
        std::pair<std::string, std::string>{"*2\r\n", "~2\r\n"});
  CHECK(both([](std::string& o, int p) { append_push_header(o, 3, p); }) ==
        std::pair<std::string, std::string>{"*3\r\n", ">3\r\n"});
  CHECK(both([](std::string& o, int p) { append_bool(o, true, p); }) ==
        std::pair<std::string, std::string>{":1\r\n", "#t\r\n"});
  CHECK(both([](std::string& o, int p) { append_bool(o, false, p); }) ==
        std::pair<std::string, std::string>{":0\r\n", "#f\r\n"});
  CHECK(both([](std::string& o, int p) { append_verbatim(o, "hi\n", p); }) ==
        std::pair<std::string, std::string>{"$3\r\nhi\n\r\n", "=7\r\ntxt:hi\n\r\n"});
  std::string arr;
  append_array_header(arr, 0);
  CHECK(arr == "*0\r\n");
}

TEST_CASE("doubles are written like Redis 7.0 (%.17g, inf, -inf)") {
  auto d = [](double x, int proto) {
    std::string o;
    append_double(o, x, proto);
    return o;
  };
  CHECK(d(1.5, 3) == ",1.5\r\n");
  CHECK(d(1.5, 2) == "$3\r\n1.5\r\n");
  CHECK(d(0.1, 3) == ",0.10000000000000001\r\n");
  CHECK(d(3.0, 3) == ",3\r\n");
  CHECK(d(1e300, 3) == ",1.0000000000000001e+300\r\n");
  CHECK(d(std::numeric_limits<double>::infinity(), 3) == ",inf\r\n");
  CHECK(d(-std::numeric_limits<double>::infinity(), 2) == "$4\r\n-inf\r\n");
}

TEST_CASE("append_command builds a RESP array of bulk strings for a backend") {
  std::vector<std::string_view> args = {"SET", "k", "v\r\n"};
  std::string out;
  append_command(out, args);
  CHECK(out == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nv\r\n\r\n");
}

// append_command sizes its output once: lengths at every digit boundary, empty arguments, a
// header of two and three digits, and bytes already in the buffer.
TEST_CASE("append_command is exact at every length boundary") {
  for (size_t len : {0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 10000, 100000}) {
    for (size_t argc : {1, 9, 10, 11, 100, 120}) {
      INFO("argument length " << len << ", " << argc << " arguments");
      std::vector<std::string> owned;
      for (size_t i = 0; i < argc; ++i)
        owned.push_back(std::string(len, static_cast<char>('a' + i % 26)));
      std::vector<std::string_view> args(owned.begin(), owned.end());
      std::string want = "prefix*" + std::to_string(argc) + "\r\n";
      for (const auto& a : owned) want += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
      std::string out = "prefix";
      append_command(out, args);
      CHECK(out == want);
    }
  }
}

TEST_CASE("writers append to existing contents") {
  std::string out = "prefix";
  append_integer(out, 5);
  CHECK(out == "prefix:5\r\n");
}
