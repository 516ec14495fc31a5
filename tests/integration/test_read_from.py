"""Reads from replicas (read_from): read-only commands go to replicas of the slot's master that are
in sync, writes and transactions stay on masters, and a replica that is down or lags is left out.

One cluster of 3 masters x 2 replicas and one slotgate (read_from: prefer-replica, one worker) are
shared by the module. Which node served a command is read from each node's INFO commandstats.
Ports (plus SLOTGATE_TEST_PORT_OFFSET): 7680-7688 the cluster, 7690/7691 slotgate.
"""
from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
from pathlib import Path

import pytest
import redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import FileConfiguredSlotgate, RawConnection, RedisCluster, http_get, wait_until  # noqa: E402

PORT_OFFSET = int(os.environ.get("SLOTGATE_TEST_PORT_OFFSET", "0"))
CLUSTER_BASE = 7680 + PORT_OFFSET
GATE_PORT, GATE_ADMIN = 7690 + PORT_OFFSET, 7691 + PORT_OFFSET


def gate_config(cluster: RedisCluster, read_from: str = "prefer-replica") -> str:
    seeds = ", ".join(cluster.seeds[:3])
    return (f"listen: 127.0.0.1:{GATE_PORT}\n"
            f"workers: 1\n"
            f"admin:\n  listen: 127.0.0.1:{GATE_ADMIN}\n"
            f"cluster:\n  seeds: [{seeds}]\n  read_from: {read_from}\n  max_replica_lag: 2s\n"
            # No periodic refresh during the module: a slot moved behind slotgate's back stays
            # unknown to it until a node says MOVED.
            f"  refresh_interval: 1h\n"
            f"  failover_hold: 5s\n"
            "clients:\n  password: dpw\n  users:\n"
            "    - {name: primary, password: pw, read_from: master}\n"
            "    - {name: strict, password: pw, read_from: replica}\n"
            "    - {name: near, password: pw, read_from: nearest}\n")


@pytest.fixture(scope="module")
def rcluster(logdir):
    c = RedisCluster(base_port=CLUSTER_BASE, masters=3, replicas_per_master=2,
                     extra_config=["--enable-debug-command yes"],  # DEBUG SLEEP makes a replica lag
                     workdir=logdir / f"cluster-{CLUSTER_BASE}-read-from")
    c.start()
    yield c
    c.stop(keep_workdir=True)


@pytest.fixture(scope="module")
def gate(rcluster, logdir):
    g = FileConfiguredSlotgate([], port=GATE_PORT, admin_port=GATE_ADMIN,
                               config_text=gate_config(rcluster),
                               workdir=logdir / f"slotgate-{GATE_PORT}-read-from")
    g.start()
    wait_serving_replicas(g, 6)
    yield g
    stopped_by_test = not g.is_running()
    code = g.stop()
    assert stopped_by_test or code in (0, None), f"{g} exited with {code}:\n{g.log_tail(40)}"
    for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
        assert marker not in g.log_text(), g.log_tail(120)


@pytest.fixture
def client(gate):
    c = redis.Redis(host="127.0.0.1", port=GATE_PORT, password="dpw", decode_responses=True,
                    socket_timeout=5)
    yield c
    c.close()


def topology(gate) -> dict:
    status, body = http_get(gate.admin_port, "/topology")
    assert status == 200, body
    return json.loads(body)


def serving(gate) -> set[str]:
    return {n["address"] for n in topology(gate)["nodes"]
            if n["role"] == "replica" and n.get("serves_reads")}


def wait_serving_replicas(gate, count: int, timeout: float = 15) -> None:
    wait_until(lambda: len(serving(gate)) == count, timeout, f"{count} replicas serving reads",
               describe=lambda: json.dumps(topology(gate)))


def reset_stats(cluster: RedisCluster) -> None:
    for n in cluster.live_nodes():
        n.call("CONFIG", "RESETSTAT")


def calls(node, command: str, field: str = "calls") -> int:
    stats = node.client().info("commandstats")
    return int(stats.get(f"cmdstat_{command}", {}).get(field, 0))


def keys_of(cluster: RedisCluster, master, n: int = 6) -> list[str]:
    out, i = [], 0
    while len(out) < n:
        key = f"rf:{i}"
        if cluster.master_for_key(key).port == master.port:
            out.append(key)
        i += 1
    return out


def write_and_replicate(cluster: RedisCluster, client, keys: list[str]) -> None:
    """Each key set to its own name, and on every replica before the test reads."""
    for k in keys:
        client.set(k, k)
    for m in cluster.masters():
        cluster.wait_replicated(m)


def read_lands_on_master(cluster: RedisCluster, client, key: str) -> bool:
    master = cluster.master_for_key(key)
    before = calls(master, "get")
    client.get(key)
    return calls(master, "get") > before


