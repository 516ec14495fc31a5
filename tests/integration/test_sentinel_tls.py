"""backend.sentinel_tls: slotgate reaches Sentinels that listen on TLS only, with cluster.tls's
client context, for discovery (GET-MASTER-ADDR-BY-NAME, SENTINEL REPLICAS) and the event watch
(SUBSCRIBE +switch-master ...). The master, its replicas and the three Sentinels all run
--port 0 --tls-port P (tests/harness/sentinel.py, tls=...), so nothing works without TLS.

Ports (fixed, 9840-9869, apart from test_sentinel.py's 9800-9839): 9840 master, 9841/9842
replicas, 9850-9852 Sentinels, 9860/9861 slotgate, 9862/9863 slotgate with a wrong CA."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sys
from pathlib import Path

import pytest
import redis

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import FileConfiguredSlotgate, http_get, wait_until  # noqa: E402
from harness.sentinel import SentinelGroup  # noqa: E402
from harness.tls_certs import node_pki  # noqa: E402

BASE = 9840
GATE, ADMIN = 9860, 9861
BAD_GATE, BAD_ADMIN = 9862, 9863


@pytest.fixture(scope="module")
def pki():
    yield from node_pki("slotgate-sentinel-tls-", "sentinel-ca", "redis-sentinel")


@pytest.fixture(scope="module")
def group(pki, logdir):
    g = SentinelGroup(BASE, tls={"ca": pki["ca"], "cert": pki["cert"], "key": pki["key"]},
                      workdir=logdir / "sentinel-tls-group")
    g.start()
    yield g
    g.stop(keep_workdir=True)


def config(group: SentinelGroup, port: int, admin: int, ca: str, refresh: str) -> str:
    sentinels = ", ".join(group.sentinel_addresses)
    return (f"listen: 127.0.0.1:{port}\nworkers: 1\n"
            f"backend:\n  kind: sentinel\n  sentinels: [{sentinels}]\n"
            f"  master_name: {group.master_name}\n  sentinel_tls: true\n"
            f"cluster:\n  failover_hold: 15s\n  refresh_interval: {refresh}\n"
            f"  connect_timeout: 500ms\n  tls:\n    ca_file: {ca}\n"
            f"admin:\n  listen: 127.0.0.1:{admin}\n")


@pytest.fixture(scope="module")
def gate(group, pki, logdir):
    # A long refresh interval: after a failover slotgate must learn of the new master from the
    # Sentinels' events, i.e. from the TLS subscribers.
    g = FileConfiguredSlotgate([], port=GATE, admin_port=ADMIN,
                               config_text=config(group, GATE, ADMIN, pki["ca"], "60s"),
                               workdir=logdir / "slotgate-sentinel-tls")
    g.start()
    yield g
    code = g.stop()
    assert code in (0, None), g.log_tail(40)


def client(gate) -> redis.Redis:
    return redis.Redis(host="127.0.0.1", port=gate.port, socket_timeout=20, decode_responses=True)


def test_the_sentinel_group_refuses_plain_connections(group):
    # What follows proves TLS only if neither the Sentinels nor the nodes speak plain RESP.
    for port in (group.sentinel_ports[0], group.master_port()):
        with pytest.raises(redis.ConnectionError):
            redis.Redis(host="127.0.0.1", port=port, socket_timeout=2).ping()


def test_set_get_through_the_master_the_tls_sentinels_name(gate, group):
    c = client(gate)
    assert c.set("greeting", "hello")
    assert c.get("greeting") == "hello"
    master = group.master_port()
    assert group.client_for(master, decode_responses=True).get("greeting") == "hello"
    # The replicas come from SENTINEL REPLICAS over TLS.
    topo = json.loads(http_get(ADMIN, "/topology")[1])
    assert topo["backend"] == "sentinel", topo
    assert sorted(n["role"] for n in topo["nodes"]) == ["master", "replica", "replica"], topo
    # Every Sentinel's event subscriber is connected (none logged as not watched).
    assert "not watched" not in gate.log_text()


def test_sentinel_failover_is_followed_from_the_tls_event_watch(gate, group):
    group.wait_settled()
    old = group.master_port()
    new = group.failover()
    assert new != old
    # refresh_interval is 60s: only a Sentinel event (read over TLS) triggers the refresh.
    wait_until(lambda: "Sentinel event +switch-master" in gate.log_text(), 15,
               "slotgate to receive +switch-master from a TLS Sentinel")
    c = client(gate)

    def landed():
        try:
            c.set("after-failover", "yes")
        except redis.RedisError:
            return False
        return group.client_for(new, decode_responses=True).get("after-failover") == "yes"

    wait_until(landed, 20, f"writes through slotgate to land on the new master {new}")
    assert c.get("after-failover") == "yes"


def test_a_wrong_ca_keeps_slotgate_unready_names_the_sentinel_until_sighup_reloads_it(group, pki, logdir):
    # The CA file slotgate reads: the wrong one first, the right one after a SIGHUP.
    ca_file = os.path.join(pki["root"], "rotating-ca.crt")
    shutil.copy(pki["other_ca"], ca_file)
    g = FileConfiguredSlotgate([], port=BAD_GATE, admin_port=BAD_ADMIN,
                               config_text=config(group, BAD_GATE, BAD_ADMIN, ca_file, "2s"),
                               workdir=logdir / "slotgate-sentinel-tls-bad")
    g.start(wait=False)
    try:
        first = group.sentinel_addresses[0]
        wait_until(lambda: re.search(re.escape(first) + r": TLS handshake failed \(\w+", g.log_text()),
                   10, "slotgate to log the TLS failure of a Sentinel (discovery)")
        wait_until(lambda: re.search(r"Sentinel " + re.escape(first) + r" not watched: TLS handshake "
                                     r"failed", g.log_text()),
                   10, "slotgate to log the TLS failure of a Sentinel (event watch)")
        assert http_get(BAD_ADMIN, "/readyz")[0] == 503
        with pytest.raises(redis.RedisError):
            redis.Redis(host="127.0.0.1", port=BAD_GATE, socket_timeout=5).get("x")
        assert g.is_running()
        # SIGHUP reads cluster.tls's files again: discovery and the event subscribers use them.
        shutil.copy(pki["ca"], ca_file)
        g.send_signal(signal.SIGHUP)

        def served():
            try:
                return redis.Redis(host="127.0.0.1", port=BAD_GATE, socket_timeout=5).set("k", "1")
            except redis.RedisError:
                return False

        wait_until(served, 20, "served after the CA file was replaced and SIGHUP")
        assert http_get(BAD_ADMIN, "/readyz")[0] == 200
        wait_until(lambda: f"Sentinel {first} watched again" in g.log_text(), 10,
                   "the event subscriber to reconnect with the reloaded CA")
    finally:
        g.stop()
