"""Cluster-mode clients over TLS (`tls_listen` with the cluster emulation).

A session on the TLS listener is told the TLS ports in CLUSTER SLOTS/NODES/SHARDS (as Redis
with tls-cluster tells a TLS connection its tls-port), so redis-cli -c --tls, redis-py
RedisCluster(ssl=True) and ioredis Cluster with `tls` stay on TLS. One slotgate per module with
`emulated_nodes: 2`: plain 7800/7801, TLS 7802/7803, admin 7804 (plus the port offset), in
front of the session cluster. Certificates come from a throw-away CA (tests/harness/tls_certs.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import pytest
import redis
from redis.cluster import RedisCluster

from harness import Slotgate
from harness.tls_certs import make_ca

PORT_OFFSET = int(os.environ.get("SLOTGATE_TEST_PORT_OFFSET", "0"))
PLAIN_PORT = 7800 + PORT_OFFSET  # and PLAIN_PORT + 1 for the second emulated node
TLS_PORT = 7802 + PORT_OFFSET  # and TLS_PORT + 1
ADMIN_PORT = 7804 + PORT_OFFSET


@pytest.fixture(scope="module")
def ca():
    root = tempfile.mkdtemp(prefix="slotgate-tls-clients-")
    authority = make_ca(os.path.join(root, "ca"), "slotgate-cluster-clients-ca")
    server = authority.issue("slotgate", out="server")
    yield {"ca": authority.cert, "cert": server.cert, "key": server.key}
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def gate(cluster, ca, logdir):
    config = f"""
emulated_nodes: 2
tls_listen: 127.0.0.1:{TLS_PORT}
tls:
  cert_file: {ca["cert"]}
  key_file: {ca["key"]}
"""
    sg = Slotgate(cluster.seeds, port=PLAIN_PORT, admin_port=ADMIN_PORT, config_text=config,
                  workdir=logdir / f"slotgate-tls-clients-{PLAIN_PORT}")
    sg.start()
    yield sg
    sg.stop()
    sg.cleanup(keep_workdir=True)


def tls_conn(ca, port=TLS_PORT, **kw):
    return redis.Redis(host="127.0.0.1", port=port, ssl=True, ssl_ca_certs=ca["ca"],
                       socket_timeout=10, **kw)


def raw(client, *args):
    # The connection's own parser: no redis-py reply callbacks in between.
    conn = client.connection_pool.get_connection(args[0])
    try:
        conn.send_command(*args)
        return conn.read_response()
    finally:
        client.connection_pool.release(conn)


def slot_ports(reply):
    return [(r[0], r[1], r[2][0].decode(), r[2][1]) for r in reply]


def test_a_tls_session_is_told_the_tls_ports_and_a_plain_one_the_plain_ports(gate, ca):
    assert slot_ports(raw(tls_conn(ca), "CLUSTER", "SLOTS")) == [
        (0, 8191, "127.0.0.1", TLS_PORT), (8192, 16383, "127.0.0.1", TLS_PORT + 1)]
    plain = redis.Redis(host="127.0.0.1", port=PLAIN_PORT)
    assert slot_ports(raw(plain, "CLUSTER", "SLOTS")) == [
        (0, 8191, "127.0.0.1", PLAIN_PORT), (8192, 16383, "127.0.0.1", PLAIN_PORT + 1)]
    # The second TLS port is the second emulated node, on both sides with the same node ids.
    second = tls_conn(ca, port=TLS_PORT + 1)
    nodes = raw(second, "CLUSTER", "NODES").decode().splitlines()
    assert [n.split()[1] for n in nodes] == [f"127.0.0.1:{TLS_PORT}@{TLS_PORT + 10000}",
                                             f"127.0.0.1:{TLS_PORT + 1}@{TLS_PORT + 10001}"]
    assert "myself" in nodes[1].split()[2] and "myself" not in nodes[0]
    assert raw(second, "CLUSTER", "MYID") == raw(
        redis.Redis(host="127.0.0.1", port=PLAIN_PORT + 1), "CLUSTER", "MYID")
    # CLUSTER SHARDS, as Redis: "port" is the plain port, "tls-port" the TLS port.
    for client in (tls_conn(ca), plain):
        shards = raw(client, "CLUSTER", "SHARDS")
        node = dict(zip(shards[1][3][0][::2], shards[1][3][0][1::2]))
        assert node[b"port"] == PLAIN_PORT + 1 and node[b"tls-port"] == TLS_PORT + 1


def test_redis_py_redis_cluster_over_tls_writes_keys_on_every_master(gate, ca, cluster):
    rc = RedisCluster(host="127.0.0.1", port=TLS_PORT, ssl=True, ssl_ca_certs=ca["ca"],
                      socket_timeout=10)
    try:
        assert sorted(n.port for n in rc.get_nodes()) == [TLS_PORT, TLS_PORT + 1]
        per_master = cluster.keys_on_each_master(n_per_master=3, prefix="tlscc:py:")
        for master, keys in per_master.items():
            for k in keys:
                assert rc.set(k, "v:" + k)
            # It really is on that master of the real cluster.
            assert master.client().get(keys[0]) == ("v:" + keys[0]).encode()
        assert all(rc.get(k) == ("v:" + k).encode() for ks in per_master.values() for k in ks)
    finally:
        rc.close()


def redis_cli(ca, *args, port=TLS_PORT):
    return subprocess.run(["redis-cli", "--tls", "--cacert", ca["ca"], "-h", "127.0.0.1",
                           "-p", str(port), *args], capture_output=True, text=True, timeout=20)


def test_redis_cli_cluster_mode_over_tls(gate, ca, cluster):
    # --cluster check connects to every node CLUSTER NODES names: over TLS, so the ports
    # it is told must be TLS ports.
    out = redis_cli(ca, "--cluster", "check", f"127.0.0.1:{TLS_PORT}", port=TLS_PORT)
    assert "[OK] All 16384 slots covered." in out.stdout, out
    assert f"127.0.0.1:{TLS_PORT + 1}" in out.stdout, out
    per_master = cluster.keys_on_each_master(n_per_master=1, prefix="tlscc:cli:")
    for master, (key,) in per_master.items():
        out = redis_cli(ca, "-c", "SET", key, "cli", port=TLS_PORT + 1)
        assert out.stdout.strip() == "OK", out
        assert master.client().get(key) == b"cli"
        out = redis_cli(ca, "-c", "GET", key)
        assert out.stdout.strip() == "cli", out


def test_redis_benchmark_cluster_mode_over_tls_reaches_both_emulated_nodes(gate, ca):
    # redis-benchmark 7.0 --cluster reads CLUSTER NODES and opens connections to every master
    # it names, with TLS: both announced ports must be TLS ports.
    out = subprocess.run(["redis-benchmark", "--tls", "--cacert", ca["ca"], "--cluster",
                          "-h", "127.0.0.1", "-p", str(TLS_PORT), "-t", "set,get", "-n", "4000",
                          "-c", "4", "-r", "1000", "-q"],
                         capture_output=True, text=True, timeout=60)
    text = out.stdout + out.stderr
    print(text)  # the requests per second, shown with -s
    assert out.returncode == 0, text
    assert f"127.0.0.1:{TLS_PORT + 1}" in text, text
    assert "SET:" in text and "GET:" in text, text
