"""Slots being migrated, on /topology and the page's slot map.

CLUSTER SHARDS does not report them; each master reports its own in its CLUSTER NODES
line ([slot->-id] migrating, [slot-<-id] importing), so slotgate's refresher asks each
master now and then and /topology lists them per node.
"""

from __future__ import annotations

import json
import urllib.request

from harness import wait_until


def topology(gate) -> dict:
    with urllib.request.urlopen(gate.admin_url("/topology"), timeout=5) as r:
        return json.loads(r.read())


def by_address(gate) -> dict[str, dict]:
    return {n["address"]: n for n in topology(gate)["nodes"]}


def test_topology_shows_slots_migrating_and_importing_between_masters(cluster, make_slotgate):
    gate = make_slotgate(seeds=cluster.seeds, config_text="cluster:\n  refresh_interval: 1s\n")
    source, target = cluster.masters()[0], cluster.masters()[1]
    slot = cluster.keyslot(cluster.keys_on_each_master(n_per_master=1, prefix="web-mig")[source][0])
    source_id = source.call("CLUSTER", "MYID")
    target_id = target.call("CLUSTER", "MYID")
    source_id = source_id.decode() if isinstance(source_id, bytes) else source_id
    target_id = target_id.decode() if isinstance(target_id, bytes) else target_id
    wait_until(lambda: by_address(gate)[source.address]["migrating"] == [], 5, "/topology with no migration")
    try:
        target.call("CLUSTER", "SETSLOT", slot, "IMPORTING", source_id)
        source.call("CLUSTER", "SETSLOT", slot, "MIGRATING", target_id)

        def shown() -> bool:
            nodes = by_address(gate)
            return (nodes[source.address]["migrating"] ==
                    [{"slot": slot, "to": target_id, "to_address": target.address}] and
                    nodes[target.address]["importing"] ==
                    [{"slot": slot, "from": source_id, "from_address": source.address}])

        wait_until(shown, 6, f"slot {slot} migrating {source.address} -> {target.address} on /topology",
                   describe=lambda: json.dumps(topology(gate)["nodes"]))
        others = [n for a, n in by_address(gate).items() if a not in (source.address, target.address)]
        assert all(n["migrating"] == [] and n["importing"] == [] for n in others), others
    finally:
        source.call("CLUSTER", "SETSLOT", slot, "STABLE")
        target.call("CLUSTER", "SETSLOT", slot, "STABLE")
    wait_until(lambda: all(n["migrating"] == [] and n["importing"] == [] for n in by_address(gate).values()),
               6, "the migration gone from /topology after SETSLOT STABLE")
