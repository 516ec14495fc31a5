// net::RingFifo: the in-flight FIFO of a backend connection (default: keeps its ring) and a
// client session's reply queue (KeepOnDrain 16: gives a big ring back).
#include <catch2/catch.hpp>

#include <deque>
#include <random>
#include <vector>

#include "net/ring_fifo.hpp"

using slotgate::net::RingFifo;
using ReplyQueue = RingFifo<int, 16>;

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

namespace {
std::vector<int> contents(ReplyQueue& q) {
  std::vector<int> out;
  for (int v : q) out.push_back(v);
  return out;
}
}  // namespace

TEST_CASE("a reply queue holds no storage until the first request") {
  ReplyQueue q;
  CHECK(q.empty());
  CHECK(q.capacity() == 0);
  q.push_back(1);
  CHECK(q.capacity() > 0);
  CHECK(q.front() == 1);
}

TEST_CASE("a reply queue keeps first-in first-out order across wrap-around and growth") {
  ReplyQueue q;
  int next_in = 0, next_out = 0;
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < round % 7 + 1; ++i) q.push_back(next_in++);
    for (int i = 0; i < round % 5 + 1 && !q.empty(); ++i) {
      CHECK(q.front() == next_out++);
      q.pop_front();
    }
  }
  std::vector<int> expected;
  for (int v = next_out; v < next_in; ++v) expected.push_back(v);
  CHECK(contents(q) == expected);
  CHECK(q.size() == expected.size());
}

TEST_CASE("a small ring survives draining, a big one is given back") {
  ReplyQueue q;
  for (int i = 0; i < 3; ++i) q.push_back(i);
  for (int i = 0; i < 3; ++i) q.pop_front();
  CHECK(q.capacity() > 0);  // one command at a time allocates once
  q.trim();
  CHECK(q.capacity() == 0);
  for (int i = 0; i < 100; ++i) q.push_back(i);
  CHECK(q.capacity() >= 100);
  while (!q.empty()) q.pop_front();
  CHECK(q.capacity() == 0);
  for (int i = 0; i < 100; ++i) q.push_back(i);
  q.clear();
  CHECK(q.empty());
  CHECK(q.capacity() == 0);
}

TEST_CASE("a backend FIFO keeps the ring it grew to when it drains") {
  RingFifo<int> fifo;
  for (int i = 0; i < 100; ++i) fifo.push_back(i);
  const size_t grown = fifo.capacity();
  while (!fifo.empty()) fifo.pop_front();
  CHECK(fifo.capacity() == grown);  // the pipeline depth comes back: no realloc per burst
}
