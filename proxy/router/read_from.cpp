// Reads from replicas (read_from): which node serves a read-only keyed command. The replicas of a
// slot's master that qualify are those the view marks serves_reads (ReplicaMonitor: link up, lag
// within max_replica_lag), not failed, and not in this worker's connect backoff. Writes,
// transactions, WATCH and blocking commands (dedicated connections) and redirected requests never
// come here.
#include <limits>

#include "metrics/worker_stats.hpp"
#include "router/router.hpp"

namespace slotgate::router {

void Router::index_replicas() {
  serving_replicas_.assign(view_ ? view_->nodes().size() : 0, {});
  if (!view_) return;
  for (uint16_t m : masters_) {
    for (uint16_t r : view_->replicas_of(m)) {
      const cluster::Node& n = view_->node(r);
      // Not Health::Online: CLUSTER SHARDS calls a replica "loading" until its offset is
      // non-zero (a new cluster before any write); its master's word (serves_reads) decides.
      if (n.serves_reads && n.health != cluster::Health::Failed) serving_replicas_[m].push_back(r);
    }
  }
}

uint16_t Router::read_node(const Request* req, uint16_t master) {
  using config::ReadFrom;
  const ReadFrom policy = req->read_from.value_or(options_.read_from);
  if (policy == ReadFrom::Master || !req->read_only || req->dedicated != nullptr ||
      req->absorb_count != 0 || master >= serving_replicas_.size())
    return master;
  const backend::BackendPool& pool = backends(req->protocol);
  const std::vector<uint16_t>& replicas = serving_replicas_[master];
  if (policy == ReadFrom::Nearest) {
    // The lowest recent latency this worker measured; now and then a round-robin pick, so a node
    // that was slow once gets measured again. A node never measured (0) is tried first.
    const size_t candidates = replicas.size() + 1;
    auto candidate = [&](size_t i) { return i == 0 ? master : replicas[i - 1]; };
    if (++nearest_probe_ % 32 == 0) {
      uint16_t n = candidate(next_replica_++ % candidates);
      if (!pool.is_down(view_->node(n).address)) return n;
    }
    uint16_t best = master;
    double best_s = std::numeric_limits<double>::max();
    for (size_t i = 0; i < candidates; ++i) {
      const std::string& address = view_->node(candidate(i)).address;
      if (pool.is_down(address)) continue;
      double s = stats_.backend(address).recent_latency_s;
      if (s < best_s) {
        best_s = s;
        best = candidate(i);
      }
    }
    return best;
  }
  for (size_t i = 0; i < replicas.size(); ++i) {
    uint16_t r = replicas[next_replica_++ % replicas.size()];
    if (!pool.is_down(view_->node(r).address)) return r;
  }
  return policy == ReadFrom::Replica ? cluster::ClusterView::kNoNode : master;
}

}  // namespace slotgate::router
