"""What one client can make slotgate hold in memory, and what happens to the others.

  * Before AUTH (when a password or users are configured) slotgate accepts only what
    AUTH/HELLO need, as redis-server does: at most 10 arguments of at most 16 KiB each.
    Anything bigger is answered with Redis's protocol error and the connection closes,
    without buffering what follows.
  * Replies held behind a pending request (a BLPOP in front of a pipeline) count against
    `clients.output_buffer_limit` like unsent output.
  * `clients.max_memory` bounds all clients' buffers together: above it the client using
    the most is closed, with a log line, `slotgate_client_evictions_total` and the
    `slotgate_client_memory_bytes` gauge on /metrics.
  * A client closed at its output limit never disturbs the replies of other clients.
  * A pipeline of commands slotgate answers itself (PING) is never stalled.
"""

import re
import socket
import threading
import time
import urllib.request
import uuid

import pytest

from harness import processes

from harness import RespError, encode_command

PASSWORD_CONFIG = "clients:\n  password: s3cret\n"


def prefix():
    return f"cm:{uuid.uuid4().hex[:10]}:"


def vm_kib(pid, field):
    return processes.proc_status_kib(pid, field)


def metric(gate, name):
    with urllib.request.urlopen(gate.admin_url("/metrics"), timeout=5) as r:
        text = r.read().decode()
    m = re.search(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M)
    assert m, f"{name} not on /metrics"
    return float(m.group(1))


def stream_until_closed(sock, total, chunk=1 << 20):
    """Send `total` bytes of payload; stop quietly when the peer closes. Returns bytes sent."""
    sent = 0
    block = b"x" * chunk
    try:
        while sent < total:
            sock.sendall(block)
            sent += len(block)
    except OSError:
        pass
    return sent


def read_until_closed(sock, timeout):
    """Everything the peer sends until it closes (or timeout); (bytes, closed)."""
    data = b""
    deadline = time.monotonic() + timeout
    sock.settimeout(0.2)
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            return data, True
        if not chunk:
            return data, True
        data += chunk
    return data, False


# ---- before AUTH ----------------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_unauthenticated_huge_bulk_is_refused_without_buffering(make_slotgate):
    gate = make_slotgate(config_text=PASSWORD_CONFIG)
    pid = gate.process.pid
    peak_before = vm_kib(pid, "VmHWM")
    sock = socket.create_connection((gate.host, gate.port), timeout=5)
    sock.sendall(b"*1\r\n$536870912\r\n")
    # 64 MiB of the announced 512 MiB: a baseline slotgate buffers all of it (and more).
    sender = threading.Thread(target=stream_until_closed, args=(sock, 64 << 20), daemon=True)
    sender.start()
    data, closed = read_until_closed(sock, timeout=10)
    sender.join(timeout=20)
    sock.close()
    grown_mib = (vm_kib(pid, "VmHWM") - peak_before) / 1024
    print(f"peak RSS grew by {grown_mib:.1f} MiB")
    assert grown_mib < 16, f"slotgate's peak RSS grew by {grown_mib:.0f} MiB for one stranger"
    assert data.startswith(b"-ERR Protocol error: unauthenticated bulk length\r\n"), data[:200]
    assert closed, "slotgate kept the connection of an unauthenticated 512 MB bulk open"
    # Everyone else is served as before.
    with gate.raw() as c:
        assert c.command("AUTH", "s3cret") == "OK"
        assert c.command("PING") == "PONG"


def test_unauthenticated_too_many_arguments_closed(make_slotgate):
    gate = make_slotgate(config_text=PASSWORD_CONFIG)
    with gate.raw() as c:
        c.send(encode_command("AUTH", *["a"] * 10))  # 11 arguments
        reply = c.read_reply()
        assert isinstance(reply, RespError)
        assert str(reply) == "ERR Protocol error: unauthenticated multibulk length"
        assert c.is_closed(timeout=2)
    # What AUTH and HELLO need still fits, and afterwards the normal limits apply.
    with gate.raw() as c:
        reply = c.command("HELLO", "3", "AUTH", "default", "s3cret", "SETNAME", "app")
        assert isinstance(reply, dict), reply
        key = prefix() + "big"
        value = b"v" * (1 << 20)
        assert c.command("SET", key, value) == "OK"
        assert c.command("GET", key) == value
        assert c.command("DEL", key) == 1
    # RESET goes back to the unauthenticated limits.
    with gate.raw() as c:
        assert c.command("AUTH", "s3cret") == "OK"
        assert c.command("RESET") == "RESET"
        c.send(b"*2\r\n$4\r\nECHO\r\n$100000\r\n")
        reply = c.read_reply()
        assert str(reply) == "ERR Protocol error: unauthenticated bulk length"
        assert c.is_closed(timeout=2)


# ---- held replies and the output buffer limit -----------------------------------------------


@pytest.mark.timeout(60)
def test_replies_held_behind_blpop_count_against_output_limit(make_slotgate):
    gate = make_slotgate(config_text="clients:\n  output_buffer_limit: 1mb\n")
    p = prefix()
    value = b"h" * (100 * 1024)
    with gate.raw() as setup:
        assert setup.command("SET", p + "v", value) == "OK"
    with gate.raw() as c:
        # BLPOP blocks; 100 GETs of 100 KB behind it wait for their turn: 10 MB held.
        c.send(encode_command("BLPOP", p + "list", "0") + encode_command("GET", p + "v") * 100)
        assert c.is_closed(timeout=5), \
            "10 MB of replies held behind a BLPOP did not trip a 1 MB output_buffer_limit"
    assert "output_buffer_limit" in gate.log_text()
    with gate.raw() as other:
        assert other.command("STRLEN", p + "v") == len(value)
        assert other.command("DEL", p + "v") == 1


