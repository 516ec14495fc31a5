#include <catch2/catch.hpp>

#include <vector>

#include "client/reply_queue.hpp"

using slotgate::client::ReplyQueue;

namespace {
std::vector<int> contents(ReplyQueue<int>& q) {
  std::vector<int> out;
  for (int v : q) out.push_back(v);
  return out;
}
}  // namespace

TEST_CASE("a reply queue holds no storage until the first request") {
  ReplyQueue<int> q;
  CHECK(q.empty());
  CHECK(q.capacity() == 0);
  q.push_back(1);
  CHECK(q.capacity() > 0);
  CHECK(q.front() == 1);
}

TEST_CASE("a reply queue keeps first-in first-out order across wrap-around and growth") {
  ReplyQueue<int> q;
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
  ReplyQueue<int> q;
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
