// Fuzz target: the topology parsers, fed what a (possibly hostile) node answers to
// CLUSTER SHARDS, CLUSTER SLOTS and CLUSTER NODES. The first byte picks the parser:
// 's' SHARDS, 'l' SLOTS (both as a RESP reply), anything else NODES (text). A view
// that is built is also used the way the proxy uses it: every slot's owner looked up
// and the view rendered as the admin port's JSON.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "cluster/cluster_view.hpp"
#include "cluster/topology_json.hpp"
#include "fuzz_check.hpp"
#include "resp/value_parser.hpp"

using slotgate::cluster::ClusterView;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const char kind = static_cast<char>(data[0]);
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  ClusterView::Result result = std::string("not parsed");
  if (kind == 's' || kind == 'l') {
    const auto value = slotgate::resp::parse_value(rest);
    if (!value) return 0;
    result = kind == 's' ? ClusterView::from_shards(*value, "10.0.0.9", 1)
                         : ClusterView::from_slots(*value, "10.0.0.9", 1);
  } else {
    result = ClusterView::from_nodes(rest, 1, "10.0.0.9");
  }
  if (const auto* view = std::get_if<ClusterView::Ptr>(&result)) {
    FUZZ_CHECK(*view != nullptr);
    const ClusterView& v = **view;
    for (uint32_t slot = 0; slot < 16384; ++slot) {
      const uint16_t owner = v.master_of(static_cast<uint16_t>(slot));
      FUZZ_CHECK(owner == ClusterView::kNoNode || owner < v.nodes().size());
    }
    (void)slotgate::cluster::to_json(v, std::chrono::steady_clock::now());
  } else {
    FUZZ_CHECK(!std::get<std::string>(result).empty());
  }
  return 0;
}
