// Start-up from argv: CLI flags over the file over defaults, env credentials,
// --help/--version/--check-config exits.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <string>
#include <vector>

#include "config/command_line.hpp"

using namespace slotgate::config;

namespace {

// A YAML file under /tmp that is removed when the test ends.
class TempFile {
 public:
  explicit TempFile(const std::string& text) {
    static int counter = 0;
    path_ = "/tmp/slotgate-config-test-" + std::to_string(::getpid()) + "-" +
            std::to_string(counter++) + ".yaml";
    std::ofstream(path_) << text;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::variant<Config, Exit> run(std::initializer_list<std::string> args) {
  std::vector<std::string> storage{"slotgate"};
  storage.insert(storage.end(), args);
  std::vector<const char*> argv;
  for (const std::string& s : storage) argv.push_back(s.c_str());
  return from_command_line(static_cast<int>(argv.size()), argv.data(), "1.2.3");
}

Config config_of(std::variant<Config, Exit> r) {
  if (auto* e = std::get_if<Exit>(&r)) FAIL("exit " << e->code << ": " << e->err << e->out);
  return std::get<Config>(r);
}

Exit exit_of(std::variant<Config, Exit> r) {
  REQUIRE(std::holds_alternative<Exit>(r));
  return std::get<Exit>(r);
}

// Unsets the credential variables for the test's duration.
struct CleanEnv {
  CleanEnv() { clear(); }
  ~CleanEnv() { clear(); }
  static void clear() {
    for (const char* v : {"REDIS_USERNAME", "REDIS_PASSWORD", "SLOTGATE_PASSWORD"}) ::unsetenv(v);
  }
};

}  // namespace

TEST_CASE("no arguments run with the defaults") {
  CleanEnv env;
  const Config defaults;  // named: a Config{} temporary trips g++ 12's maybe-uninitialized at -O3
  CHECK(config_of(run({})) == defaults);
}

TEST_CASE("command-line flags override the file") {
  CleanEnv env;
  TempFile f(
      "listen: 127.0.0.1:6380\nworkers: 2\ncluster:\n  seeds: [10.0.0.1:7000]\n  password: "
      "p\nadmin:\n  listen: 127.0.0.1:9121\nlog:\n  level: info\n");
  SECTION("file alone") {
    const Config c = config_of(run({"--config", f.path()}));
    CHECK(c.listen == HostPort{"127.0.0.1", 6380});
    CHECK(c.workers == 2);
    CHECK(c.cluster.password == "p");
  }
  SECTION("flags win") {
    const Config c =
        config_of(run({"--config", f.path(), "--listen", "0.0.0.0:7777", "--seed", "10.9.9.9:7000",
                       "--seed", "10.9.9.10:7001", "--workers", "auto", "--admin", "", "--announce",
                       "1.2.3.4:6379", "--log-level", "debug", "--log-format", "json"}));
    CHECK(c.listen == HostPort{"0.0.0.0", 7777});
    CHECK(c.cluster.seeds == std::vector<HostPort>{{"10.9.9.9", 7000}, {"10.9.9.10", 7001}});
    CHECK(c.workers == 0);
    CHECK_FALSE(c.admin.listen);
    CHECK(c.announce_address() == HostPort{"1.2.3.4", 6379});
    CHECK(c.log.level == LogLevel::Debug);
    CHECK(c.log.format == LogFormat::Json);
    CHECK(c.cluster.password == "p");  // untouched by flags
  }
}

TEST_CASE("environment credentials override the file when set") {
  CleanEnv env;
  TempFile f("cluster:\n  username: fileuser\n  password: filepw\nclients:\n  password: cpw\n");
  ::setenv("REDIS_PASSWORD", "envpw", 1);
  ::setenv("SLOTGATE_PASSWORD", "envcpw", 1);
  ::setenv("REDIS_USERNAME", "", 1);  // set but empty: the file's value stays
  const Config c = config_of(run({"--config", f.path()}));
  CHECK(c.cluster.username == "fileuser");
  CHECK(c.cluster.password == "envpw");
  CHECK(c.clients.password == "envcpw");
}

TEST_CASE("--version and --help exit 0") {
  Exit v = exit_of(run({"--version"}));
  CHECK(v.code == 0);
  CHECK(v.out == "slotgate 1.2.3\n");
  Exit h = exit_of(run({"--help"}));
  CHECK(h.code == 0);
  CHECK_THAT(h.out, Catch::Contains("--check-config") && Catch::Contains("--seed"));
}

TEST_CASE("bad arguments exit 2 with a message") {
  Exit e = exit_of(run({"--no-such-flag"}));
  CHECK(e.code == 2);
  CHECK_FALSE(e.err.empty());
  Exit l = exit_of(run({"--listen", "nowhere"}));
  CHECK(l.code == 2);
  CHECK_THAT(l.err, Catch::StartsWith("--listen: missing port"));
  CHECK(exit_of(run({"--workers", "0"})).code == 2);
  CHECK(exit_of(run({"--log-level", "chatty"})).code == 2);
  CHECK(exit_of(run({"--seed", "a:b"})).code == 2);
}

TEST_CASE("a broken --config file exits 1 with its errors") {
  CleanEnv env;
  TempFile f("cluster:\n  failover_hold: soon\n");
  Exit e = exit_of(run({"--config", f.path()}));
  CHECK(e.code == 1);
  CHECK(e.err == f.path() +
                     ":2: cluster.failover_hold: invalid duration 'soon' (use e.g. 250ms, 20s, "
                     "5m, 1h)\n");
  CHECK(exit_of(run({"--config", "/nonexistent.yaml"})).code == 1);
}

TEST_CASE("--check-config prints config OK or the errors") {
  CleanEnv env;
  TempFile good("listen: 127.0.0.1:6380\n");
  TempFile bad("listen: 127.0.0.1:6380\nclients:\n  pasword: x\n");
  Exit ok = exit_of(run({"--check-config", good.path()}));
  CHECK(ok.code == 0);
  CHECK(ok.out == "config OK\n");
  Exit ko = exit_of(run({"--check-config", bad.path()}));
  CHECK(ko.code == 1);
  CHECK(ko.out.empty());
  CHECK(ko.err ==
        bad.path() + ":3: unknown key 'clients.pasword' (did you mean 'clients.password'?)\n");
  // Flags take part in the check: the admin port now collides with listen.
  Exit clash = exit_of(run({"--check-config", good.path(), "--admin", "127.0.0.1:6380"}));
  CHECK(clash.code == 1);
  CHECK_THAT(clash.err, Catch::Contains("same port"));
}
