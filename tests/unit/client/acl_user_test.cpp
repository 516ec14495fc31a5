// Redis ACL rules (ACL SETUSER modifiers) and their evaluation against the command table.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "client/acl_user.hpp"
#include "client/auth.hpp"
#include "config/password_hash.hpp"
#include "config/yaml_loader.hpp"

using namespace slotgate;
using client::AclDenial;
using client::AclUser;

namespace {

AclUser user_with(std::vector<std::string> rules) {
  AclUser u;
  u.name = "u";
  for (const auto& r : rules) {
    auto err = client::apply_acl_rule(u, r);
    INFO(r);
    REQUIRE_FALSE(err);
  }
  return u;
}

AclDenial verdict(const AclUser& u, std::vector<std::string_view> args) {
  const commands::CommandSpec* spec = commands::lookup(args);
  REQUIRE(spec != nullptr);
  std::vector<commands::KeyRef> scratch;
  return client::check_acl(u, *spec, args, scratch).denial;
}

std::string rule_error(std::string_view rule) {
  AclUser u;
  auto err = client::apply_acl_rule(u, rule);
  return err ? *err : std::string();
}

}  // namespace

TEST_CASE("ACL rules refuse what Redis refuses, with Redis's reasons") {
  CHECK(rule_error("foo") == "Syntax error");
  CHECK(rule_error("+@nope") == "Unknown command or category name in ACL");
  CHECK(rule_error("+nope") == "Unknown command or category name in ACL");
  CHECK(rule_error("-get|x") == "Unknown command or category name in ACL");
  CHECK(rule_error("+config|nope") == "Unknown command or category name in ACL");
  CHECK(rule_error("%X~a") == "Syntax error");
  CHECK(rule_error("%R") == "Syntax error");
  CHECK(rule_error("#abc").starts_with("The password hash must be exactly 64 characters"));
  CHECK(rule_error("<never") ==
        "The password you are trying to remove from the user does not exist");
  CHECK(rule_error("(~a +get)") == "selectors are not supported by slotgate");
  CHECK(client::acl_rule_error("foo", "Syntax error") ==
        "Error in ACL SETUSER modifier 'foo': Syntax error");
  AclUser u = user_with({"allkeys"});
  CHECK(client::apply_acl_rule(u, "~a").value_or("").starts_with("Adding a pattern after the *"));
}

TEST_CASE("passwords are kept as SHA-256 hashes and nopass accepts any") {
  AclUser u = user_with({"on", ">secret", "#" + config::sha256_hex("other")});
  REQUIRE(u.password_hashes.size() == 2);
  CHECK(u.password_hashes[0] == config::sha256_hex("secret"));
  CHECK(client::acl_password_matches(u, "secret"));
  CHECK(client::acl_password_matches(u, "other"));
  CHECK_FALSE(client::acl_password_matches(u, "guess"));
  REQUIRE_FALSE(client::apply_acl_rule(u, "<secret"));
  CHECK_FALSE(client::acl_password_matches(u, "secret"));
  REQUIRE_FALSE(client::apply_acl_rule(u, "nopass"));
  CHECK(client::acl_password_matches(u, "anything"));
  REQUIRE_FALSE(client::apply_acl_rule(u, "resetpass"));
  CHECK_FALSE(client::acl_password_matches(u, "anything"));
  CHECK(u.describe().find("secret") == std::string::npos);
}

TEST_CASE("categories, commands and subcommands apply in order") {
  AclUser u = user_with({"allkeys", "+@read", "-get", "+config|get", "+client"});
  CHECK(verdict(u, {"mget", "a"}) == AclDenial::None);
  CHECK(verdict(u, {"get", "a"}) == AclDenial::Command);
  CHECK(verdict(u, {"set", "a", "b"}) == AclDenial::Command);
  CHECK(verdict(u, {"config", "get", "x"}) == AclDenial::None);
  CHECK(verdict(u, {"config", "set", "x", "y"}) == AclDenial::Command);
  CHECK(verdict(u, {"client", "list"}) == AclDenial::None);
  // AUTH and HELLO (no-auth commands) are always allowed.
  CHECK(verdict(u, {"auth", "x"}) == AclDenial::None);
  u = user_with({"allkeys", "+@all", "-@dangerous", "-config|get"});
  CHECK(verdict(u, {"flushall"}) == AclDenial::Command);
  CHECK(verdict(u, {"config", "get", "x"}) == AclDenial::Command);
  CHECK(verdict(u, {"set", "a", "b"}) == AclDenial::None);
  CHECK(u.describe() == "off ~* resetchannels +@all -@dangerous -config|get");
  u = user_with({"+@all", "nocommands", "+get"});
  CHECK(u.describe() == "off resetchannels -@all +get");
}

TEST_CASE("keys: read and write permissions follow the key-spec flags") {
  AclUser u = user_with({"+@all", "~rw:*", "%R~ro:*", "%W~wo:*"});
  CHECK(verdict(u, {"get", "ro:1"}) == AclDenial::None);
  CHECK(verdict(u, {"set", "ro:1", "v"}) == AclDenial::Key);
  CHECK(verdict(u, {"set", "wo:1", "v"}) == AclDenial::None);
  CHECK(verdict(u, {"get", "wo:1"}) == AclDenial::Key);
  CHECK(verdict(u, {"get", "other"}) == AclDenial::Key);
  // STORE destination written, sources read.
  CHECK(verdict(u, {"sunionstore", "wo:d", "ro:a", "ro:b"}) == AclDenial::None);
  CHECK(verdict(u, {"sunionstore", "ro:d", "ro:a"}) == AclDenial::Key);
  // numkeys / movable keys.
  CHECK(verdict(u, {"zunionstore", "wo:d", "2", "ro:a", "rw:b"}) == AclDenial::None);
  CHECK(verdict(u, {"zunionstore", "wo:d", "2", "ro:a", "x"}) == AclDenial::Key);
  CHECK(verdict(u, {"eval", "return 1", "1", "rw:a"}) == AclDenial::None);
  CHECK(verdict(u, {"eval", "return 1", "1", "ro:a"}) == AclDenial::Key);
  CHECK(verdict(u, {"sort", "ro:a", "store", "ro:b"}) == AclDenial::Key);
  CHECK(verdict(u, {"sort", "ro:a", "store", "wo:b"}) == AclDenial::None);
  // Range over every key.
  CHECK(verdict(u, {"mset", "wo:1", "a", "rw:2", "b"}) == AclDenial::None);
  CHECK(verdict(u, {"mset", "wo:1", "a", "ro:2", "b"}) == AclDenial::Key);
}

