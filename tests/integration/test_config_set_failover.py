"""CONFIG SET through slotgate reaches every node and survives failovers.

Redis does not replicate CONFIG. Spring Data's @RedisHash(enableKeyspaceEvents) sets
notify-keyspace-events with one CONFIG SET at start-up; if only the masters had it, the
replica promoted by a failover would publish no keyspace events and the app would stop
hearing about expired keys. slotgate brings what every master accepted to the replicas at
once, and again to a node that is promoted, joins or comes back (a restarted node forgot it).
"""

from __future__ import annotations

import time

import pytest

from harness import wait_until
from harness.resp import RespError

KEA = set("AKE")  # what CONFIG GET answers after CONFIG SET notify-keyspace-events KEA


def notify_flags(node) -> set:
    value = node.client().config_get("notify-keyspace-events")["notify-keyspace-events"]
    return set(value)


def test_config_set_reaches_the_replicas(fresh_cluster, make_slotgate):
    cluster = fresh_cluster()
    gate = make_slotgate(seeds=cluster.seeds)
    with gate.raw() as c:
        assert c.command("CONFIG", "SET", "notify-keyspace-events", "KEA") == "OK"
    for m in cluster.masters():
        assert notify_flags(m) == KEA, m
    for r in cluster.replicas():
        wait_until(lambda r=r: notify_flags(r) == KEA, 10, f"notify-keyspace-events on replica {r.address}",
                   describe=lambda r=r: repr(notify_flags(r)))


def test_a_parameter_off_the_allow_list_is_refused_and_reaches_no_node(fresh_cluster, make_slotgate):
    cluster = fresh_cluster()
    gate = make_slotgate(seeds=cluster.seeds)
    before = {n.address: n.client().config_get("maxmemory-policy")["maxmemory-policy"] for n in cluster.live_nodes()}
    with gate.raw() as c:
        reply = c.command("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
        assert isinstance(reply, RespError) and "not allowed" in reply, reply
        # An allowed one afterwards is remembered alone.
        assert c.command("CONFIG", "SET", "notify-keyspace-events", "KEA") == "OK"
    for r in cluster.replicas():
        wait_until(lambda r=r: notify_flags(r) == KEA, 10, f"notify-keyspace-events on {r.address}")
    time.sleep(0.5)
    after = {n.address: n.client().config_get("maxmemory-policy")["maxmemory-policy"] for n in cluster.live_nodes()}
    assert after == before


def read_keyspace_event(sub, key: str, timeout: float) -> list:
    deadline = time.monotonic() + timeout
    frames = []
    while time.monotonic() < deadline:
        try:
            f = sub.read_reply(timeout=max(0.05, deadline - time.monotonic()))
        except TimeoutError:
            break
        frames.append(f)
        if f[0] == b"pmessage" and f[2] == b"__keyevent@0__:set" and f[3] == key.encode():
            return frames
    raise AssertionError(f"no keyspace event for {key} within {timeout:g}s; got {frames!r}")


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_keyspace_events_continue_on_the_promoted_replica_after_kill_of_a_master(fresh_cluster, make_slotgate):
    cluster = fresh_cluster(node_timeout_ms=2000)
    gate = make_slotgate(seeds=cluster.seeds, config_text="cluster:\n  failover_hold: 20s\n")
    with gate.raw() as c:
        assert c.command("CONFIG", "SET", "notify-keyspace-events", "KEA") == "OK"
    old_master = cluster.masters()[0]
    replica = cluster.replicas_of(old_master)[0]
    wait_until(lambda: notify_flags(replica) == KEA, 10, f"notify-keyspace-events on {replica.address}",
               describe=lambda: repr(notify_flags(replica)))
    cluster.kill(old_master)
    cluster.wait_promoted(replica, timeout=60)
    assert notify_flags(replica) == KEA
    key = cluster.keys_on_each_master(n_per_master=1, prefix="cfg-fo")[replica][0]
    with gate.raw() as sub, gate.raw() as pub:
        assert sub.command("PSUBSCRIBE", "__keyevent@*__:set") == [b"psubscribe", b"__keyevent@*__:set", 1]
        # The subscription's links to every master are made while the PSUBSCRIBE is answered;
        # a SET a moment later is reported by the promoted replica, now the key's master.
        deadline = time.monotonic() + 15
        while True:
            assert pub.command("SET", key, "v", timeout=25) == "OK"
            try:
                read_keyspace_event(sub, key, 1.0)
                break
            except AssertionError:
                if time.monotonic() > deadline:
                    raise
    # The old master comes back as a replica with its config file's settings only: slotgate
    # brings the remembered value to it too.
    cluster.restart(old_master)
    wait_until(lambda: notify_flags(old_master) == KEA, 20, f"notify-keyspace-events on the restarted {old_master.address}",
               describe=lambda: repr(notify_flags(old_master)))