def test_reads_spread_over_the_replicas_and_writes_stay_on_the_masters(gate, rcluster, client):
    keys = [f"spread:{i}" for i in range(30)]
    write_and_replicate(rcluster, client, keys)
    reset_stats(rcluster)
    for _ in range(4):
        for k in keys:
            assert client.get(k) == k
    assert client.mget(keys) == keys  # split across slots: each part to a replica of its shard
    client.set("spread:after", "x")
    for m in rcluster.masters():
        assert calls(m, "get") == 0, f"master {m.address} served reads"
        assert calls(m, "mget") == 0, f"master {m.address} served MGET parts"
        assert calls(m, "set") == (1 if m is rcluster.master_for_key("spread:after") else 0)
        replicas = rcluster.replicas_of(m)
        assert len(replicas) == 2
        per_replica = [calls(r, "get") for r in replicas]
        # Round robin over the two replicas of each master: both serve about half.
        assert all(c > 0 for c in per_replica), f"replicas of {m.address}: {per_replica}"
        assert sum(calls(r, "mget") for r in replicas) > 0
    assert sum(calls(r, "get") for r in rcluster.replicas()) == 4 * len(keys)
    # Replica reads are visible per node in /metrics (published about once a second).
    replica = rcluster.replicas()[0].address

    def replica_requests_counted() -> bool:
        text = http_get(gate.admin_port, "/metrics")[1]
        return any(line.startswith(f'slotgate_backend_requests_total{{node="{replica}"}}')
                   and float(line.rsplit(" ", 1)[1]) > 0 for line in text.splitlines())
    wait_until(replica_requests_counted, 3, f"requests to replica {replica} in /metrics")


def test_replica_connections_send_readonly(gate, rcluster, client):
    client.get("handshake")
    for r in rcluster.replicas():
        clients = r.client().client_list()
        flagged = [c for c in clients if "r" in c["flags"] and c.get("cmd") != "client|list"]
        assert flagged, f"no READONLY connection on replica {r.address}: {clients}"


def test_reads_in_a_transaction_and_after_watch_see_the_masters_writes(gate, rcluster, client):
    key = "ryw:{t}"
    master = rcluster.master_for_key(key)
    reset_stats(rcluster)
    with client.pipeline(transaction=True) as p:
        p.set(key, "1").get(key).incr(key).get(key)
        assert p.execute() == [True, "1", 2, "2"]
    with client.pipeline(transaction=True) as p:
        p.get(key)  # a read-only transaction runs on the master too
        assert p.execute() == ["2"]
    assert calls(master, "exec") == 2
    with client.pipeline(transaction=True) as p:
        p.watch(key)
        assert p.get(key) == "2"  # immediate mode after WATCH: a read on the master
        p.multi()
        p.set(key, "3")
        assert p.execute() == [True]
    assert calls(master, "get") == 4  # 2 + 1 in the transactions, 1 after WATCH
    # (Replicas run the transactions' writes too, from the replication stream, but no GET.)
    assert all(calls(r, "get") == 0 for r in rcluster.replicas_of(master))
    assert client.get(key) == "3"


def test_a_user_with_read_from_master_reads_from_masters(gate, rcluster):
    c = redis.Redis(host="127.0.0.1", port=GATE_PORT, username="primary", password="pw",
                    decode_responses=True)
    keys = [f"user:{i}" for i in range(12)]
    for k in keys:
        c.set(k, k)
    reset_stats(rcluster)
    for k in keys:
        assert c.get(k) == k
    c.close()
    assert sum(calls(m, "get") for m in rcluster.masters()) == len(keys)
    assert sum(calls(r, "get") for r in rcluster.replicas()) == 0


def test_sighup_switches_read_from(gate, rcluster, client):
    keys = [f"hup:{i}" for i in range(12)]
    write_and_replicate(rcluster, client, keys)
    try:
        gate.rewrite_config(gate_config(rcluster, "master"))
        gate.send_signal(1)
        wait_until(lambda: read_lands_on_master(rcluster, client, keys[0]), 5,
                   "reads on the master after the reload")
        reset_stats(rcluster)
        for k in keys:
            assert client.get(k) == k
        assert sum(calls(m, "get") for m in rcluster.masters()) == len(keys)
    finally:
        gate.rewrite_config(gate_config(rcluster))
        gate.send_signal(1)
    wait_until(lambda: not read_lands_on_master(rcluster, client, keys[0]), 5,
               "reads on replicas again after the reload back")
    wait_serving_replicas(gate, 6)
    reset_stats(rcluster)
    for k in keys:
        assert client.get(k) == k
    assert sum(calls(m, "get") for m in rcluster.masters()) == 0