TEST_CASE("channels: PSUBSCRIBE needs one of the patterns literally") {
  AclUser u = user_with({"+@all", "allkeys", "resetchannels", "&news.*"});
  CHECK(verdict(u, {"publish", "news.sport", "x"}) == AclDenial::None);
  CHECK(verdict(u, {"publish", "gossip", "x"}) == AclDenial::Channel);
  CHECK(verdict(u, {"subscribe", "news.a", "gossip"}) == AclDenial::Channel);
  CHECK(verdict(u, {"ssubscribe", "news.a"}) == AclDenial::None);
  CHECK(verdict(u, {"psubscribe", "news.*"}) == AclDenial::None);
  CHECK(verdict(u, {"psubscribe", "news.a*"}) == AclDenial::Channel);
  CHECK(verdict(u, {"unsubscribe", "gossip"}) == AclDenial::None);
  u = user_with({"+@all", "allchannels"});
  CHECK(verdict(u, {"psubscribe", "*"}) == AclDenial::None);
}

TEST_CASE("the shorthand (readonly, keys, channels, scripts) keeps its meaning") {
  config::UserConfig cfg;
  cfg.name = "app";
  cfg.readonly = true;
  cfg.keys = {"app:*"};
  cfg.scripts = false;
  cfg.channels = {};
  client::AclBuild b = client::build_acl_user(cfg);
  REQUIRE(b.user);
  const AclUser& u = *b.user;
  CHECK(u.enabled);
  CHECK(verdict(u, {"get", "app:1"}) == AclDenial::None);
  CHECK(verdict(u, {"get", "other"}) == AclDenial::Key);
  CHECK(verdict(u, {"set", "app:1", "v"}) == AclDenial::Command);
  CHECK(verdict(u, {"keys", "*"}) == AclDenial::Command);
  CHECK(verdict(u, {"config", "get", "x"}) == AclDenial::Command);
  CHECK(verdict(u, {"client", "list"}) == AclDenial::None);
  CHECK(verdict(u, {"eval_ro", "return 1", "0"}) == AclDenial::Command);
  CHECK(verdict(u, {"publish", "c", "x"}) == AclDenial::Channel);
}

TEST_CASE("configured rules: errors name the user and the rule") {
  config::UserConfig cfg;
  cfg.name = "app";
  cfg.rules = {"on", "+@read", "+bogus"};
  client::AclBuild b = client::build_acl_user(cfg);
  CHECK_FALSE(b.user);
  CHECK(b.error ==
        "user 'app': Error in ACL SETUSER modifier '+bogus': Unknown command or category name "
        "in ACL");
  CHECK(client::split_acl_rules("  on >x  ~* ") == std::vector<std::string>{"on", ">x", "~*"});
}

TEST_CASE("NOPERM texts are redis-server 7.0's") {
  const auto* config_get = commands::find_full("config|get");
  REQUIRE(config_get);
  CHECK(client::acl_denial_text(AclDenial::Command, *config_get) ==
        "NOPERM this user has no permissions to run the 'config|get' command");
  CHECK(client::acl_denial_text(AclDenial::Key, *config_get) ==
        "NOPERM this user has no permissions to access one of the keys used as arguments");
  CHECK(client::acl_denial_text(AclDenial::Channel, *config_get) ==
        "NOPERM this user has no permissions to access one of the channels used as arguments");
}

TEST_CASE("clients.users[].rules load as a string or a list, passwords hashed, errors located") {
  config::set_users_validator(&client::check_acl_users);
  auto r = config::load_yaml(
      "clients:\n  users:\n    - name: a\n      rules: on >pw ~k:* +@read\n"
      "    - name: b\n      rules: [on, nopass, '%R~x', '+get']\n      password: pw2\n",
      "slotgate.yaml");
  INFO((r.errors.empty() ? std::string() : r.errors.front()));
  REQUIRE(r.config);
  const auto& users = r.config->clients.users;
  REQUIRE(users.size() == 2);
  CHECK(users[0].rules ==
        std::vector<std::string>{"on", "#" + config::sha256_hex("pw"), "~k:*", "+@read"});
  CHECK(users[1].rules == std::vector<std::string>{"on", "nopass", "%R~x", "+get"});
  CHECK(users[1].password_sha256 == config::sha256_hex("pw2"));
  r = config::load_yaml("clients:\n  users:\n    - name: a\n      rules: on +nope\n",
                        "slotgate.yaml");
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0] ==
        "slotgate.yaml:3: clients.users: user 'a': Error in ACL SETUSER modifier '+nope': Unknown "
        "command or category name in ACL");
  r = config::load_yaml(
      "clients:\n  users:\n    - name: a\n      rules: on\n      readonly: true\n",
      "slotgate.yaml");
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].find("rules replace readonly") != std::string::npos);
  config::set_users_validator(nullptr);
}
