"""slotgate -> a TLS-only Redis Cluster (`cluster.tls`).

One module-wide 3x2 cluster started with --port 0 --tls-port P --tls-cluster yes
--tls-replication yes (ports 7610-7615 + offset, bus +10000) and certificates from a throw-away
CA (tests/harness/tls_certs.py). slotgate talks plain RESP to its clients and TLS to every
node: topology, shared, dedicated and subscriber connections.
"""

from __future__ import annotations

import os
import re
import shutil
import signal

import pytest
import redis

from harness import RedisCluster, Slotgate
from harness import processes
from harness.slotgate import http_get
from harness.tls_certs import node_pki

PORT_OFFSET = int(os.environ.get("SLOTGATE_TEST_PORT_OFFSET", "0"))
CLUSTER_PORT = 7610 + PORT_OFFSET
GATE_PORT = 7620 + PORT_OFFSET
WRONG_CA_GATE_PORT = 7622 + PORT_OFFSET
READ_FROM_GATE_PORT = 7806 + PORT_OFFSET  # and its admin port + 1


def metric(port, name_and_labels):
    _, text = http_get(port, "/metrics")
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(name_and_labels))


@pytest.fixture(scope="module")
def pki():
    yield from node_pki("slotgate-tls-cluster-", "cluster-ca", "redis-node")


@pytest.fixture(scope="module")
def tls_cluster(pki, logdir):
    c = RedisCluster(base_port=CLUSTER_PORT, node_timeout_ms=2000,
                     workdir=logdir / f"tls-cluster-{CLUSTER_PORT}",
                     tls={"ca": pki["ca"], "cert": pki["cert"], "key": pki["key"]})
    c.start()
    yield c
    c.stop(keep_workdir=True)


def gate_for(tls_cluster, logdir, port, ca, hold="20s", extra=""):
    config = f"""
cluster:
  failover_hold: {hold}{extra}
  tls:
    ca_file: {ca}
"""
    return Slotgate(tls_cluster.seeds, port=port, admin_port=port + 1, config_text=config,
                    workdir=logdir / f"slotgate-tls-cluster-{port}")


@pytest.fixture(scope="module")
def gate(tls_cluster, pki, logdir):
    sg = gate_for(tls_cluster, logdir, GATE_PORT, pki["ca"]).start()
    yield sg
    sg.stop()
    sg.cleanup(keep_workdir=True)


def test_the_cluster_under_test_refuses_plain_connections(tls_cluster):
    # The check below means something only if the nodes cannot be reached without TLS.
    with pytest.raises(redis.ConnectionError):
        redis.Redis(host="127.0.0.1", port=CLUSTER_PORT, socket_timeout=2).ping()


def test_keys_on_every_master_mget_and_pubsub_through_a_tls_cluster(gate, tls_cluster):
    c = gate.client()
    per_master = tls_cluster.keys_on_each_master(n_per_master=2, prefix="tlsc")
    keys = [k for ks in per_master.values() for k in ks]
    for k in keys:
        assert c.set(k, "v:" + k)
    for master, ks in per_master.items():
        assert master.client().get(ks[0]) == ("v:" + ks[0]).encode()  # it really is there
    assert c.mget(keys) == [("v:" + k).encode() for k in keys]
    big = os.urandom(1 << 20)
    assert c.set(keys[0], big) and c.get(keys[0]) == big
    sub = gate.client().pubsub()
    sub.subscribe("tlsc:chan")
    processes.wait_until(lambda: sub.get_message(timeout=0.2) is not None, 5, "subscribed")
    processes.wait_until(lambda: c.publish("tlsc:chan", "hello") >= 1, 5, "a subscriber counted")
    msg = processes.wait_until(lambda: sub.get_message(timeout=0.2), 5, "the message")
    assert msg["data"] == b"hello"
    sub.close()
    # A blocking command runs on a dedicated connection: TLS too.
    assert c.rpush("tlsc:list", "x") == 1
    assert c.blpop("tlsc:list", timeout=1) == (b"tlsc:list", b"x")


def test_slotgate_refuses_nodes_whose_certificate_another_ca_signed(tls_cluster, pki, logdir):
    # The CA file slotgate reads: the wrong one first, the right one after a SIGHUP.
    ca_file = os.path.join(pki["root"], "rotating-ca.crt")
    shutil.copy(pki["other_ca"], ca_file)
    sg = gate_for(tls_cluster, logdir, WRONG_CA_GATE_PORT, ca_file, hold="500ms")
    sg.start()
    try:
        processes.wait_until(lambda: "certificate verify failed" in sg.log_text(), 10,
                             "the refusal logged")
        with pytest.raises(redis.ResponseError):
            sg.client(socket_timeout=10).get("tlsc:anything")
        # The refusal is logged with the node and the reason class, and counted as a TLS
        # failure of that node (not as a network one).
        processes.wait_until(
            lambda: re.search(r"127\.0\.0\.1:\d+: TLS handshake failed \(verify\)",
                              sg.log_text()), 10, "the node's refusal logged")
        processes.wait_until(
            lambda: metric(sg.admin_port,
                           'slotgate_tls_handshake_failures_total{reason="verify",side="node"}') > 0
            and metric(sg.admin_port, 'slotgate_backend_errors_total{kind="tls"') > 0,
            10, "the node's refusal counted")
        assert metric(sg.admin_port, 'slotgate_backend_errors_total{kind="connection"') == 0
        # SIGHUP reads cluster.tls's files again: with the right CA in place, it serves.
        shutil.copy(pki["ca"], ca_file)
        sg.send_signal(signal.SIGHUP)

        def served():
            try:
                return sg.client(socket_timeout=5).set("tlsc:after-reload", "1")
            except redis.RedisError:
                return False

        processes.wait_until(served, 20, "served after the CA file was replaced and SIGHUP")
        assert "SIGHUP: cluster.tls files reloaded" in sg.log_text()
    finally:
        sg.stop()
        sg.cleanup(keep_workdir=True)


def get_calls(node):
    return int(node.client().info("commandstats").get("cmdstat_get", {}).get("calls", 0))


def test_reads_go_to_replicas_of_a_tls_cluster(tls_cluster, pki, logdir):
    # The replica monitor (which replicas may serve reads) polls the masters over TLS too.
    sg = gate_for(tls_cluster, logdir, READ_FROM_GATE_PORT, pki["ca"],
                  extra="\n  read_from: prefer-replica")
    sg.start()
    try:
        processes.wait_until(lambda: sg.log_text().count("serves reads") >= 3, 15,
                             "every replica seen serving reads")
        c = sg.client()
        per_master = tls_cluster.keys_on_each_master(n_per_master=2, prefix="tlsc:rf:")
        for ks in per_master.values():
            for k in ks:
                c.set(k, k)
        for m in tls_cluster.masters():
            tls_cluster.wait_replicated(m)
        before = {n.address: get_calls(n) for n in tls_cluster.nodes}
        for ks in per_master.values():
            for k in ks:
                assert c.get(k) == k.encode()
        for m in per_master:
            assert get_calls(m) == before[m.address], f"master {m.address} served reads"
        served = sum(get_calls(r) - before[r.address] for r in tls_cluster.replicas())
        assert served == sum(len(ks) for ks in per_master.values())
    finally:
        sg.stop()
        sg.cleanup(keep_workdir=True)