def test_nearest_prefers_the_node_that_answers_fastest(gate, rcluster):
    master = rcluster.masters()[2]
    keys = keys_of(rcluster, master)
    near = redis.Redis(host="127.0.0.1", port=GATE_PORT, username="near", password="pw",
                       decode_responses=True, socket_timeout=5)
    write_and_replicate(rcluster, near, keys)
    stop = threading.Event()

    def slow_down(node) -> None:
        # 100 ms stalls with short gaps: the replica keeps its link (and qualifies) but answers
        # late; the master answers at once. The gaps stay short (a probe landing in one makes
        # the replica look fast once), also on a busy sanitizer run.
        c = node.client()
        while not stop.is_set():
            c.execute_command("DEBUG", "SLEEP", "0.1")
            time.sleep(0.003)
    threads = [threading.Thread(target=slow_down, args=(r,)) for r in rcluster.replicas_of(master)]
    for t in threads:
        t.start()
    try:
        for _ in range(2):
            for k in keys:
                near.get(k)  # every node measured once
        reset_stats(rcluster)
        for _ in range(10):
            for k in keys:
                assert near.get(k) == k
    finally:
        stop.set()
        for t in threads:
            t.join()
        near.close()
    # Round robin would give the master a third; nearest gives it all but the re-measurements.
    assert calls(master, "get") >= 0.8 * 10 * len(keys)


def test_a_lagging_replica_is_left_out_until_it_catches_up(gate, rcluster, client):
    master = rcluster.masters()[0]
    sleeper = rcluster.replicas_of(master)[0]
    keys = keys_of(rcluster, master)
    write_and_replicate(rcluster, client, keys)
    # DEBUG SLEEP stops the replica (no replies, no acknowledgements to its master): its master
    # reports a growing lag. The command is sent without waiting for its reply.
    s = socket.create_connection((sleeper.host, sleeper.port))
    try:
        s.sendall(b"*3\r\n$5\r\nDEBUG\r\n$5\r\nSLEEP\r\n$1\r\n6\r\n")
        wait_until(lambda: sleeper.address not in serving(gate), 5.5,
                   f"replica {sleeper.address} to stop serving reads")
        # The replica still sleeps: a read sent to it would wait. Every read answers at once.
        started = time.monotonic()
        for _ in range(4):
            for k in keys:
                assert client.get(k) == k
        assert time.monotonic() - started < 1.0
    finally:
        s.close()
    wait_serving_replicas(gate, 6, timeout=15)


def test_replicas_killed_reads_fall_back_to_the_master_without_errors(gate, rcluster, client):
    master = rcluster.masters()[1]
    replicas = rcluster.replicas_of(master)
    keys = keys_of(rcluster, master)
    write_and_replicate(rcluster, client, keys)
    strict = redis.Redis(host="127.0.0.1", port=GATE_PORT, username="strict", password="pw",
                         decode_responses=True, socket_timeout=5)
    try:
        assert strict.get(keys[0]) == keys[0]
        for r in replicas:
            rcluster.kill(r)
        # From the kill on, prefer-replica reads never fail: in flight ones are retried, the
        # next ones go to the master once the replicas are down.
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            for k in keys:
                assert client.get(k) == k
        wait_until(lambda: not serving(gate) & {r.address for r in replicas}, 5,
                   "the killed replicas to stop serving reads")
        for k in keys:
            assert client.get(k) == k
        # read_from: replica never falls back to the master: a clear error instead.
        with pytest.raises(redis.ResponseError, match="no replica .* can serve reads"):
            strict.get(keys[0])
    finally:
        strict.close()
        for r in replicas:
            if not r.is_alive():
                rcluster.restart(r)
    rcluster.wait_ok()
    wait_serving_replicas(gate, 6, timeout=20)


def test_a_moved_from_a_replica_is_followed_to_the_slots_new_master(gate, rcluster, client):
    key = "moved:{replica}"
    slot = rcluster.keyslot(key)
    source = rcluster.master_for_slot(slot)
    target = next(m for m in rcluster.masters() if m.port != source.port)
    assert client.get(key) is None  # slotgate knows the slot on `source`
    rcluster.move_slot(slot, target)  # every node, replicas included, knows the new owner
    try:
        target.client().set(key, "moved")
        reset_stats(rcluster)
        # The read goes to a replica of the old owner, which answers MOVED to the new one.
        assert client.get(key) == "moved"
        assert calls(target, "get") == 1
        assert sum(calls(r, "get", "rejected_calls") for r in rcluster.replicas_of(source)) == 1
        assert calls(source, "get", "rejected_calls") == 0
    finally:
        target.client().delete(key)
        rcluster.move_slot(slot, source)


def test_a_tracking_sessions_reads_stay_on_the_masters(gate, rcluster):
    # Invalidations come from the masters: a read from a lagging replica right after one
    # would be cached stale with no invalidation to follow.
    keys = [f"trk:{i}" for i in range(12)]
    s = RawConnection("127.0.0.1", GATE_PORT)
    try:
        s.command("HELLO", "3", "AUTH", "default", "dpw")
        assert s.command("CLIENT", "TRACKING", "ON") == "OK"
        reset_stats(rcluster)
        for k in keys:
            s.command("GET", k)
        assert sum(calls(r, "get") for r in rcluster.replicas()) == 0
        assert sum(calls(m, "get") for m in rcluster.masters()) == len(keys)
    finally:
        s.close()
