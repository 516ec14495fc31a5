// cluster::to_json(): the ClusterView as the JSON document served by the admin
// /topology endpoint. Hand-written (no JSON library), with full string escaping.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "cluster/cluster_view.hpp"
#include "cluster/slot_migrations.hpp"

namespace slotgate::cluster {

// {"version":7,"age_seconds":1.250,"slots_covered":16384,"nodes":[{"id":"...",
//  "address":"10.0.0.1:6379","role":"master","health":"online","master_id":"",
//  "slots":[[0,5460]],"replication_offset":1234},...]}
// replication_offset (when known) comes from offsets by address, else from the view: the
// refresher keeps the latest offsets apart because a view is only rebuilt on real changes.
// With migrations (by address), every node gets "migrating":[{"slot":N,"to":"<id>",
// "to_address":"host:port"}] and "importing":[{"slot":N,"from":"<id>","from_address":...}]
// (the address when the view knows the id).
std::string to_json(const ClusterView& view, std::chrono::steady_clock::time_point now,
                    const std::map<std::string, int64_t>* offsets = nullptr,
                    const std::map<std::string, NodeMigrations>* migrations = nullptr);

// Appends text as a quoted JSON string. Invalid UTF-8 bytes become U+FFFD so the document is
// always valid JSON, whatever a node reported as its hostname.
void append_json_string(std::string& out, std::string_view text);

}  // namespace slotgate::cluster
