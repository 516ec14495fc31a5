// backend::RingFifo: the in-flight FIFO of a backend connection.
#include <catch2/catch.hpp>

#include <deque>
#include <random>

#include "backend/ring_fifo.hpp"

using slotgate::backend::RingFifo;

TEST_CASE("RingFifo hands elements back in the order they were pushed, across growth and wrap") {
  RingFifo<int> fifo;
  CHECK(fifo.empty());
  std::deque<int> model;
  std::mt19937 rng(14);
  int next = 0;
  for (int step = 0; step < 20000; ++step) {
    // Mostly balanced, with bursts that grow the ring past several capacities.
    const bool push = model.empty() || (rng() % 100) < (step % 2000 < 1000 ? 60u : 40u);
    if (push) {
      fifo.push_back(next);
      model.push_back(next);
      ++next;
    } else {
      REQUIRE(fifo.front() == model.front());
      fifo.pop_front();
      model.pop_front();
    }
    REQUIRE(fifo.size() == model.size());
    if (step % 97 == 0) {
      for (size_t i = 0; i < model.size(); ++i) REQUIRE(fifo[i] == model[i]);
    }
  }
}

TEST_CASE("RingFifo swap exchanges the contents; front can be changed in place") {
  RingFifo<int> a, b;
  for (int i = 0; i < 40; ++i) a.push_back(i);
  for (int i = 0; i < 30; ++i) a.pop_front();  // head is now past the start of the ring
  a.front() = 100;
  a.swap(b);
  CHECK(a.empty());
  REQUIRE(b.size() == 10);
  CHECK(b[0] == 100);
  for (size_t i = 1; i < 10; ++i) CHECK(b[i] == static_cast<int>(30 + i));
  a.push_back(7);
  CHECK(a.front() == 7);
}
