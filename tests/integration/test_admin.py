"""The admin HTTP port, as Prometheus, a Kubernetes probe and an operator see it.

/metrics is read with Debian's python3-prometheus-client parser, the way a scraper
reads it: every family is named slotgate_*, counters end in _total, durations are
histograms in seconds, and the numbers move with the traffic that went through the
proxy (commands, open client connections, backend requests, MOVED redirections).
/healthz says the event loops run; /readyz says a full slot map is loaded, and it
must stay 200 while a failover hold keeps requests waiting (a probe that failed
then would make Kubernetes pull every slotgate out of its Service at the worst
moment). /topology is JSON an operator can read. Whatever arrives on the admin
port (garbage, huge heads, half requests) gets a 4xx and never disturbs clients
on the Redis port.
"""

from __future__ import annotations

import json
import signal
import socket
import threading
import time
import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families

from harness import key_slot, wait_until

# Metrics are published by each worker about once a second.
PUBLISH_WAIT_S = 5.0


# -- HTTP on a raw socket (so malformed requests can be sent too) ---------------------------------


def http_exchange(port: int, request: bytes, timeout: float = 5.0) -> tuple[int, dict, bytes]:
    """Send raw request bytes to the admin port, read until the server closes or one
    complete response with Content-Length is in; return (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before it read everything
        data = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            head_end = data.find(b"\r\n\r\n")
            if head_end != -1:
                headers = _headers(data[:head_end])
                length = int(headers.get("content-length", "-1"))
                if length >= 0 and len(data) >= head_end + 4 + length:
                    break
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
    head_end = data.find(b"\r\n\r\n")
    assert head_end != -1, f"no complete HTTP response head from admin port {port}: {data[:300]!r}"
    status_line = data[:data.find(b"\r\n")].decode()
    parts = status_line.split(" ", 2)
    assert parts[0].startswith("HTTP/1."), f"not an HTTP status line: {status_line!r}"
    return int(parts[1]), _headers(data[:head_end]), data[head_end + 4:]


def _headers(head: bytes) -> dict:
    out = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.decode(errors="replace").partition(":")
        out[name.strip().lower()] = value.strip()
    return out


def http_get(port: int, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
    status, _, body = http_exchange(
        port, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode(), timeout)
    return status, body


# -- metrics -----------------------------------------------------------------------------------------


def scrape(gate) -> dict:
    """Parse /metrics; returns {family name: Metric} (prometheus_client strips _total
    from counter family names)."""
    status, body = http_get(gate.admin_port, "/metrics")
    assert status == 200, body[:300]
    return {f.name: f for f in text_string_to_metric_families(body.decode())}


def sample_value(families: dict, sample_name: str, **labels) -> float:
    """Sum of the samples called sample_name whose labels include `labels` (0 if none)."""
    total = 0.0
    for family in families.values():
        for s in family.samples:
            if s.name == sample_name and all(s.labels.get(k) == v for k, v in labels.items()):
                total += s.value
    return total


def wait_metric(gate, sample_name: str, predicate, what: str, timeout: float = PUBLISH_WAIT_S, **labels):
    last = [None]

    def check():
        last[0] = sample_value(scrape(gate), sample_name, **labels)
        return predicate(last[0])

    try:
        wait_until(check, timeout, what, interval=0.2)
    except TimeoutError as exc:
        raise AssertionError(f"{what}: {sample_name}{labels or ''} is {last[0]}\n{exc}") from None
    return last[0]


def fresh_key(prefix: str = "admin") -> str:
    return f"{prefix}:{uuid.uuid4().hex}"


def test_metrics_are_prometheus_text_with_slotgate_names(slotgate):
    # Labelled families (commands by name, backends by node) appear with their first series.
    with slotgate.raw() as conn:
        assert conn.command("SET", fresh_key(), "v") == "OK"
    wait_metric(slotgate, "slotgate_commands_total", lambda v: v >= 1, "the first command counted",
                command="set")
    status, headers, body = http_exchange(
        slotgate.admin_port, b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 200
    assert headers.get("content-type", "").startswith("text/plain"), headers
    families = list(text_string_to_metric_families(body.decode()))
    assert len(families) >= 10, [f.name for f in families]
    for f in families:
        assert f.name.startswith("slotgate_"), f.name
        assert f.documentation, f"{f.name} has no HELP text"
        if f.type == "counter":
            for s in f.samples:
                assert s.name.endswith("_total"), f"counter sample {s.name} does not end in _total"
        if f.type == "histogram":
            assert f.name.endswith("_seconds"), f"histogram {f.name} is not in seconds"
    names = {f.name for f in families}
    for expected in ("slotgate_client_connections", "slotgate_commands", "slotgate_command_duration_seconds",
                     "slotgate_backend_requests", "slotgate_redirections", "slotgate_topology_refreshes",
                     "slotgate_topology_view_age_seconds", "slotgate_requests_held"):
        assert expected in names, f"{expected} missing from /metrics: {sorted(names)}"


def test_command_counters_and_latency_move_with_traffic(slotgate):
    before = scrape(slotgate)
    gets0 = sample_value(before, "slotgate_commands_total", command="get", result="ok")
    sets0 = sample_value(before, "slotgate_commands_total", command="set", result="ok")
    get_count0 = sample_value(before, "slotgate_command_duration_seconds_count", command="get")
    get_sum0 = sample_value(before, "slotgate_command_duration_seconds_sum", command="get")
    key = fresh_key()
    with slotgate.raw() as conn:
        for i in range(30):
            assert conn.command("SET", key, str(i)) == "OK"
        for _ in range(50):
            assert conn.command("GET", key) == b"29"
    wait_metric(slotgate, "slotgate_commands_total", lambda v: v >= gets0 + 50, "50 more ok GETs counted",
                command="get", result="ok")
    wait_metric(slotgate, "slotgate_commands_total", lambda v: v >= sets0 + 30, "30 more ok SETs counted",
                command="set", result="ok")
    after = scrape(slotgate)
    count = sample_value(after, "slotgate_command_duration_seconds_count", command="get") - get_count0
    total = sample_value(after, "slotgate_command_duration_seconds_sum", command="get") - get_sum0
    assert count >= 50
    # Seconds, not ms or µs: a GET on loopback takes well under a second and more than 0.
    assert 0 < total / count < 0.5, f"mean GET latency {total / count} is not in seconds"
    buckets = [s for s in after["slotgate_command_duration_seconds"].samples
               if s.name.endswith("_bucket") and s.labels.get("command") == "get"]
    bounds = sorted(float(s.labels["le"]) for s in buckets)
    assert bounds[0] <= 0.001 and bounds[-1] == float("inf") and bounds[-2] <= 60, bounds


def test_client_connections_gauge_follows_open_clients(slotgate):
    base = sample_value(scrape(slotgate), "slotgate_client_connections")
    accepted0 = sample_value(scrape(slotgate), "slotgate_client_connections_accepted_total")
    conns = [slotgate.raw() for _ in range(7)]
    try:
        for c in conns:
            assert c.command("PING") == "PONG"
        wait_metric(slotgate, "slotgate_client_connections", lambda v: v == base + 7,
                    "the gauge to count 7 more open clients")
        wait_metric(slotgate, "slotgate_client_connections_accepted_total", lambda v: v >= accepted0 + 7,
                    "7 more accepted connections")
    finally:
        for c in conns:
            c.close()
    wait_metric(slotgate, "slotgate_client_connections", lambda v: v == base,
                "the gauge to drop back once the clients closed")


@pytest.mark.timeout(120)
def test_moved_redirection_and_backend_requests_are_counted(fresh_cluster, make_slotgate):
    c = fresh_cluster(masters=3, replicas_per_master=0)
    # No periodic refresh during the test: slotgate learns about the move only from MOVED.
    gate = make_slotgate(seeds=c.seeds, config_text="cluster:\n  refresh_interval: 10m\n")
    key = fresh_key("moved")
    slot = key_slot(key)
    with gate.raw() as conn:
        assert conn.command("SET", key, "before-move") == "OK"
        source = c.master_for_slot(slot)
        target = next(m for m in c.masters() if m is not source)
        before = scrape(gate)
        moved0 = sample_value(before, "slotgate_redirections_total", kind="moved")
        to_target0 = sample_value(before, "slotgate_backend_requests_total", node=target.address)
        c.move_slot(slot, target)
        assert conn.command("GET", key) == b"before-move"
    wait_metric(gate, "slotgate_redirections_total", lambda v: v >= moved0 + 1, "a MOVED counted", kind="moved")
    wait_metric(gate, "slotgate_backend_requests_total", lambda v: v >= to_target0 + 1,
                f"a backend request to the new owner {target.address}", node=target.address)
    refreshes = sample_value(scrape(gate), "slotgate_topology_refreshes_total", result="ok")
    assert refreshes >= 1


# -- health and readiness ------------------------------------------------------------------------


def test_healthz_and_readyz_answer_200_while_serving(slotgate):
    status, body = http_get(slotgate.admin_port, "/healthz")
    assert status == 200 and b"ok" in body, (status, body)
    status, body = http_get(slotgate.admin_port, "/readyz")
    assert status == 200, body
    status, _, body = http_exchange(slotgate.admin_port, b"HEAD /readyz HTTP/1.1\r\nHost: x\r\n"
                                                         b"Connection: close\r\n\r\n")
    assert status == 200 and body == b""


def test_readyz_is_503_without_a_slot_map_but_healthz_is_200(make_slotgate):
    # Nothing listens on the seed: slotgate runs, but has no view of the cluster.
    dead_seed = f"127.0.0.1:{make_slotgate_unused_port()}"
    gate = make_slotgate(seeds=[dead_seed])
    status, body = http_get(gate.admin_port, "/readyz")
    assert status == 503, body
    assert b"not ready" in body and b"topology" in body, body
    assert http_get(gate.admin_port, "/healthz")[0] == 200
    status, body = http_get(gate.admin_port, "/topology")
    assert status == 503 and json.loads(body)["error"], body
    uncovered = sample_value(scrape(gate), "slotgate_slots_uncovered")
    assert uncovered == 16384


def make_slotgate_unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unready(gate):
    status, body = http_get(gate.admin_port, "/readyz")
    return (status, body) if status == 503 else None


def test_readyz_turns_503_during_drain(make_slotgate):
    gate = make_slotgate(config_text="shutdown_grace: 10s\n")
    assert http_get(gate.admin_port, "/readyz")[0] == 200
    with gate.raw() as busy:
        # A blocking command in flight keeps the drain going long enough to probe.
        busy.send_command("BLPOP", fresh_key("drain"), 3)
        time.sleep(0.2)
        gate.send_signal(signal.SIGTERM)
        status, body = wait_until(lambda: unready(gate), 2, "/readyz to answer 503 during the drain")
        assert b"shutting down" in body, body
        assert sample_value(scrape(gate), "slotgate_draining") == 1
        assert busy.read_reply(timeout=5) is None  # the BLPOP timed out normally
    assert gate.stop(timeout=10) == 0


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_readyz_stays_200_while_requests_are_held_in_a_failover(fresh_cluster, make_slotgate):
    c = fresh_cluster(masters=3, replicas_per_master=1)
    gate = make_slotgate(seeds=c.seeds, config_text="cluster:\n  failover_hold: 40s\n")
    key = fresh_key("hold")
    victim = c.master_for_key(key)
    with gate.raw() as conn:
        assert conn.command("SET", key, "kept") == "OK"
    c.wait_replicated(victim)  # the replica has the write before the crash
    held0 = sample_value(scrape(gate), "slotgate_requests_held_total")

    c.kill(victim)
    result: dict = {}

    def held_get():
        try:
            with gate.raw() as held:
                result["reply"] = held.command("GET", key, timeout=45)
        except Exception as exc:  # noqa: BLE001 - reported below
            result["error"] = exc
        result["done_at"] = time.monotonic()

    started = time.monotonic()
    t = threading.Thread(target=held_get, daemon=True)
    t.start()
    probes = []
    while t.is_alive() and time.monotonic() - started < 50:
        status, body = http_get(gate.admin_port, "/readyz", timeout=2)
        probes.append((round(time.monotonic() - started, 2), status, body))
        assert http_get(gate.admin_port, "/healthz", timeout=2)[0] == 200
        time.sleep(0.1)
    t.join(timeout=5)
    assert "error" not in result, f"held GET failed: {result.get('error')!r}\n{gate.log_tail(30)}"
    assert result.get("reply") == b"kept"
    held_for = result["done_at"] - started
    # The request really waited for the promotion (node timeout 5 s), probes ran meanwhile.
    assert held_for > 2, f"GET answered after {held_for:.1f}s: it was not held"
    bad = [p for p in probes if p[1] != 200]
    assert not bad, f"/readyz was not 200 during the hold: {bad[:5]} (of {len(probes)} probes)"
    wait_metric(gate, "slotgate_requests_held_total", lambda v: v >= held0 + 1, "the held request counted")


# -- topology -----------------------------------------------------------------------------------------


def test_topology_is_json_with_nodes_roles_slots_health_and_age(slotgate, cluster):
    status, headers, body = http_exchange(slotgate.admin_port,
                                          b"GET /topology HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 200
    assert headers.get("content-type", "").startswith("application/json"), headers
    doc = json.loads(body)
    assert doc["slots_covered"] == 16384
    assert isinstance(doc["age_seconds"], (int, float)) and 0 <= doc["age_seconds"] < 3600
    nodes = doc["nodes"]
    assert {n["address"] for n in nodes} == {n.address for n in cluster.nodes}
    masters = [n for n in nodes if n["role"] == "master"]
    replicas = [n for n in nodes if n["role"] != "master"]
    assert len(masters) == 3 and len(replicas) == 3, [(n["address"], n["role"]) for n in nodes]
    for n in nodes:
        assert n["health"] and isinstance(n["health"], str), n
        assert len(n["id"]) == 40, n
    for r in replicas:
        assert r["master_id"] in {m["id"] for m in masters}, r
        assert r["slots"] == [], r
    # The slot ranges are the cluster's own, and together cover every slot once.
    ours = sorted((first, last, n["address"]) for n in masters for first, last in n["slots"])
    assert ours == sorted(cluster.slot_ranges())
    assert sum(last - first + 1 for first, last, _ in ours) == 16384


# -- bad HTTP never disturbs the data path -------------------------------------------------------------


BAD_REQUESTS = [
    ("binary garbage", b"\x00\x01\x02GARBAGE\xff\r\n\r\n", {400}),
    ("not HTTP", b"PING\r\n\r\n", {400}),
    ("bad header line", b"GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n", {400}),
    ("huge header", b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n", {413}),
    ("huge url", b"GET /" + b"u" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", {413}),
    ("many headers", b"GET /metrics HTTP/1.1\r\n" + b"X-A: b\r\n" * 3000 + b"\r\n", {413}),
    ("huge declared body", b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n", {413}),
    ("huge chunked body", b"POST /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
     + (b"4000\r\n" + b"z" * 0x4000 + b"\r\n") * 8 + b"0\r\n\r\n", {413}),
]


@pytest.mark.parametrize("name,request_bytes,expected", BAD_REQUESTS, ids=[b[0] for b in BAD_REQUESTS])
def test_malformed_or_oversized_http_gets_4xx(slotgate, name, request_bytes, expected):
    status, _, _ = http_exchange(slotgate.admin_port, request_bytes)
    assert status in expected, f"{name}: got {status}"
    assert http_get(slotgate.admin_port, "/healthz")[0] == 200


def test_unknown_path_is_404_and_post_is_405(slotgate):
    assert http_get(slotgate.admin_port, "/nope")[0] == 404
    status, headers, _ = http_exchange(slotgate.admin_port,
                                       b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                                       b"Connection: close\r\n\r\n")
    assert status == 405 and "GET" in headers.get("allow", ""), (status, headers)


@pytest.mark.timeout(90)
def test_abuse_of_the_admin_port_does_not_disturb_redis_clients(slotgate):
    stop = threading.Event()
    sent = {"requests": 0, "statuses": set()}
    stalled = []

    def abuse():
        i = 0
        while not stop.is_set():
            _, request_bytes, _ = BAD_REQUESTS[i % len(BAD_REQUESTS)]
            try:
                status, _, _ = http_exchange(slotgate.admin_port, request_bytes, timeout=5)
                sent["statuses"].add(status)
            except (OSError, AssertionError):
                pass  # a reset is an acceptable answer to abuse; the point is the data path
            sent["requests"] += 1
            i += 1

    def slowloris():
        # Half-finished requests that are never completed.
        while not stop.is_set():
            try:
                s = socket.create_connection(("127.0.0.1", slotgate.admin_port), timeout=2)
                s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                stalled.append(s)
            except OSError:
                pass
            if len(stalled) >= 50:
                stop.wait(0.5)
            else:
                stop.wait(0.02)

    threads = [threading.Thread(target=abuse, daemon=True) for _ in range(2)]
    threads.append(threading.Thread(target=slowloris, daemon=True))
    for t in threads:
        t.start()
    worst = 0.0
    try:
        key = fresh_key("abuse")
        with slotgate.raw() as conn:
            deadline = time.monotonic() + 4
            n = 0
            while time.monotonic() < deadline:
                t0 = time.monotonic()
                assert conn.command("SET", key, str(n)) == "OK"
                assert conn.command("GET", key) == str(n).encode()
                worst = max(worst, time.monotonic() - t0)
                n += 1
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=10)
        for s in stalled:
            s.close()
    assert sent["requests"] >= 20, sent
    assert sent["statuses"] <= {400, 413}, sent["statuses"]
    assert n >= 100, f"only {n} SET+GET round trips in 4 s while the admin port was abused"
    assert worst < 1.0, f"a SET+GET took {worst:.3f}s while the admin port was abused"
    assert http_get(slotgate.admin_port, "/healthz")[0] == 200
    assert http_get(slotgate.admin_port, "/readyz")[0] == 200
