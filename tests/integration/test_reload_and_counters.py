"""What SIGHUP says it applied is applied, and slotgate_commands_total counts what clients saw.

SIGHUP logs `cluster.seeds` and `cluster.refresh_interval` as applied: the topology
refresher must then discover the cluster through the new seeds and refresh at the new
interval (a seed list fixed after a typo must not need a restart).

`slotgate_commands_total{command,result}` is what an operator alerts on: an error reply
from a node is result="error" even when it is written at once (no earlier request in
flight), commands slotgate answers itself (PING, ECHO) are counted, and commands it
refuses (MONITOR, NOAUTH) are result="refused".
"""

from __future__ import annotations

import os
import signal
import uuid

from prometheus_client.parser import text_string_to_metric_families

from harness import http_get, wait_until

PORT_OFFSET = int(os.environ.get("SLOTGATE_TEST_PORT_OFFSET", "0"))
# This module's own slotgates (started without the harness's --listen/--admin flags).
BASE_PORT = 7540 + PORT_OFFSET
# Nothing listens here: a seed that never answers.
DEAD_SEED = f"127.0.0.1:{7549 + PORT_OFFSET}"


def config_text(seeds, port: int, admin: int, cluster_extra: str = "") -> str:
    return (f"listen: 127.0.0.1:{port}\n"
            f"workers: 2\n"
            f"admin:\n  listen: 127.0.0.1:{admin}\n"
            f"cluster:\n  seeds: [{', '.join(seeds)}]\n  failover_hold: 1s\n{cluster_extra}")


def metric(admin_port: int, sample_name: str, **labels) -> float:
    """Sum of the /metrics samples called sample_name whose labels include `labels`."""
    status, body = http_get(admin_port, "/metrics")
    assert status == 200, body[:300]
    total = 0.0
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            if s.name == sample_name and all(s.labels.get(k) == v for k, v in labels.items()):
                total += s.value
    return total


def commands_total(gate, command: str, result: str) -> float:
    return metric(gate.admin_port, "slotgate_commands_total", command=command, result=result)


def wait_commands_total(gate, command: str, result: str, at_least: float) -> float:
    # Workers publish their counters about once a second.
    last = [None]

    def check():
        last[0] = commands_total(gate, command, result)
        return last[0] >= at_least

    try:
        wait_until(check, 5, f"{command} result={result} counted", interval=0.2)
    except TimeoutError:
        raise AssertionError(f"slotgate_commands_total{{command={command!r},result={result!r}}} is "
                             f"{last[0]}, expected at least {at_least}") from None
    return last[0]


# -- SIGHUP: cluster.seeds and cluster.refresh_interval -----------------------------------------------


def test_sighup_with_new_seeds_discovers_the_cluster_through_them(cluster, file_gate):
    port, admin = BASE_PORT, BASE_PORT + 1
    gate = file_gate(config_text([DEAD_SEED], port, admin), port, admin)
    # Proves the check can fail: through the dead seed alone no slot map ever loads.
    assert http_get(admin, "/readyz")[0] == 503
    gate.rewrite_config(config_text(cluster.seeds, port, admin))
    gate.send_signal(signal.SIGHUP)
    wait_until(lambda: http_get(admin, "/readyz")[0] == 200, 5,
               "the slot map to load through the new seeds",
               describe=lambda: "--- slotgate log ---\n" + gate.log_tail(30))
    key = f"reload:{uuid.uuid4().hex}"
    with gate.raw() as conn:
        assert conn.command("SET", key, "v") == "OK"
        assert conn.command("GET", key) == b"v"


def test_sighup_with_a_shorter_refresh_interval_refreshes_at_the_new_interval(cluster, file_gate):
    port, admin = BASE_PORT + 2, BASE_PORT + 3
    gate = file_gate(config_text(cluster.seeds, port, admin, "  refresh_interval: 1h\n"), port, admin)
    periodic = lambda: metric(admin, "slotgate_topology_refreshes_total", trigger="periodic")  # noqa: E731
    wait_until(lambda: http_get(admin, "/readyz")[0] == 200, 5, "the slot map to load")
    assert periodic() == 0, "a periodic refresh ran although the interval is an hour"
    gate.rewrite_config(config_text(cluster.seeds, port, admin, "  refresh_interval: 200ms\n"))
    gate.send_signal(signal.SIGHUP)
    wait_until(lambda: periodic() >= 3, 5, "three periodic refreshes at the new 200 ms interval",
               describe=lambda: "--- slotgate log ---\n" + gate.log_tail(30))


# -- slotgate_commands_total ----------------------------------------------------------------------


def test_an_error_reply_written_at_once_counts_as_error(slotgate):
    key = f"counters:{uuid.uuid4().hex}"
    before = commands_total(slotgate, "incr", "error")
    ok_before = commands_total(slotgate, "incr", "ok")
    with slotgate.raw() as conn:
        assert conn.command("SET", key, "not-a-number") == "OK"
        for _ in range(5):
            reply = conn.command("INCR", key)  # one at a time: each reply is written in order
            assert str(reply).startswith("ERR"), reply
    wait_commands_total(slotgate, "incr", "error", before + 5)
    assert commands_total(slotgate, "incr", "ok") == ok_before


def test_commands_slotgate_answers_itself_are_counted(slotgate):
    before = commands_total(slotgate, "ping", "ok")
    echo_before = commands_total(slotgate, "echo", "ok")
    with slotgate.raw() as conn:
        for _ in range(4):
            assert conn.command("PING") == "PONG"
        assert conn.command("ECHO", "hi") == b"hi"
    wait_commands_total(slotgate, "ping", "ok", before + 4)
    wait_commands_total(slotgate, "echo", "ok", echo_before + 1)


def test_refused_commands_count_as_refused(slotgate):
    before = commands_total(slotgate, "monitor", "refused")
    with slotgate.raw() as conn:
        for _ in range(3):
            reply = conn.command("MONITOR")
            assert "not available through slotgate" in str(reply), reply
    wait_commands_total(slotgate, "monitor", "refused", before + 3)
