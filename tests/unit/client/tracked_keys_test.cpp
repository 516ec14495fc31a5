// Which invalidations a tracking session hears: read keys once, BCAST prefixes, OPTIN/OPTOUT.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "client/tracked_keys.hpp"

using namespace slotgate::client;
using Mode = TrackingOptions::Mode;
using Keys = std::vector<std::string>;

TEST_CASE("default mode: a read key is invalidated once, other keys never") {
  TrackedKeys t({Mode::Default, {}});
  REQUIRE(t.remembers_reads());
  t.remember("a");
  t.remember("b");
  CHECK(t.size() == 2);
  Keys changed{"a", "c"};
  CHECK(t.invalidated(changed) == Keys{"a"});
  CHECK(t.invalidated(changed).empty());  // forgotten until read again
  CHECK(t.size() == 1);
  t.clear();
  CHECK(t.invalidated(Keys{"b"}).empty());
}

TEST_CASE("bcast: every key under a prefix, read or not; no prefix means all") {
  TrackedKeys t({Mode::Bcast, {"user:", "cfg"}});
  CHECK_FALSE(t.remembers_reads());
  CHECK(t.invalidated(Keys{"user:1", "order:1", "cfgx", "cf"}) == Keys{"user:1", "cfgx"});
  CHECK(t.invalidated(Keys{"user:1"}) == Keys{"user:1"});  // every time
  TrackedKeys all({Mode::Bcast, {}});
  CHECK(all.invalidated(Keys{"x", "y"}) == Keys{"x", "y"});
}

TEST_CASE("optin remembers only the command after CACHING yes; optout skips after no") {
  TrackedKeys in({Mode::OptIn, {}});
  CHECK_FALSE(in.remembers_reads());
  CHECK_FALSE(in.set_caching(false));  // Redis: OPTIN takes yes only
  REQUIRE(in.set_caching(true));
  CHECK(in.remembers_reads());
  in.command_done();
  CHECK_FALSE(in.remembers_reads());

  TrackedKeys out({Mode::OptOut, {}});
  CHECK(out.remembers_reads());
  CHECK_FALSE(out.set_caching(true));
  REQUIRE(out.set_caching(false));
  CHECK_FALSE(out.remembers_reads());
  out.command_done();
  CHECK(out.remembers_reads());

  TrackedKeys def({Mode::Default, {}});
  CHECK_FALSE(def.set_caching(true));  // CACHING needs OPTIN or OPTOUT
}

TEST_CASE("a full table refuses new keys (the session then invalidates everything)") {
  TrackedKeys t({Mode::Default, {}}, 2);
  CHECK(t.remember("a"));
  CHECK(t.remember("b"));
  CHECK(t.remember("a"));  // already there
  CHECK_FALSE(t.remember("c"));
  CHECK(t.size() == 2);
  t.clear();
  CHECK(t.remember("c"));
}
