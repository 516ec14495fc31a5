#include "cluster/node_settings.hpp"

#include <algorithm>
#include "resp/request_parser.hpp"
#include "text/ascii.hpp"

namespace slotgate::cluster {

bool NodeSettings::remember(std::span<const std::string_view> args) {
  if (args.size() < 4 || args.size() % 2 != 0) return false;
  std::lock_guard lock(mu_);
  bool changed = false;
  for (size_t i = 2; i + 1 < args.size(); i += 2) {
    if (args[i].empty() || args[i].size() > kMaxNameBytes || args[i + 1].size() > kMaxValueBytes) {
      continue;
    }
    std::string name = text::lower(args[i]);
    if (allowed_ && std::find(allowed_->begin(), allowed_->end(), name) == allowed_->end()) {
      continue;
    }
    auto it = std::find_if(params_.begin(), params_.end(),
                           [&](const auto& p) { return p.first == name; });
    if (it == params_.end()) {
      if (params_.size() >= kMaxParameters) continue;
      params_.emplace_back(std::move(name), std::string(args[i + 1]));
      changed = true;
    } else if (it->second != args[i + 1]) {
      it->second.assign(args[i + 1]);
      changed = true;
    }
  }
  if (changed) ++generation_;
  return changed;
}

bool NodeSettings::remember_command(std::string_view wire) {
  resp::RequestParser parser;
  if (parser.parse(wire) != resp::RequestParser::Status::Complete) return false;
  return remember(parser.args());
}

bool NodeSettings::empty() const {
  std::lock_guard lock(mu_);
  return params_.empty();
}

std::vector<std::string> NodeSettings::keep_only(std::span<const std::string> allowed) {
  std::lock_guard lock(mu_);
  allowed_.emplace(allowed.begin(), allowed.end());
  std::vector<std::string> forgotten;
  std::erase_if(params_, [&](const auto& p) {
    if (std::find(allowed.begin(), allowed.end(), p.first) != allowed.end()) return false;
    forgotten.push_back(p.first);
    return true;
  });
  // Why the generation stays: the nodes that have the remaining values keep them; a node that
  // gets the settings later gets the remaining ones only.
  return forgotten;
}

NodeSettings::Plan NodeSettings::plan(const ClusterView& view,
                                      std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mu_);
  Plan out;
  if (params_.empty()) return out;
  out.generation = generation_;
  out.args = {"CONFIG", "SET"};
  for (const auto& [name, value] : params_) {
    out.args.push_back(name);
    out.args.push_back(value);
  }
  // The first plan after a CONFIG SET follows the broadcast every master answered OK: the
  // masters have it already (and a value an operator set on them directly since then is
  // theirs to keep), unless one became a master only now.
  const bool after_broadcast = planned_generation_ != generation_;
  planned_generation_ = generation_;
  std::map<std::string, NodeState> kept;
  for (size_t i = 0; i < view.nodes().size(); ++i) {
    const Node& node = view.nodes()[i];
    auto found = nodes_.find(node.address);
    NodeState state = found == nodes_.end() ? NodeState{} : found->second;
    const bool changed = found != nodes_.end() && (state.id != node.id || state.role != node.role);
    if (found == nodes_.end() || changed) {
      // A node slotgate has not served yet, another node at that address, or a role change:
      // a promoted replica or a restarted old master may not have what the masters had.
      state = NodeState{node.id, node.role, true, 0, {}};
    }
    if (after_broadcast && !changed && node.role == Role::Master && node.health != Health::Failed) {
      state.generation = generation_;
    }
    if (node.health == Health::Failed) {
      state.online = false;
    } else {
      if (!state.online) state.generation = 0;  // back online, perhaps after a restart
      state.online = true;
      if (state.generation < generation_ && now >= state.retry_at) {
        out.nodes.push_back(static_cast<uint16_t>(i));
      }
    }
    kept[node.address] = std::move(state);
  }
  nodes_ = std::move(kept);
  return out;
}

void NodeSettings::applied(const Node& node, uint64_t generation) {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(node.address);
  if (it != nodes_.end() && it->second.id == node.id) {
    it->second.generation = std::max(it->second.generation, generation);
  }
}

void NodeSettings::unreachable(const Node& node, std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = nodes_.find(node.address);
  if (it != nodes_.end()) it->second.retry_at = now + kRetryAfter;
}

}  // namespace slotgate::cluster
