// The proxy-wide client memory budget: totals add up over workers, and exactly one
// worker (the one holding the biggest client) is told to evict.
#include <catch2/catch.hpp>

#include <memory>

#include "client/client_memory.hpp"

using slotgate::client::ClientMemoryBudget;

TEST_CASE("client memory: the total is the sum of what each worker published") {
  auto b = std::make_unique<ClientMemoryBudget>();
  CHECK(b->total() == 0);
  b->publish(0, 100, 60);
  b->publish(2, 50, 50);
  CHECK(b->total() == 150);
  b->publish(0, 10, 10);  // a worker's new total replaces its old one
  CHECK(b->total() == 60);
}

TEST_CASE("client memory: only the worker with the biggest client evicts") {
  auto b = std::make_unique<ClientMemoryBudget>();
  b->publish(0, 300, 200);
  b->publish(1, 500, 400);
  CHECK_FALSE(b->holds_biggest(0, 200));
  CHECK(b->holds_biggest(1, 400));
  // A worker that found a bigger client than it last published acts on what it found.
  CHECK(b->holds_biggest(0, 450));
}

TEST_CASE("client memory: a tie goes to the lower worker index") {
  auto b = std::make_unique<ClientMemoryBudget>();
  b->publish(0, 100, 100);
  b->publish(1, 100, 100);
  CHECK(b->holds_biggest(0, 100));
  CHECK_FALSE(b->holds_biggest(1, 100));
}

TEST_CASE("client memory: publish steps scale with the budget within bounds") {
  CHECK(ClientMemoryBudget::step_for(1ULL << 30) == 4ULL << 20);
  CHECK(ClientMemoryBudget::step_for(64ULL << 20) == 1ULL << 20);
  CHECK(ClientMemoryBudget::step_for(1ULL << 20) == 64 * 1024);
}
