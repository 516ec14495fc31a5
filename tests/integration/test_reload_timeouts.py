"""SIGHUP applies cluster.connect_timeout: to the topology refresher and to the data path.

The timeouts are logged as applied at SIGHUP, so they must reach the code that connects:
the topology refresher's control connections and the workers' backend connections. The
check needs a peer whose TCP connect hangs: a listening socket with backlog 0 that never
accepts, its accept queue filled, drops further SYNs, so a connect to it ends only at the
connector's timeout — like a node behind a dead LoadBalancer or a pod IP that vanished.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from harness import RespError, http_get, wait_until

PORT_OFFSET = int(os.environ.get("SLOTGATE_TEST_PORT_OFFSET", "0"))
# This module's own slotgates (started from a file, so SIGHUP sees every key).
BASE_PORT = 7552 + PORT_OFFSET


@pytest.fixture
def hanging_address():
    """host:port where connects hang until the connector gives up."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(2):  # backlog 0 holds one; the second waits in SYN state or is dropped
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(s)
    time.sleep(0.1)
    probe = socket.socket()
    probe.settimeout(0.5)
    try:
        with pytest.raises(socket.timeout):  # proves the peer hangs connects
            probe.connect(("127.0.0.1", port))
    finally:
        probe.close()
    yield f"127.0.0.1:{port}"
    for s in fillers:
        s.close()
    listener.close()


def config_text(seeds, port: int, admin: int, connect_timeout: str, extra: str = "") -> str:
    return (f"listen: 127.0.0.1:{port}\n"
            f"workers: 2\n"
            f"admin:\n  listen: 127.0.0.1:{admin}\n"
            f"cluster:\n  seeds: [{', '.join(seeds)}]\n  connect_timeout: {connect_timeout}\n{extra}")


def refreshes(admin: int, result: str) -> float:
    status, body = http_get(admin, "/metrics")
    assert status == 200, body[:300]
    return sum(s.value for f in text_string_to_metric_families(body) for s in f.samples
               if s.name == "slotgate_topology_refreshes_total" and s.labels.get("result") == result)


def reload(gate, text: str) -> None:
    gate.rewrite_config(text)
    gate.send_signal(signal.SIGHUP)
    wait_until(lambda: "applied cluster.connect_timeout" in gate.log_text(), 5, "the reload",
               describe=lambda: gate.log_tail(20))


def test_sighup_shorter_connect_timeout_reaches_the_topology_refresher(cluster, file_gate, hanging_address):
    port, admin = BASE_PORT, BASE_PORT + 1
    # Only the hanging seed: every refresh attempt waits the whole 4 s connect_timeout.
    gate = file_gate(config_text([hanging_address], port, admin, "4s"), port, admin)
    wait_until(lambda: refreshes(admin, "error") >= 1, 15, "the first refresh to give up")
    # Now the hanging seed first, then a real node, and 250 ms to connect.
    reload(gate, config_text([hanging_address, cluster.seeds[0]], port, admin, "250ms"))
    # The refresh running at the SIGHUP (if any) still waits its 4 s. The one after it tries
    # the hanging seed for 250 ms, then the real node: the slot map loads well within a
    # second of the last failed refresh. With the old timeout it takes 4 s more.
    last_error_at, errors = time.monotonic(), refreshes(admin, "error")
    deadline = time.monotonic() + 15
    while refreshes(admin, "ok") == 0:
        assert time.monotonic() < deadline, "no refresh succeeded:\n" + gate.log_tail(20)
        now_errors = refreshes(admin, "error")
        if now_errors != errors:
            last_error_at, errors = time.monotonic(), now_errors
        time.sleep(0.05)
    took = time.monotonic() - last_error_at
    assert took < 2.0, (f"the refresh after the SIGHUP took {took:.1f}s: the refresher still waits "
                        f"the old 4 s connect_timeout on the hanging seed")
    assert http_get(admin, "/readyz")[0] == 200


