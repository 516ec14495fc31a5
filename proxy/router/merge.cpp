#include "router/merge.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <random>

namespace slotgate::router {

using commands::Merge;
using resp::Value;

namespace {

// The first error among the parts, if any.
const Value* first_error(std::span<const Value> parts) {
  for (const auto& v : parts) {
    if (v.is_error()) return &v;
  }
  return nullptr;
}

Value merge_first(const MergeParts& in) {
  return in.replies.empty() ? Value::null() : in.replies[0];
}

// MGET: each part's values go back to the positions of its keys in the client's command.
Value merge_key_order(const MergeParts& in) {
  size_t key_count = 0;
  for (const auto& k : in.keys) key_count += k.size();
  std::vector<Value> out(key_count);
  for (size_t p = 0; p < in.replies.size() && p < in.keys.size(); ++p) {
    const Value& r = in.replies[p];
    const auto& keys = in.keys[p];
    for (size_t i = 0; i < keys.size() && i < r.elements.size(); ++i) {
      out[keys[i] - 1] = r.elements[i];
    }
  }
  return Value::array(std::move(out));
}

Value merge_all_ok(const MergeParts& in) {
  const Value* err = first_error(in.replies);
  if (err == nullptr) return in.replies.empty() ? Value::simple("OK") : in.replies[0];
  // Every master refused it (a script that does not compile, a CONFIG SET value they all
  // reject): nothing was applied anywhere, so the error is exactly what one Redis would say.
  if (std::all_of(in.replies.begin(), in.replies.end(),
                  [](const Value& v) { return v.is_error(); })) {
    return *err;
  }
  if (in.labels.empty()) {
    return Value::error(fmt::format("{} (reported by at least one master; the others applied {})",
                                    err->str, in.command));
  }
  // Which keys may not have been written: those of the failed parts.
  std::string keys;
  for (size_t p = 0; p < in.replies.size() && p < in.labels.size(); ++p) {
    if (!in.replies[p].is_error()) continue;
    if (!keys.empty()) keys += ", ";
    keys += in.labels[p];
  }
  return Value::error(fmt::format(
      "ERR {} partially failed: keys {} may not have been written ({}); {} across slots is not "
      "atomic",
      in.command, keys, err->str, in.command));
}

Value merge_sum(const MergeParts& in) {
  long long total = 0;
  for (const auto& v : in.replies) total += v.integer;
  return Value::integer_of(total);
}

Value merge_concat(const MergeParts& in) {
  std::vector<Value> out;
  for (const auto& v : in.replies) {
    for (const auto& e : v.elements) out.push_back(e);
  }
  return Value::array(std::move(out));
}

// SCRIPT EXISTS: a script exists only if every master has it.
Value merge_all_true(const MergeParts& in) {
  if (in.replies.empty()) return Value::array({});
  std::vector<Value> out = in.replies[0].elements;
  for (size_t p = 1; p < in.replies.size(); ++p) {
    for (size_t i = 0; i < out.size() && i < in.replies[p].elements.size(); ++i) {
      if (in.replies[p].elements[i].integer == 0) out[i].integer = 0;
    }
  }
  return Value::array(std::move(out));
}

bool same_value(const Value& a, const Value& b) {
  if (a.type != b.type || a.str != b.str || a.integer != b.integer ||
      a.elements.size() != b.elements.size()) {
    return false;
  }
  for (size_t i = 0; i < a.elements.size(); ++i) {
    if (!same_value(a.elements[i], b.elements[i])) return false;
  }
  return true;
}

Value merge_same(const MergeParts& in) {
  for (size_t i = 1; i < in.replies.size(); ++i) {
    if (!same_value(in.replies[0], in.replies[i])) {
      return Value::error(
          fmt::format("ERR {} returned different results on different masters", in.command));
    }
  }
  return merge_first(in);
}

Value merge_random(const MergeParts& in) {
  std::vector<const Value*> candidates;
  for (const auto& v : in.replies) {
    if (!v.is_null()) candidates.push_back(&v);
  }
  if (candidates.empty()) return Value::null();
  static thread_local std::minstd_rand rng{std::random_device{}()};
  return *candidates[rng() % candidates.size()];
}

// PUBSUB NUMSUB: [name, n, name, n, ...] in the same name order from every master.
Value merge_sum_pairs(const MergeParts& in) {
  if (in.replies.empty()) return Value::array({});
  std::vector<Value> out = in.replies[0].elements;
  for (size_t p = 1; p < in.replies.size(); ++p) {
    for (size_t i = 1; i < out.size() && i < in.replies[p].elements.size(); i += 2) {
      out[i].integer += in.replies[p].elements[i].integer;
    }
  }
  return Value::array(std::move(out));
}

Value merge_union(const MergeParts& in) {
  std::vector<Value> out;
  for (const auto& v : in.replies) {
    for (const auto& e : v.elements) {
      bool seen =
          std::any_of(out.begin(), out.end(), [&](const Value& o) { return o.str == e.str; });
      if (!seen) out.push_back(e);
    }
  }
  return Value::array(std::move(out));
}

// SCRIPT KILL / FUNCTION KILL: only the master running the script can stop it.
Value merge_any_ok(const MergeParts& in) {
  for (const auto& v : in.replies) {
    if (!v.is_error()) return v;
  }
  return merge_first(in);
}

struct MergeRule {
  Merge kind;
  bool first_error_wins;  // an error in any part is the answer, before the merge runs
  Value (*merge)(const MergeParts&);
};

// Indexed by commands::Merge (checked below).
constexpr MergeRule kMerges[] = {
    {Merge::None, true, merge_first},          {Merge::KeyOrder, true, merge_key_order},
    {Merge::AllOk, false, merge_all_ok},       {Merge::SumIntegers, true, merge_sum},
    {Merge::ConcatArrays, true, merge_concat}, {Merge::AllTrue, true, merge_all_true},
    {Merge::SameReply, true, merge_same},      {Merge::FirstReply, true, merge_first},
    {Merge::Random, true, merge_random},       {Merge::SumPairs, true, merge_sum_pairs},
    {Merge::UnionArrays, true, merge_union},   {Merge::AnyOk, false, merge_any_ok},
};

constexpr bool merges_in_enum_order() {
  for (size_t i = 0; i < std::size(kMerges); ++i) {
    if (static_cast<size_t>(kMerges[i].kind) != i) return false;
  }
  return std::size(kMerges) == static_cast<size_t>(Merge::AnyOk) + 1;
}
static_assert(merges_in_enum_order(), "kMerges must list every commands::Merge in enum order");

}  // namespace

Value merge_replies(Merge kind, const MergeParts& parts) {
  const MergeRule& rule = kMerges[static_cast<size_t>(kind)];
  if (rule.first_error_wins) {
    if (const Value* err = first_error(parts.replies)) return *err;
  }
  return rule.merge(parts);
}

}  // namespace slotgate::router
