"""Slots being migrated are still reported after a failover.

slotgate asks each master for its own migrating/importing slots (CLUSTER NODES, the
"[slot->-id]" entries) and shows them on /topology and the page. A slotgate that was
running through a CLUSTER FAILOVER (or the kill of a master) must go on reporting a
migration that starts afterwards — from the promoted master and between the others.
"""

from __future__ import annotations

import json
import urllib.request

import pytest

from harness import wait_until


def topology(gate) -> dict:
    with urllib.request.urlopen(gate.admin_url("/topology"), timeout=5) as r:
        return json.loads(r.read())


def by_address(gate) -> dict[str, dict]:
    return {n["address"]: n for n in topology(gate)["nodes"]}


def node_id(node) -> str:
    i = node.call("CLUSTER", "MYID")
    return i.decode() if isinstance(i, bytes) else i


def check_migration_is_reported(cluster, gate, source, target) -> None:
    """SETSLOT IMPORTING/MIGRATING between source and target: /topology lists the slot on both
    ends within a few seconds, and not any more after SETSLOT STABLE."""
    slot = cluster.keyslot(cluster.keys_on_each_master(n_per_master=1, prefix="mig-fo")[source][0])
    source_id, target_id = node_id(source), node_id(target)
    try:
        target.call("CLUSTER", "SETSLOT", slot, "IMPORTING", source_id)
        source.call("CLUSTER", "SETSLOT", slot, "MIGRATING", target_id)

        def shown() -> bool:
            nodes = by_address(gate)
            return (nodes[source.address]["migrating"] ==
                    [{"slot": slot, "to": target_id, "to_address": target.address}] and
                    nodes[target.address]["importing"] ==
                    [{"slot": slot, "from": source_id, "from_address": source.address}])

        wait_until(shown, 10, f"slot {slot} migrating {source.address} -> {target.address} on /topology",
                   describe=lambda: json.dumps(topology(gate)["nodes"]))
    finally:
        source.call("CLUSTER", "SETSLOT", slot, "STABLE")
        target.call("CLUSTER", "SETSLOT", slot, "STABLE")
    wait_until(lambda: all(n["migrating"] == [] and n["importing"] == [] for n in by_address(gate).values()),
               10, "the migration gone from /topology after SETSLOT STABLE")


def keep_traffic_flowing(gate, cluster) -> None:
    """One SET per master, so a demoted master's MOVED makes slotgate refresh at once."""
    client = gate.client(socket_timeout=30)
    for keys in cluster.keys_on_each_master(n_per_master=1, prefix="mig-fo-traffic").values():
        for k in keys:
            client.set(k, "v")


def node_order(gate) -> list[str]:
    return [n["address"] for n in topology(gate)["nodes"]]


def check_migrations_both_ways_with_the_promoted(cluster, gate, promoted) -> None:
    """Once /topology shows `promoted` as a master: a migration from it and one into it show."""
    keep_traffic_flowing(gate, cluster)
    wait_until(lambda: by_address(gate)[promoted.address]["role"] == "master", 10,
               f"{promoted.address} a master on /topology")
    other = next(m for m in cluster.masters() if m.address != promoted.address)
    check_migration_is_reported(cluster, gate, promoted, other)
    check_migration_is_reported(cluster, gate, other, promoted)


@pytest.mark.slow
def test_after_cluster_failover_every_node_gives_the_same_topology_and_migrations_show(
        fresh_cluster, make_slotgate):
    """Each node lists the cluster in its own hash-table order. slotgate's view is in one
    canonical order whichever node answered, so /topology does not reshuffle (and the
    refresher does not publish a "new" view at every refresh) when another node answers,
    as after a failover; and the page reads a move's two ends from one stable list."""
    cluster = fresh_cluster()
    old_master = cluster.masters()[0]
    replica = cluster.replicas_of(old_master)[0]
    cluster.failover(replica, timeout=30)
    # One slotgate per seed: each startup view comes from that node's CLUSTER SHARDS.
    gates = [make_slotgate(seeds=[n.address]) for n in cluster.live_nodes()[:4]]
    gates.append(make_slotgate(seeds=cluster.seeds, config_text="cluster:\n  refresh_interval: 1s\n"))
    orders = {g.address: node_order(g) for g in gates}
    assert len({tuple(o) for o in orders.values()}) == 1, orders
    gate = gates[-1]
    check_migrations_both_ways_with_the_promoted(cluster, gate, replica)


@pytest.mark.slow
def test_migration_from_the_promoted_master_is_reported_after_kill_of_a_master(fresh_cluster, make_slotgate):
    cluster = fresh_cluster(node_timeout_ms=2000)
    gate = make_slotgate(seeds=cluster.seeds, config_text="cluster:\n  refresh_interval: 1s\n")
    old_master = cluster.masters()[0]
    replica = cluster.replicas_of(old_master)[0]
    cluster.kill(old_master)
    cluster.wait_promoted(replica, timeout=60)
    check_migrations_both_ways_with_the_promoted(cluster, gate, replica)
