"""A slot migration's start and end on /events (and so in the page's event list).

slotgate asks each master for its own migrating/importing slots every few seconds; when a
move appears or goes away between two polls it records "migration_started" / "migration_finished"
with the slot, the source and the target, and who serves the slot afterwards.
"""

from __future__ import annotations

import json
import urllib.request

from harness import wait_until


def events(gate) -> list[dict]:
    with urllib.request.urlopen(gate.admin_url("/events"), timeout=5) as r:
        return json.loads(r.read())["events"]


def find(gate, kind: str, text: str):
    return next((e for e in events(gate) if e["kind"] == kind and text in e["message"]), None)


def node_id(node) -> str:
    i = node.call("CLUSTER", "MYID")
    return i.decode() if isinstance(i, bytes) else i


def test_slot_migration_start_and_end_are_events_naming_slot_source_and_target(cluster, make_slotgate):
    gate = make_slotgate(config_text="cluster:\n  refresh_interval: 1s\n")
    source, target = cluster.masters()[0], cluster.masters()[1]
    slot = cluster.keyslot(cluster.keys_on_each_master(n_per_master=1, prefix="mig-ev")[source][0])
    started = f"slot {slot} migrating from {source.address} to {target.address}"
    try:
        target.call("CLUSTER", "SETSLOT", slot, "IMPORTING", node_id(source))
        source.call("CLUSTER", "SETSLOT", slot, "MIGRATING", node_id(target))
        wait_until(lambda: find(gate, "migration_started", started), 10, f"a migration_started event: {started}",
                   describe=lambda: json.dumps(events(gate)))
    finally:
        source.call("CLUSTER", "SETSLOT", slot, "STABLE")
        target.call("CLUSTER", "SETSLOT", slot, "STABLE")
    finished = (f"slot {slot} no longer migrating from {source.address} to {target.address}; "
                f"served by {source.address}")
    wait_until(lambda: find(gate, "migration_finished", finished), 10, f"a migration_finished event: {finished}",
               describe=lambda: json.dumps(events(gate)))
    # One event per move, not one per poll or per end that reports it.
    assert len([e for e in events(gate) if e["kind"] == "migration_started"]) == 1, events(gate)
    assert len([e for e in events(gate) if e["kind"] == "migration_finished"]) == 1, events(gate)


def test_a_completed_move_ends_with_the_target_serving_the_slot(cluster, make_slotgate):
    gate = make_slotgate(config_text="cluster:\n  refresh_interval: 1s\n")
    source, target = cluster.masters()[0], cluster.masters()[1]
    slot = cluster.keyslot(cluster.keys_on_each_master(n_per_master=1, prefix="mig-ev2")[source][0])
    try:
        cluster.begin_migration(slot, target)
        wait_until(lambda: find(gate, "migration_started", f"slot {slot} migrating from {source.address}"), 10,
                   "a migration_started event", describe=lambda: json.dumps(events(gate)))
        cluster.migrate_keys(slot, target)
        cluster.finish_migration(slot, target)
        wait_until(lambda: find(gate, "migration_finished", f"slot {slot} no longer migrating from "
                                f"{source.address} to {target.address}; served by {target.address}"), 10,
                   "a migration_finished event naming the target as the new owner",
                   describe=lambda: json.dumps(events(gate)))
    finally:
        # Give the slot back so the shared cluster keeps its layout.
        if cluster.master_for_slot(slot) is target:
            cluster.move_slot(slot, source)
        else:
            source.call("CLUSTER", "SETSLOT", slot, "STABLE")
            target.call("CLUSTER", "SETSLOT", slot, "STABLE")
