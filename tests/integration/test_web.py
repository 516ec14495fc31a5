"""The admin status page and the JSON behind it, as an operator's browser sees them.

GET / is a page embedded in the binary (with /app.js and /style.css) under a strict
Content-Security-Policy; GET /events is the recent history of the cluster as slotgate
saw it (discovery, failovers, slots moving, nodes unreachable, SIGHUP reloads); GET
/stats is every slotgate_* series as JSON, the same values /metrics renders, including
how many requests are held now and for how long. (The page itself is driven in a real
browser by tests/web, a separate .ci/run step.)
"""

from __future__ import annotations

import json
import signal
import threading
import time
import urllib.error
import urllib.request

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from harness import wait_until


def get(gate, path: str, timeout: float = 5.0) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(gate.admin_url(path), timeout=timeout) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def get_json(gate, path: str):
    status, headers, body = get(gate, path)
    assert status == 200, f"GET {path}: {status} {body[:200]!r}"
    assert headers["content-type"] == "application/json", headers
    return json.loads(body)


def events(gate) -> list[dict]:
    return get_json(gate, "/events")["events"]


def find_event(gate, kind: str, text: str = "") -> dict | None:
    for e in events(gate):
        if e["kind"] == kind and text in e["message"]:
            return e
    return None


def test_admin_page_and_its_assets_are_served_from_the_binary(slotgate):
    status, headers, body = get(slotgate, "/")
    assert status == 200, body[:200]
    assert headers["content-type"] == "text/html; charset=utf-8"
    page = body.decode()
    assert '<script src="/app.js"></script>' in page and 'href="/style.css"' in page
    # The page may load only its own script and style and talk only to this port.
    csp = headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "connect-src 'self'" in csp
    assert headers["x-content-type-options"] == "nosniff"
    status, headers, script = get(slotgate, "/app.js")
    assert status == 200 and headers["content-type"] == "text/javascript; charset=utf-8"
    for endpoint in (b'"/topology"', b'"/stats"', b'"/events"'):
        assert endpoint in script, endpoint
    status, headers, style = get(slotgate, "/style.css")
    assert status == 200 and headers["content-type"] == "text/css; charset=utf-8"
    assert b"prefers-color-scheme: dark" in style
    # Nothing on the page writes: POST is refused like everywhere on the admin port.
    req = urllib.request.Request(slotgate.admin_url("/"), data=b"x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(req, timeout=5)
    assert refused.value.code == 405


def test_events_start_with_the_discovered_cluster(slotgate):
    doc = get_json(slotgate, "/events")
    assert doc["capacity"] >= 100
    first = doc["events"][0]
    assert first["kind"] == "discovered", doc
    assert "3 masters, 3 replicas, 16384/16384 slots" in first["message"]
    assert first["time"].endswith("Z") and abs(first["unix_ms"] / 1000 - time.time()) < 3600


def test_stats_json_has_every_series_of_metrics_with_the_same_values(slotgate):
    client = slotgate.client()
    for i in range(50):
        client.set(f"web-stats-{i}", i)
    # Wait for the workers' once-a-second publish, then compare a quiet snapshot.
    wait_until(lambda: get_json(slotgate, "/stats")["families"]["slotgate_commands_total"]["series"], 5,
               "commands to be published")
    time.sleep(1.2)
    stats = get_json(slotgate, "/stats")["families"]
    text = get(slotgate, "/metrics")[2].decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    names = {(n + "_total" if f.type == "counter" else n) for n, f in families.items()}
    assert set(stats) == names
    assert stats["slotgate_requests_held_now"]["series"][0]["value"] == 0
    sets = [s for s in stats["slotgate_commands_total"]["series"]
            if s["labels"] == {"command": "set", "result": "ok"}]
    from_text = [s.value for s in families["slotgate_commands"].samples
                 if s.name == "slotgate_commands_total" and s.labels == {"command": "set", "result": "ok"}]
    assert sets and sets[0]["value"] == from_text[0] >= 50
    hist = [s for s in stats["slotgate_command_duration_seconds"]["series"] if s["labels"] == {"command": "set"}][0]
    assert hist["buckets"][-1] == ["+Inf", hist["count"]] and hist["count"] >= 50


@pytest.mark.slow
def test_failover_appears_in_events_with_the_new_master(fresh_cluster, make_slotgate):
    cluster = fresh_cluster()
    gate = make_slotgate(seeds=cluster.seeds)
    old_master = cluster.masters()[0]
    replica = cluster.replicas_of(old_master)[0]
    cluster.failover(replica, timeout=30)
    # Traffic to the demoted master's slots gets MOVED, which makes slotgate refresh at once.
    client = gate.client()
    keys = cluster.keys_on_each_master(n_per_master=3, prefix="web-fo")
    t0 = time.monotonic()

    def seen() -> bool:
        for ks in keys.values():
            for k in ks:
                client.set(k, "v")
        return find_event(gate, "failover", replica.address) is not None

    wait_until(seen, 10, f"a failover event naming {replica.address}")
    print(f"failover event {time.monotonic() - t0:.2f}s after CLUSTER FAILOVER completed")
    event = find_event(gate, "failover", replica.address)
    assert f"(was replica of {old_master.address})" in event["message"], event
    assert find_event(gate, "demoted", old_master.address) is not None, events(gate)
    assert find_event(gate, "slots_moved", f"from {old_master.address} to {replica.address}") is not None
    topo = get_json(gate, "/topology")
    roles = {n["address"]: n["role"] for n in topo["nodes"]}
    assert roles[replica.address] == "master" and roles[old_master.address] == "replica"


def test_sighup_reload_is_recorded_as_an_event(cluster, make_slotgate):
    config = "log:\n  level: info\n"
    gate = make_slotgate(config_text=config)
    gate.send_signal(signal.SIGHUP)
    wait_until(lambda: find_event(gate, "config_reload", "unchanged") is not None, 5,
               "a config_reload event for an unchanged file")
    gate.config_path.write_text("log:\n  level: debug\n")
    gate.send_signal(signal.SIGHUP)
    wait_until(lambda: find_event(gate, "config_reload", "log.level: info -> debug") is not None, 5,
               "a config_reload event naming what was applied")


@pytest.mark.slow
def test_held_requests_show_in_stats_and_the_lost_master_in_events(fresh_cluster, make_slotgate):
    cluster = fresh_cluster(masters=3, replicas_per_master=0, node_timeout_ms=2000)
    gate = make_slotgate(seeds=cluster.seeds,
                         config_text="cluster:\n  failover_hold: 8s\n")
    victim = cluster.masters()[1]
    key = cluster.keys_on_each_master(n_per_master=1, prefix="web-held")[victim][0]
    client = gate.client(socket_timeout=20)
    client.set(key, "before")
    cluster.kill(victim)
    outcome: list = []

    def held_get():
        try:
            outcome.append(client.get(key))
        except redis.RedisError as e:
            outcome.append(e)

    t = threading.Thread(target=held_get, daemon=True)
    t.start()

    def held_for_a_while() -> bool:
        fam = get_json(gate, "/stats")["families"]
        held = sum(s["value"] for s in fam["slotgate_requests_held_now"]["series"])
        oldest = max([s["value"] for s in fam["slotgate_requests_held_oldest_seconds"]["series"]] or [0])
        return held >= 1 and oldest >= 1.0

    wait_until(held_for_a_while, 6, "slotgate_requests_held_now >= 1 with the oldest held >= 1 s")
    metrics = get(gate, "/metrics")[2].decode()
    assert "slotgate_requests_held_now 1" in metrics, metrics
    wait_until(lambda: find_event(gate, "node_unreachable", victim.address) is not None, 5,
               f"a node_unreachable event for {victim.address}")
    t.join(15)
    assert outcome and isinstance(outcome[0], redis.RedisError) and "CLUSTERDOWN" in str(outcome[0]), outcome
    # Once the hold gave up, nothing is held any more.
    wait_until(lambda: get_json(gate, "/stats")["families"]["slotgate_requests_held_now"]["series"][0]["value"] == 0,
               5, "the held gauge to drop back to 0")


def gauge(gate, name: str) -> float:
    for family in text_string_to_metric_families(get(gate, "/metrics")[2].decode()):
        for s in family.samples:
            if s.name == name:
                return s.value
    raise AssertionError(f"{name} not in /metrics")


def test_client_connections_limit_follows_max_clients_and_sighup(cluster, make_slotgate):
    # The "connections near max_clients" alert divides by this gauge.
    # The "memory near clients.max_memory" alert divides by the memory limit gauge.
    gate = make_slotgate(config_text="clients:\n  max_clients: 50\n  max_memory: 64mb\n")
    assert gauge(gate, "slotgate_client_connections_limit") == 50
    assert gauge(gate, "slotgate_client_memory_limit_bytes") == 64 << 20
    gate.config_path.write_text("clients:\n  max_clients: 60\n  max_memory: 80mb\n")
    gate.send_signal(signal.SIGHUP)
    wait_until(lambda: gauge(gate, "slotgate_client_connections_limit") == 60, 5,
               "the limit gauge to follow the reloaded max_clients")
    wait_until(lambda: gauge(gate, "slotgate_client_memory_limit_bytes") == 80 << 20, 5,
               "the memory limit gauge to follow the reloaded max_memory")


def test_topology_refresh_age_is_reset_by_every_successful_refresh(cluster, make_slotgate):
    # The view is rebuilt only when the topology looks different, so its age says little
    # about freshness; the refresh age is what says slotgate still hears from the cluster.
    gate = make_slotgate(config_text="cluster:\n  refresh_interval: 1s\n")
    time.sleep(3.5)
    assert gauge(gate, "slotgate_topology_refresh_age_seconds") < 2.5


def test_topology_shows_fresh_replication_offsets_for_the_lag(cluster, make_slotgate):
    # The page shows each replica's lag as its master's offset minus its own; the offsets
    # come from the latest refresh even when the slot map itself did not change.
    gate = make_slotgate(config_text="cluster:\n  refresh_interval: 1s\n")
    nodes = get_json(gate, "/topology")["nodes"]
    assert all(n.get("replication_offset", -1) >= 0 for n in nodes), nodes
    master = cluster.masters()[0]
    before = {n["address"]: n["replication_offset"] for n in nodes}[master.address]
    key = cluster.keys_on_each_master(n_per_master=1, prefix="web-lag")[master][0]
    gate.client().set(key, "x" * 10000)

    def grew() -> bool:
        now = {n["address"]: n["replication_offset"] for n in get_json(gate, "/topology")["nodes"]}
        return now[master.address] >= before + 10000

    wait_until(grew, 8, f"{master.address}'s replication offset in /topology to grow by the write")


def test_backend_connections_gauge_follows_the_connections_to_each_node(fresh_cluster, make_slotgate):
    # The page's "connections from this slotgate" per master.
    cluster = fresh_cluster(masters=3, replicas_per_master=0)
    gate = make_slotgate(seeds=cluster.seeds, workers=1)
    client = gate.client()
    keys = [k for ks in cluster.keys_on_each_master(n_per_master=2, prefix="web-conn").values() for k in ks]

    def per_node() -> dict[str, float]:
        text = get(gate, "/metrics")[2].decode()
        return {s.labels["node"]: s.value for f in text_string_to_metric_families(text)
                for s in f.samples if s.name == "slotgate_backend_connections"}

    for k in keys:
        client.set(k, "v")
    masters = {m.address for m in cluster.masters()}
    wait_until(lambda: {a: per_node().get(a) for a in masters} == {a: 1 for a in masters}, 5,
               "one connection per master (one worker)")
    for m in cluster.masters():
        m.call("CLIENT", "KILL", "TYPE", "normal")
    wait_until(lambda: all(per_node().get(a) == 0 for a in masters), 5, "the killed connections to count 0")
    for k in keys:
        client.set(k, "v")
    wait_until(lambda: all(per_node().get(a) == 1 for a in masters), 5, "the reconnections to count 1")