@pytest.mark.timeout(120)
def test_output_limit_close_leaves_other_clients_whole(make_slotgate):
    gate = make_slotgate(config_text="clients:\n  output_buffer_limit: 100kb\n")
    p = prefix()
    big = b"B" * (200 * 1024)
    with gate.raw() as setup:
        assert setup.command("SET", p + "big", big) == "OK"
        for i in range(20):
            assert setup.command("SET", f"{p}k{i}", f"value-{i}") == "OK"

    stop = threading.Event()
    problems = []
    rounds = [0]

    def greedy():
        # Pipelines GETs of a 200 KB value: every connection trips the 100 KB limit.
        while not stop.is_set():
            try:
                with gate.raw() as c:
                    c.send(encode_command("GET", p + "big") * 20)
                    c.is_closed(timeout=2)
            except OSError:
                pass

    def polite(n):
        try:
            with gate.raw() as c:
                while not stop.is_set():
                    keys = [f"{p}k{(n + j) % 20}" for j in range(10)]
                    c.send(b"".join(encode_command("GET", k) for k in keys))
                    replies = c.read_replies(10, timeout=10)
                    want = [f"value-{(n + j) % 20}".encode() for j in range(10)]
                    if replies != want:
                        problems.append(f"client {n}: {replies!r} != {want!r}")
                        return
                    rounds[0] += 1
        except Exception as exc:  # noqa: BLE001 - any failure of a bystander is the bug
            problems.append(f"client {n}: {exc!r}")

    threads = [threading.Thread(target=greedy, daemon=True) for _ in range(2)]
    threads += [threading.Thread(target=polite, args=(n,), daemon=True) for n in range(4)]
    for t in threads:
        t.start()
    time.sleep(5)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert not problems, problems[:5]
    assert rounds[0] > 50, f"only {rounds[0]} rounds of plain GETs completed"
    assert gate.is_running()


# ---- the proxy-wide budget ------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_proxy_wide_client_memory_closes_the_biggest_client(make_slotgate):
    gate = make_slotgate(config_text="clients:\n  max_memory: 8mb\n")
    assert metric(gate, "slotgate_client_evictions_total") == 0
    p = prefix()
    # A modest client: 2 MB of a SET still arriving.
    modest = gate.raw()
    modest_value = b"m" * (3 << 20)
    modest.send(encode_command("SET", p + "modest", modest_value)[: (2 << 20)])
    deadline = time.monotonic() + 5
    while metric(gate, "slotgate_client_memory_bytes") < (2 << 20):
        assert time.monotonic() < deadline, "slotgate_client_memory_bytes never showed 2 MB"
        time.sleep(0.2)
    # The biggest client: 12 MB of a SET still arriving, over the 8 MB budget.
    greedy = socket.create_connection((gate.host, gate.port), timeout=5)
    greedy.sendall(b"*3\r\n$3\r\nSET\r\n$" + str(len(p) + 6).encode() + b"\r\n" +
                   (p + "greedy").encode() + b"\r\n$" + str(64 << 20).encode() + b"\r\n")
    stream_until_closed(greedy, 12 << 20, chunk=256 * 1024)
    _, closed = read_until_closed(greedy, timeout=5)
    greedy.close()
    assert closed, "the biggest client was not closed above clients.max_memory"
    assert "clients.max_memory" in gate.log_text()
    deadline = time.monotonic() + 5
    while metric(gate, "slotgate_client_evictions_total") < 1:
        assert time.monotonic() < deadline, "slotgate_client_evictions_total did not count it"
        time.sleep(0.2)
    # The modest client was not the biggest: it finishes its SET.
    modest.send(encode_command("SET", p + "modest", modest_value)[(2 << 20):])
    assert modest.read_reply(timeout=10) == "OK"
    assert modest.command("STRLEN", p + "modest") == len(modest_value)
    assert modest.command("DEL", p + "modest") == 1
    modest.close()
    deadline = time.monotonic() + 5
    while metric(gate, "slotgate_client_memory_bytes") > (1 << 20):
        assert time.monotonic() < deadline, "slotgate_client_memory_bytes did not go down"
        time.sleep(0.2)


# ---- local commands -------------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_100k_pipelined_pings_all_answered(make_slotgate):
    gate = make_slotgate(config_text="clients:\n  max_pipeline_size: 1mb\n  max_request_size: 512kb\n")
    n = 100_000
    sock = socket.create_connection((gate.host, gate.port), timeout=5)
    payload = b"*1\r\n$4\r\nPING\r\n" * n
    sender = threading.Thread(target=sock.sendall, args=(payload,), daemon=True)
    sender.start()
    want = b"+PONG\r\n" * n
    got = b""
    sock.settimeout(0.5)
    deadline = time.monotonic() + 20
    while len(got) < len(want) and time.monotonic() < deadline:
        try:
            chunk = sock.recv(1 << 20)
        except socket.timeout:
            continue
        if not chunk:
            break
        got += chunk
    sock.close()
    sender.join(timeout=5)
    assert got.count(b"+PONG\r\n") == n, f"{got.count(b'+PONG')} of {n} PINGs answered"
    assert got == want
