#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "router/merge.hpp"

using slotgate::commands::Merge;
using slotgate::resp::Type;
using slotgate::resp::Value;
using slotgate::router::merge_replies;
using slotgate::router::MergeParts;

namespace {

Value ints(std::vector<long long> ns) {
  std::vector<Value> out;
  for (long long n : ns) out.push_back(Value::integer_of(n));
  return Value::array(std::move(out));
}

Value bulks(std::vector<std::string> ss) {
  std::vector<Value> out;
  for (auto& s : ss) out.push_back(Value::bulk(std::move(s)));
  return Value::array(std::move(out));
}

// Parts of a broadcast: no keys, no labels.
Value merge(Merge kind, const std::vector<Value>& replies, std::string_view command = "cmd") {
  return merge_replies(kind, MergeParts{replies, {}, {}, command});
}

std::vector<std::string> strings_of(const Value& v) {
  std::vector<std::string> out;
  for (const auto& e : v.elements) out.push_back(e.str);
  return out;
}

}  // namespace

TEST_CASE("DEL across slots sums the parts' counts") {
  Value v =
      merge(Merge::SumIntegers, {Value::integer_of(2), Value::integer_of(0), Value::integer_of(3)});
  CHECK(v.type == Type::Integer);
  CHECK(v.integer == 5);
}

TEST_CASE("MGET across slots puts each value back at its key's position") {
  // MGET a b c d: part 0 carried keys 1 and 3, part 1 keys 2 and 4.
  std::vector<Value> replies = {bulks({"va", "vc"}), bulks({"vb", "vd"})};
  std::vector<std::vector<uint32_t>> keys = {{1, 3}, {2, 4}};
  Value v = merge_replies(Merge::KeyOrder, MergeParts{replies, keys, {}, "mget"});
  CHECK(v.type == Type::Array);
  CHECK(strings_of(v) == std::vector<std::string>{"va", "vb", "vc", "vd"});
}

TEST_CASE("KEYS on every master concatenates the parts in master order") {
  Value v = merge(Merge::ConcatArrays, {bulks({"a", "b"}), bulks({}), bulks({"c"})});
  CHECK(strings_of(v) == std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE("the first error among the parts is the reply of a merging command") {
  std::vector<Value> replies = {Value::integer_of(1), Value::error("WRONGTYPE first"),
                                Value::error("ERR second")};
  for (Merge kind :
       {Merge::SumIntegers, Merge::ConcatArrays, Merge::AllTrue, Merge::SameReply, Merge::Random,
        Merge::SumPairs, Merge::UnionArrays, Merge::FirstReply, Merge::None}) {
    Value v = merge(kind, replies);
    CHECK(v.is_error());
    CHECK(v.str == "WRONGTYPE first");
  }
  std::vector<std::vector<uint32_t>> keys = {{1}, {2}, {3}};
  Value mget = merge_replies(Merge::KeyOrder, MergeParts{replies, keys, {}, "mget"});
  CHECK(mget.str == "WRONGTYPE first");
}

TEST_CASE("MSET answers OK when every part said OK") {
  Value v = merge(Merge::AllOk, {Value::simple("OK"), Value::simple("OK")}, "mset");
  CHECK(v.type == Type::SimpleString);
  CHECK(v.str == "OK");
  CHECK(merge(Merge::AllOk, {}, "mset").str == "OK");
}

TEST_CASE("the same error from every master is passed on as one Redis would say it") {
  Value v = merge(Merge::AllOk, {Value::error("ERR bad script"), Value::error("ERR bad script")},
                  "script");
  CHECK(v.is_error());
  CHECK(v.str == "ERR bad script");
}

TEST_CASE("a split MSET that failed on some slots names the keys that may not be written") {
  std::vector<Value> replies = {Value::simple("OK"), Value::error("OOM no memory"),
                                Value::error("OOM still none")};
  std::vector<std::string> labels = {"a", "b, e", "c"};
  Value v = merge_replies(Merge::AllOk, MergeParts{replies, {}, labels, "mset"});
  CHECK(v.is_error());
  CHECK(v.str ==
        "ERR mset partially failed: keys b, e, c may not have been written (OOM no memory); mset "
        "across slots is not atomic");
}

TEST_CASE("a broadcast that failed on some masters says the others applied it") {
  Value v = merge(Merge::AllOk, {Value::simple("OK"), Value::error("ERR nope")}, "flushall");
  CHECK(v.is_error());
  CHECK(v.str == "ERR nope (reported by at least one master; the others applied flushall)");
}

TEST_CASE("SCRIPT EXISTS is true only where every master has the script") {
  Value v = merge(Merge::AllTrue, {ints({1, 1, 0}), ints({1, 0, 1})});
  REQUIRE(v.elements.size() == 3);
  CHECK(v.elements[0].integer == 1);
  CHECK(v.elements[1].integer == 0);
  CHECK(v.elements[2].integer == 0);
  CHECK(merge(Merge::AllTrue, {}).elements.empty());
}

TEST_CASE("SCRIPT LOAD answers the masters' common reply, or says they differ") {
  Value same = merge(Merge::SameReply, {Value::bulk("sha"), Value::bulk("sha")}, "script");
  CHECK(same.str == "sha");
  Value differ = merge(Merge::SameReply, {Value::bulk("sha"), Value::bulk("other")}, "script");
  CHECK(differ.is_error());
  CHECK(differ.str == "ERR script returned different results on different masters");
  CHECK(merge(Merge::SameReply, {}).is_null());
}

TEST_CASE("RANDOMKEY picks a non-nil reply when any master has keys") {
  Value v = merge(Merge::Random, {Value::null(), Value::bulk("k"), Value::null()});
  CHECK(v.str == "k");
  CHECK(merge(Merge::Random, {Value::null(), Value::null()}).is_null());
}

TEST_CASE("PUBSUB NUMSUB sums the counts per channel") {
  std::vector<Value> a = {Value::bulk("ch1"), Value::integer_of(2), Value::bulk("ch2"),
                          Value::integer_of(0)};
  std::vector<Value> b = {Value::bulk("ch1"), Value::integer_of(1), Value::bulk("ch2"),
                          Value::integer_of(4)};
  Value v = merge(Merge::SumPairs, {Value::array(a), Value::array(b)});
  REQUIRE(v.elements.size() == 4);
  CHECK(v.elements[0].str == "ch1");
  CHECK(v.elements[1].integer == 3);
  CHECK(v.elements[2].str == "ch2");
  CHECK(v.elements[3].integer == 4);
}

TEST_CASE("PUBSUB CHANNELS lists each channel once") {
  Value v = merge(Merge::UnionArrays, {bulks({"a", "b"}), bulks({"b", "c"}), bulks({"a"})});
  CHECK(strings_of(v) == std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE("SCRIPT KILL succeeds if the master running the script stopped it") {
  Value v = merge(Merge::AnyOk, {Value::error("NOTBUSY No scripts in execution right now."),
                                 Value::simple("OK")});
  CHECK(v.str == "OK");
  Value none = merge(Merge::AnyOk, {Value::error("NOTBUSY a"), Value::error("NOTBUSY b")});
  CHECK(none.is_error());
  CHECK(none.str == "NOTBUSY a");
}

TEST_CASE("a command without a merge answers with the first part's reply") {
  CHECK(merge(Merge::FirstReply, {Value::bulk("x"), Value::bulk("y")}).str == "x");
  CHECK(merge(Merge::None, {Value::bulk("x")}).str == "x");
  CHECK(merge(Merge::None, {}).is_null());
}
