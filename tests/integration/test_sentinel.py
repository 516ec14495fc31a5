"""backend.kind sentinel: slotgate asks three real Sentinels where the master of `mymaster` is,
confirms it with ROLE, and rides out SENTINEL FAILOVER, a kill -9 of the master, and the old
master coming back, with no acknowledged write lost or applied twice.

Ports (fixed, 9800-9839): 9800 master, 9801/9802 replicas, 9810-9812 Sentinels,
9820/9821 slotgate, 9822/9823 slotgate with a wrong Sentinel password."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import pytest
import redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import FileConfiguredSlotgate, http_get, wait_until  # noqa: E402
from harness.load import LoadGenerator, counter_problems  # noqa: E402
from harness.sentinel import SentinelGroup  # noqa: E402

BASE = 9800
GATE, ADMIN = 9820, 9821
BAD_GATE, BAD_ADMIN = 9822, 9823
PASSWORD = "backend-secret"
SENTINEL_PASSWORD = "sentinel-secret"
COUNTERS = [f"ctr:{i}" for i in range(16)]
PLAIN = [f"plain:{i}" for i in range(16)]


def sentinel_config(group: SentinelGroup, port: int, admin: int, sentinel_password: str) -> str:
    sentinels = ", ".join(group.sentinel_addresses)
    return (f"listen: 127.0.0.1:{port}\nworkers: 2\n"
            f"backend:\n  kind: sentinel\n  sentinels: [{sentinels}]\n  master_name: {group.master_name}\n"
            f"  sentinel_password: {sentinel_password}\n"
            f"cluster:\n  password: {PASSWORD}\n  failover_hold: 15s\n  refresh_interval: 2s\n"
            f"  connect_timeout: 500ms\n"
            f"admin:\n  listen: 127.0.0.1:{admin}\n")


@pytest.fixture(scope="module")
def group(logdir):
    g = SentinelGroup(BASE, password=PASSWORD, sentinel_password=SENTINEL_PASSWORD,
                      workdir=logdir / "sentinel-group")
    g.start()
    yield g
    g.stop(keep_workdir=True)


@pytest.fixture(scope="module")
def gate(group, logdir):
    g = FileConfiguredSlotgate([], port=GATE, admin_port=ADMIN,
                               config_text=sentinel_config(group, GATE, ADMIN, SENTINEL_PASSWORD),
                               workdir=logdir / "slotgate-sentinel")
    g.start()
    yield g
    code = g.stop()
    assert code in (0, None), g.log_tail(40)


def client(gate) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=gate.port, socket_timeout=20, decode_responses=True)


def run_load(gate, group, fault, settle: float = 2.0):
    """INCR/SET/GET load through slotgate around fault(); returns (load, report, problems)."""
    group.wait_settled()
    c = client(gate)
    c.delete(*COUNTERS, *PLAIN)
    load = LoadGenerator.through("127.0.0.1", gate.port, COUNTERS, PLAIN, clients=6, rate=150)
    load.start()
    time.sleep(1.0)
    fault()
    time.sleep(settle)
    load.stop()
    report = load.report()
    assert not load.crashes, load.crashes
    checks = load.check_counters(lambda k: (lambda v: None if v is None else int(v))(client(gate).get(k)))
    return load, report, counter_problems(checks)


def test_routing_auth_and_handshakes_reach_the_master_the_sentinels_name(gate, group):
    c = client(gate)
    assert c.set("greeting", "hello")
    master = group.master_port()
    assert group.client_for(master, decode_responses=True).get("greeting") == "hello"
    # Multi-key commands of any slots, transactions and SCAN pass through to the one master.
    c.mset({"a": "1", "b": "2", "c": "3"})
    assert c.mget("a", "b", "c") == ["1", "2", "3"]
    with c.pipeline(transaction=True) as p:
        p.incr("a").incr("b")
        assert p.execute() == [2, 3]
    assert {"a", "b", "c"} <= set(c.scan_iter(count=100))
    # Cluster-mode handshakes see one node owning every slot.
    assert c.execute_command("CLUSTER", "INFO").find("cluster_state:ok") >= 0
    slots = c.execute_command("CLUSTER", "SLOTS")
    assert slots[0][0] == 0 and slots[0][1] == 16383
    # /topology lists the master and the two replicas the Sentinels know.
    topo = json.loads(http_get(ADMIN, "/topology")[1])
    roles = sorted(n["role"] for n in topo["nodes"])
    assert topo["backend"] == "sentinel", topo
    assert roles == ["master", "replica", "replica"], topo
    # Pub/Sub reaches subscribers through slotgate.
    sub = client(gate).pubsub()
    sub.subscribe("news")
    wait_until(lambda: sub.get_message(timeout=0.5), 5, "subscribe confirmation")
    c.publish("news", "hi")
    msg = wait_until(lambda: sub.get_message(timeout=0.5), 5, "message")
    assert msg["data"] == "hi"
    sub.close()


def test_a_wrong_sentinel_password_is_a_clear_error_and_slotgate_stays_up(group, logdir):
    g = FileConfiguredSlotgate([], port=BAD_GATE, admin_port=BAD_ADMIN,
                               config_text=sentinel_config(group, BAD_GATE, BAD_ADMIN, "wrong"),
                               workdir=logdir / "slotgate-sentinel-bad")
    g.start(wait=False)
    try:
        wait_until(lambda: "WRONGPASS" in g.log_tail(50), 10, "slotgate to report the Sentinels' refusal")
        c = redis.Redis(host="127.0.0.1", port=BAD_GATE, socket_timeout=5)
        with pytest.raises(redis.ResponseError, match="cannot authenticate to the Sentinels"):
            c.get("x")
        assert g.is_running()
    finally:
        g.stop()


def test_sentinel_failover_under_load_loses_and_doubles_no_acknowledged_write(gate, group):
    old = group.master_port()
    load, report, problems = run_load(gate, group, lambda: group.failover(), settle=2.0)
    assert problems == [], (problems, report.summary())
    assert group.master_port() != old
    # Requests were held during the switch, not failed with READONLY.
    assert all("READONLY" not in s for s in report.error_samples), report.summary()
    assert report.ok > 0
    print(f"\nSENTINEL FAILOVER: {report.summary()}")


def test_a_blpop_blocked_through_a_sentinel_failover_moves_to_the_new_master(gate, group):
    # SENTINEL FAILOVER names a new master while the old one still runs as a master: the
    # Sentinels demote it only some 10 s later (and CLIENT KILL its clients), and a BLPOP left
    # blocked there waits for pushes that now go to the new master. slotgate ends that block on
    # the old master (CLIENT UNBLOCK: served or unblocked, never both) as soon as the Sentinels
    # name the new one, and runs the BLPOP there: a push after the failover serves it at once.
    old = group.wait_settled()
    blocker = client(gate)
    blocker.delete("queue")
    result = {}

    def block():
        try:
            result["reply"] = blocker.blpop(["queue"], timeout=0)
        except redis.RedisError as e:
            result["reply"] = e
    t = threading.Thread(target=block)
    t.start()
    wait_until(lambda: blocked_clients(group, old) == 1, 5, "BLPOP to block on the master")
    new = group.failover()
    wait_until(lambda: blocked_clients(group, new) == 1, 5, "BLPOP to block again on the new master")
    assert group.role(old) == "master", "the old master was demoted already: nothing was tested"
    assert blocked_clients(group, old) == 0
    assert client(gate).rpush("queue", "job") == 1
    t.join(10)
    assert result.get("reply") == ("queue", "job"), result
    assert client(gate).llen("queue") == 0
    group.wait_settled()


def blocked_clients(group, port: int) -> int:
    return int(group.client_for(port).info("clients")["blocked_clients"])


def test_kill9_of_the_master_holds_requests_until_the_promotion(gate, group):
    old = None

    def kill():
        nonlocal old
        old = group.kill_master()
        group.wait_new_master(old, timeout=20)

    load, report, problems = run_load(gate, group, kill, settle=1.5)
    assert problems == [], (problems, report.summary())
    # Held, then answered: only the writes in flight on the dead master may fail (outcome unknown).
    assert report.error_count <= 2 * load.n_clients, report.summary()
    assert report.max_latency < 15, report.summary()
    print(f"\nkill -9 master: {report.summary()}")

    # The old master comes back (as a master, empty: no persistence) and the Sentinels turn it
    # into a replica; slotgate never writes to it: the counters stay exact under load.
    new = group.master_port()

    def restart():
        group.restart(old)
        group.wait_replica_of(old, new)

    load, report, problems = run_load(gate, group, restart, settle=1.0)
    assert problems == [], (problems, report.summary())
    assert report.error_count == 0, report.summary()


def test_master_and_one_replica_down_the_last_replica_takes_over(gate, group):
    master = group.master_port()
    replica = next(r.port for r in group.redis if r.port != master and group.role(r.port) == "slave")

    def kill_two():
        group.redis_on(replica).node.process.kill()
        group.kill_master()
        group.wait_new_master(master, timeout=25)

    load, report, problems = run_load(gate, group, kill_two, settle=1.5)
    assert problems == [], (problems, report.summary())
    assert report.error_count <= 2 * load.n_clients, report.summary()
    print(f"\nmaster + replica down: {report.summary()}")
    new = group.master_port()
    group.restart(master)
    group.restart(replica)
    group.wait_replica_of(master, new)
    group.wait_replica_of(replica, new)


def test_a_readonly_reply_holds_the_write_until_the_master_is_a_master_again(gate, group):
    # The master turns replica behind the Sentinels' back: writes get -READONLY from it. slotgate
    # must not pass that on (the write did not run): it holds and re-checks ROLE until the node is
    # a master again, then the write is served.
    master = group.wait_settled()
    other = next(r.port for r in group.redis if r.port != master)
    c = client(gate)
    assert c.set("before", "1")
    group.client_for(master).execute_command("REPLICAOF", "127.0.0.1", str(other))
    try:
        started = time.monotonic()

        def restore():
            time.sleep(1.5)
            group.client_for(master).execute_command("REPLICAOF", "NO", "ONE")
        import threading
        t = threading.Thread(target=restore)
        t.start()
        assert c.incr("held-counter") == 1  # not ReadOnlyError
        waited = time.monotonic() - started
        t.join()
        assert waited >= 1.0, f"the write was served after {waited:.2f}s, while the node was a replica"
    finally:
        group.client_for(master).execute_command("REPLICAOF", "NO", "ONE")
    assert group.client_for(master, decode_responses=True).get("held-counter") == "1"
    group.client_for(other).execute_command("REPLICAOF", "127.0.0.1", str(master))
    group.wait_settled()


def test_read_from_replica_reads_from_the_replicas_the_sentinels_list(group, logdir):
    master = group.wait_settled()
    text = sentinel_config(group, BAD_GATE, BAD_ADMIN, SENTINEL_PASSWORD).replace(
        "cluster:\n", "cluster:\n  read_from: replica\n")
    g = FileConfiguredSlotgate([], port=BAD_GATE, admin_port=BAD_ADMIN, config_text=text,
                               workdir=logdir / "slotgate-sentinel-read-from")
    g.start()
    try:
        c = redis.Redis(host="127.0.0.1", port=BAD_GATE, socket_timeout=10)
        c.set("read-me", "1")

        def gets():
            return {r.port: int(group.client_for(r.port).info("commandstats").get("cmdstat_get", {}).get("calls", 0))
                    for r in group.redis}
        def replica_served():
            start = gets()
            c.get("read-me")
            end = gets()
            return end[master] == start[master] and sum(end.values()) > sum(start.values())
        # Replicas serve reads once the replica monitor has seen their links up.
        wait_until(replica_served, 10, "a read served by a replica")
        before = gets()
        for _ in range(60):
            assert c.get("read-me") == b"1"
        after = gets()
        assert after[master] == before[master], "reads reached the master"
        assert sum(after[p] - before[p] for p in after) >= 60
    finally:
        g.stop()