def view_roles(admin: int) -> dict:
    status, body = http_get(admin, "/topology")
    if status != 200:
        return {}
    return {n["address"]: n["role"] for n in json.loads(body)["nodes"]}


def test_sighup_shorter_connect_timeout_reaches_the_backend_connections(fresh_cluster, file_gate,
                                                                        hanging_address):
    cluster = fresh_cluster()
    master = cluster.masters()[0]
    key = cluster.keys_on_each_master(n_per_master=1, prefix="hang")[master][0]
    # The master announces the hanging port: the cluster (and slotgate's view) lists it there,
    # so the workers' connects to it hang until their connect_timeout.
    master.call("CONFIG", "SET", "cluster-announce-bus-port", str(master.port + 10000))
    master.call("CONFIG", "SET", "cluster-announce-port", hanging_address.rsplit(":", 1)[1])
    hang_port = hanging_address.rsplit(":", 1)[1]
    # Every node must list it there, or a refresh through a node that has not heard yet
    # brings the real port back.
    wait_until(lambda: all(f":{hang_port}@" in n.call("CLUSTER", "NODES") for n in cluster.live_nodes()), 20,
               "every node to see the announced port")
    seeds = [n.address for n in cluster.live_nodes() if n is not master]
    port, admin = BASE_PORT + 2, BASE_PORT + 3
    extra = "  failover_hold: 1s\n  refresh_interval: 1s\n"
    gate = file_gate(config_text(seeds, port, admin, "5s", extra), port, admin)
    wait_until(lambda: view_roles(admin).get(hanging_address) == "master", 20,
               f"slotgate's view to list the master at {hanging_address}",
               describe=lambda: repr(view_roles(admin)))
    reload(gate, config_text(seeds, port, admin, "300ms", extra))
    time.sleep(0.5)  # the workers take the new configuration on their next tick (100 ms)
    with gate.raw() as c:
        started = time.monotonic()
        reply = c.command("GET", key, timeout=20)
        took = time.monotonic() - started
    # 300 ms to give up connecting, then the 1 s failover hold: the client hears in ~1.5 s.
    # With the old 5 s connect_timeout the request waits 5 s before the hold even starts.
    assert isinstance(reply, RespError) and str(reply).startswith("CLUSTERDOWN"), reply
    assert took < 3.5, (f"GET to the unreachable master answered after {took:.1f}s: the backend "
                        f"connection still used the old 5 s connect_timeout")


def test_sighup_during_startup_is_applied_once_running(cluster, file_gate, hanging_address):
    """A SIGHUP that arrives while slotgate is still starting (here its first topology load
    waits on a seed that never answers) must not end the process, as the signal's default
    action would before the handler exists: it is held and applied once slotgate runs."""
    port, admin = BASE_PORT + 4, BASE_PORT + 5
    seeds = [hanging_address, cluster.seeds[0]]
    gate = file_gate(config_text(seeds, port, admin, "3s"), port, admin, start=False)
    gate.start(wait=False)
    time.sleep(0.7)  # well inside the first topology load: the hanging seed takes 3 s
    assert gate.process.poll() is None, gate.log_tail(20)
    assert "listening on" not in gate.log_text(), "startup ended before the signal: no race tested"
    gate.rewrite_config(config_text(seeds, port, admin, "1s"))
    gate.send_signal(signal.SIGHUP)
    wait_until(lambda: "applied cluster.connect_timeout" in gate.log_text() or gate.process.poll() is not None,
               15, "the reload held over startup", describe=lambda: gate.log_tail(20))
    assert gate.process.poll() is None, f"a SIGHUP during startup ended slotgate:\n{gate.log_tail(20)}"
    log = gate.log_text()
    assert log.index("listening on") < log.index("SIGHUP: applied cluster.connect_timeout"), log[-2000:]
    with gate.raw() as c:
        assert c.command("PING") == "PONG"
