// RequestPool: requests and the split bookkeeping it lends to split parents.
#include <catch2/catch.hpp>

#include <string>

#include "router/request.hpp"

using slotgate::router::Request;
using slotgate::router::RequestPool;
using slotgate::router::SplitState;

TEST_CASE("a split parent's buffers go to the next parent, a plain request holds none") {
  RequestPool pool;
  Request* parent = pool.acquire();
  SplitState& st = pool.split_state(parent);
  st.part_raw.assign(3, std::string(100, 'x'));
  st.part_keys.assign(3, {1, 2, 3});
  st.pending = 3;
  pool.release(parent);
  CHECK(pool.spare_splits() == 1);

  Request* plain = pool.acquire();
  CHECK(plain->split == nullptr);
  Request* next = pool.acquire();
  SplitState& again = pool.split_state(next);
  CHECK(pool.spare_splits() == 0);
  CHECK(again.pending == 0);
  REQUIRE(again.part_raw.size() == 3);
  CHECK(again.part_raw[0].capacity() >= 100);  // kept for the next MGET's parts
  REQUIRE(again.part_keys.size() == 3);
  CHECK(again.part_keys[0].empty());
  CHECK(again.part_keys[0].capacity() >= 3);
  pool.release(plain);
  pool.release(next);
}

TEST_CASE("a pooled SplitState does not keep what one huge split needed") {
  RequestPool pool;
  SECTION("large part replies") {
    Request* parent = pool.acquire();
    pool.split_state(parent).part_raw.assign(40, std::string(10 * 1024, 'y'));  // 400 KiB
    pool.release(parent);
  }
  SECTION("thousands of parts") {
    Request* parent = pool.acquire();
    SplitState& st = pool.split_state(parent);
    st.part_raw.assign(RequestPool::kMaxKeptParts + 1, std::string(20, 'z'));
    st.part_keys.assign(RequestPool::kMaxKeptParts + 1, {7});
    pool.release(parent);
  }
  Request* next = pool.acquire();
  SplitState& st = pool.split_state(next);
  CHECK(st.part_raw.capacity() == 0);
  CHECK(st.part_keys.size() <= RequestPool::kMaxKeptParts);
  pool.release(next);
}
