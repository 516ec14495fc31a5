// COMMAND replies built from the table: COUNT, INFO, LIST, GETKEYS, GETKEYSANDFLAGS.
#include <catch2/catch.hpp>

#include <algorithm>

#include "commands/command_reply.hpp"
#include "test_util.hpp"

using namespace slotgate::commands;
using slotgate::commands::testing::Args;
using slotgate::resp::Type;
using slotgate::resp::Value;

namespace {
Value reply(const std::string& line, int protocol = 2) {
  Args a(line);
  return command_reply(a.views, protocol);
}

std::vector<std::string> strings(const Value& v) {
  std::vector<std::string> out;
  for (const Value& e : v.elements) out.push_back(e.str);
  return out;
}
}  // namespace

TEST_CASE("COMMAND COUNT counts top-level commands") {
  const Value v = reply("COMMAND COUNT");
  CHECK(v.type == Type::Integer);
  CHECK(v.integer == 240);
}

TEST_CASE("COMMAND INFO has the shape redis-server sends") {
  const Value v = reply("COMMAND INFO get nosuch");
  REQUIRE(v.type == Type::Array);
  REQUIRE(v.elements.size() == 2);
  CHECK(v.elements[1].is_null());
  const Value& get = v.elements[0];
  REQUIRE(get.elements.size() == 10);
  CHECK(get.elements[0].str == "get");
  CHECK(get.elements[1].integer == 2);
  CHECK(strings(get.elements[2]) == std::vector<std::string>{"readonly", "fast"});
  CHECK(get.elements[3].integer == 1);
  CHECK(strings(get.elements[6]) == std::vector<std::string>{"@read", "@string", "@fast"});
  const Value& spec = get.elements[8].elements.at(0);
  REQUIRE(spec.type == Type::Array);  // RESP2: flat key/value array
  CHECK(spec.elements.at(0).str == "flags");
  CHECK(strings(spec.elements.at(1)) == std::vector<std::string>{"RO", "access"});
  CHECK(spec.elements.at(2).str == "begin_search");
  CHECK(spec.elements.at(3).elements.at(1).str == "index");

  const Value client = reply("command info CLIENT").elements.at(0);
  CHECK(client.elements.at(9).elements.size() == find("client")->subcommand_count);
  const Value sub = reply("command info client|setname").elements.at(0);
  CHECK(sub.elements.at(0).str == "client|setname");

  const Value resp3 = reply("COMMAND INFO get", 3).elements.at(0);
  CHECK(resp3.elements.at(2).type == Type::Set);
  CHECK(resp3.elements.at(8).elements.at(0).type == Type::Map);

  CHECK(reply("COMMAND INFO").elements.size() == 240);
}

TEST_CASE("COMMAND LIST with and without filters") {
  const Value all = reply("COMMAND LIST");
  // 366 names of Redis 7.0.15, plus CLIENT SETINFO, CLIENT NO-TOUCH and CLUSTER MYSHARDID (7.2)
  // that slotgate answers.
  CHECK(all.elements.size() == 369);
  const auto names = strings(reply("COMMAND LIST FILTERBY ACLCAT pubsub"));
  CHECK(names.size() == 13);
  CHECK(std::find(names.begin(), names.end(), "pubsub|numsub") != names.end());
  CHECK(strings(reply("COMMAND LIST FILTERBY PATTERN xinfo|*")) ==
        std::vector<std::string>{"xinfo|consumers", "xinfo|groups", "xinfo|help", "xinfo|stream"});
  CHECK(strings(reply("COMMAND LIST FILTERBY PATTERN G[EA]T")) == std::vector<std::string>{"get"});
  CHECK(reply("COMMAND LIST FILTERBY MODULE x").elements.empty());
  CHECK(reply("COMMAND LIST FILTERBY nope x").is_error());
}

TEST_CASE("COMMAND GETKEYS answers like Redis, errors included") {
  CHECK(strings(reply("COMMAND GETKEYS MSET a 1 b 2")) == std::vector<std::string>{"a", "b"});
  CHECK(strings(reply("COMMAND GETKEYS eval s 2 x y z")) == std::vector<std::string>{"x", "y"});
  CHECK(reply("COMMAND GETKEYS eval s 0").elements.empty());
  CHECK(reply("COMMAND GETKEYS nosuch a").str == "ERR Invalid command specified");
  CHECK(reply("COMMAND GETKEYS client nosuch").str == "ERR Invalid command specified");
  CHECK(reply("COMMAND GETKEYS ping x").str == "ERR The command has no key arguments");
  CHECK(reply("COMMAND GETKEYS get a b").str ==
        "ERR Invalid number of arguments specified for command");
  CHECK(reply("COMMAND GETKEYS zunion 0 a").str == "ERR Invalid arguments specified for command");

  const Value flags = reply("COMMAND GETKEYSANDFLAGS set a b get");
  REQUIRE(flags.elements.size() == 1);
  CHECK(flags.elements[0].elements.at(0).str == "a");
  CHECK(strings(flags.elements[0].elements.at(1)) ==
        std::vector<std::string>{"RW", "access", "update"});
}

TEST_CASE("COMMAND with a wrong subcommand gets Redis's error") {
  CHECK(reply("COMMAND nosuch").str == "ERR unknown subcommand 'nosuch'. Try COMMAND HELP.");
  CHECK(reply("COMMAND COUNT x").str ==
        "ERR wrong number of arguments for 'command|count' command");
}
