"""Clusters that announce hostnames (cluster-announce-hostname with
cluster-preferred-endpoint-type hostname), as Redis in Kubernetes often does: node
addresses in CLUSTER SHARDS and in MOVED are names that slotgate looks up itself.
The lookups run off the event loop, so a slow or dead DNS server for one node
never stalls the clients of the other nodes."""

from __future__ import annotations

import socket
import subprocess
import threading
import time

import pytest

from harness import RespError, wait_until
from harness.slotgate import default_binary

SLOW_NAME = "slow-node.slotgate-test"


def announce_hostnames(cluster, names: dict) -> None:
    """Every node announces names.get(node, "localhost"); waits until every node's
    CLUSTER SLOTS shows each master by its name."""
    for n in cluster.nodes:
        n.call("CONFIG", "SET", "cluster-announce-hostname", names.get(n, "localhost"))
        n.call("CONFIG", "SET", "cluster-preferred-endpoint-type", "hostname")
    expected = {m.port: names.get(m, "localhost") for m in cluster.masters()}

    def spread() -> bool:
        for n in cluster.nodes:
            for entry in n.call("CLUSTER", "SLOTS"):
                host, port = entry[2][0], entry[2][1]
                host = host.decode() if isinstance(host, bytes) else host
                if expected.get(int(port)) != host:
                    return False
        return True

    wait_until(spread, 30, "the announced hostnames to reach every node")


def test_routes_to_nodes_known_only_by_hostname(fresh_cluster, make_slotgate):
    cluster = fresh_cluster()
    announce_hostnames(cluster, {})
    sg = make_slotgate(seeds=[f"localhost:{cluster.masters()[0].port}"])
    keys = cluster.keys_on_each_master(2, prefix="hn")
    with sg.raw() as c:
        for master, ks in keys.items():
            for k in ks:
                assert c.command("SET", k, f"v-{k}") == "OK"
                assert c.command("GET", k) == f"v-{k}".encode()
                assert master.call("GET", k) == f"v-{k}"  # it went to the owner
        # A MOVED that names a host: move a slot under slotgate's feet.
        master, (key, _) = next(iter(keys.items()))
        target = next(m for m in cluster.masters() if m is not master)
        cluster.move_slot(cluster.keyslot(key), target)
        assert c.command("GET", key) == f"v-{key}".encode()
        # Dedicated connections (blocking commands) look the name up too.
        assert c.command("RPUSH", f"{{{key}}}:list", "x") == 1
        assert c.command("BLPOP", f"{{{key}}}:list", "1") == [f"{{{key}}}:list".encode(), b"x"]


@pytest.fixture
def black_hole_dns(tmp_path):
    """A resolv.conf whose only nameserver (127.0.0.1:53) receives queries and never
    answers, so every lookup that reaches DNS waits for the resolver's timeout."""
    if subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode != 0:
        pytest.skip("unshare -m is not allowed here (needed to give slotgate its own resolv.conf)")
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sink.bind(("127.0.0.1", 53))
    except OSError as exc:
        sink.close()
        pytest.skip(f"cannot bind 127.0.0.1:53 for a silent nameserver: {exc}")
    conf = tmp_path / "resolv.conf"
    conf.write_text("nameserver 127.0.0.1\noptions timeout:3 attempts:1\n")
    yield conf
    sink.close()


def test_a_slow_lookup_does_not_stall_other_clients(fresh_cluster, make_slotgate, black_hole_dns, tmp_path):
    cluster = fresh_cluster()
    slow_master = cluster.masters()[0]
    announce_hostnames(cluster, {slow_master: SLOW_NAME})
    # slotgate in its own mount namespace, where /etc/resolv.conf is the black hole;
    # "localhost" still comes from /etc/hosts at once.
    wrapper = tmp_path / "slotgate-in-namespace"
    wrapper.write_text("#!/bin/sh\n"
                       f"exec unshare -m sh -c 'mount --bind {black_hole_dns} /etc/resolv.conf && "
                       f"exec \"$0\" \"$@\"' {default_binary()} \"$@\"\n")
    wrapper.chmod(0o755)
    # A short hold: the slow node's request is held like one during a failover, then fails.
    sg = make_slotgate(seeds=cluster.seeds, workers=1, binary=wrapper,
                       config_text="cluster:\n  failover_hold: 4s\n")
    keys = cluster.keys_on_each_master(1, prefix="dns")
    (slow_key,) = keys[slow_master]
    fast_keys = [k for m, ks in keys.items() if m is not slow_master for k in ks]

    with sg.raw() as fast, sg.raw() as slow:
        for k in fast_keys:  # connections to the fast masters exist before the test
            assert fast.command("SET", k, "v") == "OK"
        slow.send_command("GET", slow_key)  # starts a lookup that takes the resolver's 3 s
        result = {}
        reader = threading.Thread(target=lambda: result.update(reply=slow.read_reply(timeout=20)))
        reader.start()
        worst = 0.0
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline:
            for k in fast_keys:
                t0 = time.monotonic()
                assert fast.command("GET", k, timeout=10) == b"v"
                worst = max(worst, time.monotonic() - t0)
        # A lookup on the worker's thread would hold these for the resolver's 3 s.
        assert worst < 0.5, f"a GET to another master took {worst:.2f}s during the lookup"
        reader.join(25)
        assert not reader.is_alive()
        # The slow node's own request fails with an error that says why.
        reply = result["reply"]
        assert isinstance(reply, RespError), reply
        print("reply for the slow node:", reply)
        assert SLOW_NAME in reply, reply
    # The operator sees why, once, not once per retry.
    warnings = [line for line in sg.log_tail(200).splitlines() if "cannot connect to cluster node" in line]
    assert warnings and "timeout looking up " + SLOW_NAME in warnings[0], sg.log_tail(60)
    assert len(warnings) == 1, warnings
