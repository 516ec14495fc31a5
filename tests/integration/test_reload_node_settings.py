"""A parameter taken off clients.config_set_allowed is forgotten at SIGHUP.

slotgate remembers what CONFIG SET every master accepted (notify-keyspace-events for an
app's keyspace events) and brings it to the replicas, and again to a node that is promoted,
joins or comes back. When the operator takes the parameter off the allow-list and sends
SIGHUP, clients can no longer set it — and slotgate must no longer push its old value to
the nodes either: a replica promoted afterwards keeps its own value.
"""

from __future__ import annotations

import json
import os
import signal
import time

from harness import http_get, wait_until

PORT_OFFSET = int(os.environ.get("SLOTGATE_TEST_PORT_OFFSET", "0"))
# This module's own slotgate (started from a file, so SIGHUP sees every key).
PORT, ADMIN = 7550 + PORT_OFFSET, 7551 + PORT_OFFSET


def config_text(seeds, allowed: list[str]) -> str:
    return (f"listen: 127.0.0.1:{PORT}\n"
            f"workers: 2\n"
            f"admin:\n  listen: 127.0.0.1:{ADMIN}\n"
            f"cluster:\n  seeds: [{', '.join(seeds)}]\n  refresh_interval: 300ms\n"
            f"clients:\n  config_set_allowed: [{', '.join(allowed)}]\n")


def notify_flags(node) -> str:
    return node.client().config_get("notify-keyspace-events")["notify-keyspace-events"]


def role_in_view(address: str) -> str:
    status, body = http_get(ADMIN, "/topology")
    if status != 200:
        return ""
    for node in json.loads(body)["nodes"]:
        if node["address"] == address:
            return node["role"]
    return ""


def test_a_parameter_taken_off_the_allow_list_is_not_reapplied_to_a_promoted_replica(fresh_cluster, file_gate):
    cluster = fresh_cluster()
    gate = file_gate(config_text(cluster.seeds, ["notify-keyspace-events"]), PORT, ADMIN)
    wait_until(lambda: http_get(ADMIN, "/readyz")[0] == 200, 10, "the slot map to load")
    master = cluster.masters()[0]
    replica = cluster.replicas_of(master)[0]
    with gate.raw() as c:
        assert c.command("CONFIG", "SET", "notify-keyspace-events", "KEA") == "OK"
    # Remembered: the replica gets it from slotgate.
    wait_until(lambda: set(notify_flags(replica)) == set("AKE"), 10,
               f"notify-keyspace-events on replica {replica.address}",
               describe=lambda: repr(notify_flags(replica)))

    gate.rewrite_config(config_text(cluster.seeds, ["maxmemory-policy"]))
    gate.send_signal(signal.SIGHUP)
    wait_until(lambda: "applied clients.config_set_allowed" in gate.log_text(), 5, "the reload",
               describe=lambda: gate.log_tail(20))

    def refused() -> bool:
        with gate.raw() as c:
            return "not allowed" in str(c.command("CONFIG", "SET", "notify-keyspace-events", "KEA"))

    # The workers take the new configuration on their next loop turn.
    wait_until(refused, 5, "CONFIG SET notify-keyspace-events to be refused after the reload")

    # The operator changes the replica's value directly, then it is promoted.
    replica.client().config_set("notify-keyspace-events", "")
    cluster.failover(replica)
    wait_until(lambda: role_in_view(replica.address) == "master", 10,
               f"slotgate to see {replica.address} promoted")
    # Several refreshes (every 300 ms) after the promotion: a remembered value would be back.
    for _ in range(15):
        assert notify_flags(replica) == "", \
            "slotgate re-applied a CONFIG SET parameter no longer on clients.config_set_allowed " \
            f"to the promoted {replica.address}"
        time.sleep(0.2)
    assert "forgot the remembered CONFIG SET notify-keyspace-events" in gate.log_text(), gate.log_tail(30)
