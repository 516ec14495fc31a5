// to_json() for the admin /topology endpoint and the JSON string escaping it needs.
#include "cluster/topology_json.hpp"

#include <cstdio>

namespace slotgate::cluster {
namespace {

// Length of the valid UTF-8 sequence starting at text[i], or 0 if it is not valid
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
size_t utf8_sequence_length(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  const uint8_t lead = byte(i);
  size_t length;
  uint8_t low = 0x80, high = 0xBF;  // allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;
    if (lead == 0xED) high = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < low || byte(i + 1) > high) return 0;
  for (size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return length;
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<uint8_t>(text[i]);
    if (c >= 0x80) {
      const size_t length = utf8_sequence_length(text, i);
      if (length == 0) {
        out.append("\\ufffd");
        ++i;
      } else {
        out.append(text.substr(i, length));
        i += length;
      }
      continue;
    }
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      case '\b':
        out.append("\\b");
        break;
      case '\f':
        out.append("\\f");
        break;
      default:
        if (c < 0x20) {
          out.append("\\u00");
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xF]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
    ++i;
  }
  out.push_back('"');
}

namespace {

void append_migrations(std::string& out, const ClusterView& view, std::string_view key,
                       std::string_view peer_key, const std::vector<SlotMigration>& list) {
  out.append(",\"").append(key).append("\":[");
  for (size_t k = 0; k < list.size(); ++k) {
    if (k > 0) out.push_back(',');
    out.append("{\"slot\":").append(std::to_string(list[k].slot));
    out.append(",\"").append(peer_key).append("\":");
    append_json_string(out, list[k].peer_id);
    if (auto peer = view.find_by_id(list[k].peer_id)) {
      out.append(",\"").append(peer_key).append("_address\":");
      append_json_string(out, view.nodes()[*peer].address);
    }
    out.push_back('}');
  }
  out.push_back(']');
}

}  // namespace

std::string to_json(const ClusterView& view, std::chrono::steady_clock::time_point now,
                    const std::map<std::string, int64_t>* offsets,
                    const std::map<std::string, NodeMigrations>* migrations) {
  double age = std::chrono::duration<double>(now - view.created()).count();
  if (age < 0) age = 0;
  char age_text[32];
  std::snprintf(age_text, sizeof age_text, "%.3f", age);

  std::string out;
  out.reserve(128 + view.nodes().size() * 192);
  out.append("{\"version\":").append(std::to_string(view.version()));
  out.append(",\"age_seconds\":").append(age_text);
  if (view.single_node()) {
    out.append(view.from_sentinel() ? ",\"backend\":\"sentinel\"" : ",\"backend\":\"standalone\"");
  }
  out.append(",\"slots_covered\":").append(std::to_string(view.covered_slots()));
  out.append(",\"nodes\":[");
  for (size_t i = 0; i < view.nodes().size(); ++i) {
    const Node& node = view.nodes()[i];
    if (i > 0) out.push_back(',');
    out.append("{\"id\":");
    append_json_string(out, node.id);
    out.append(",\"address\":");
    append_json_string(out, node.address);
    out.append(",\"role\":");
    append_json_string(out, to_string(node.role));
    out.append(",\"health\":");
    append_json_string(out, to_string(node.health));
    out.append(",\"master_id\":");
    append_json_string(out, node.master_id);
    if (node.role == Role::Replica)
      out.append(",\"serves_reads\":").append(node.serves_reads ? "true" : "false");
    out.append(",\"slots\":[");
    bool first = true;
    for (const SlotRange& range : view.ranges_of(static_cast<uint16_t>(i))) {
      if (!first) out.push_back(',');
      first = false;
      out.append("[").append(std::to_string(range.first)).append(",");
      out.append(std::to_string(range.last)).append("]");
    }
    out.push_back(']');
    int64_t offset = node.replication_offset;
    if (offsets != nullptr) {
      if (auto it = offsets->find(node.address); it != offsets->end()) offset = it->second;
    }
    if (offset >= 0) out.append(",\"replication_offset\":").append(std::to_string(offset));
    if (migrations != nullptr) {
      static const NodeMigrations kNone;
      auto it = migrations->find(node.address);
      const NodeMigrations& m = it == migrations->end() ? kNone : it->second;
      append_migrations(out, view, "migrating", "to", m.migrating);
      append_migrations(out, view, "importing", "from", m.importing);
    }
    out.push_back('}');
  }
  out.append("]}");
  return out;
}

}  // namespace slotgate::cluster
