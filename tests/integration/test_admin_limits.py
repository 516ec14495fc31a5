"""The admin port cannot be starved or made to hoard memory, and shows less by default.

The kubelet's liveness probe opens a new connection to /healthz every few seconds; if
it is refused the pod is restarted. So idle or stalled connections (keep-alive
scrapers, port scanners, a hostile client on the pod network) must never use up the
admin server's connection slots: idle connections are closed after a few seconds, and
when the server is full the connection that has made no progress for longest gives
way to the new one. A client that pipelines requests without reading its answers
holds at most one answer in slotgate's memory. Without a config file the admin port
listens on loopback only, and /topology (the cluster's layout) can be turned off.
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import threading
import time

import pytest

from harness import processes

from test_admin import http_get, make_slotgate_unused_port

PORT_OFFSET = int(os.environ.get("SLOTGATE_TEST_PORT_OFFSET", "0"))


def dead_seed() -> str:
    return f"127.0.0.1:{make_slotgate_unused_port()}"


def rss_bytes(pid: int) -> int:
    return processes.proc_status_kib(pid, "VmRSS") * 1024


def closed_by_server(sock: socket.socket) -> bool:
    """True if the server has closed this connection (EOF or reset), without blocking."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        if not readable:
            return False
        return sock.recv(65536, socket.MSG_PEEK) == b""
    except OSError:
        return True


def open_idle_connections(port: int, count: int, keep_alive_request: bool) -> list[socket.socket]:
    """count connections to the admin port; with keep_alive_request each first completes a
    keep-alive GET /healthz (a scraper between scrapes), else it sends nothing at all."""
    out = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        if keep_alive_request:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            data = b""
            while b"ok\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        out.append(s)
    return out


def wait_closed(sock: socket.socket, timeout: float) -> float | None:
    """Seconds until the server closed sock, or None if it is still open after timeout."""
    t0 = time.monotonic()
    sock.settimeout(0.2)
    while time.monotonic() - t0 < timeout:
        try:
            if sock.recv(65536) == b"":
                return time.monotonic() - t0
        except socket.timeout:
            continue
        except OSError:
            return time.monotonic() - t0
    return None


def test_admin_probes_answered_with_64_idle_connections(make_slotgate):
    gate = make_slotgate(seeds=[dead_seed()])
    idle: list[socket.socket] = []
    stop = threading.Event()

    def keep_80_idle_connections_open():
        # The attacker: reopens any connection the server closed, every 100 ms.
        while not stop.is_set():
            for i, s in enumerate(idle):
                if closed_by_server(s):
                    s.close()
                    try:
                        idle[i] = socket.create_connection(("127.0.0.1", gate.admin_port), timeout=2)
                    except OSError:
                        pass
            stop.wait(0.1)

    try:
        idle += open_idle_connections(gate.admin_port, 40, keep_alive_request=True)
        idle += open_idle_connections(gate.admin_port, 40, keep_alive_request=False)
        attacker = threading.Thread(target=keep_80_idle_connections_open, daemon=True)
        attacker.start()
        failures = []
        # Longer than the idle timeout, so probes are also answered while the server
        # closes idle connections and the attacker reopens them.
        deadline = time.monotonic() + 7
        probes = 0
        while time.monotonic() < deadline:
            try:
                status, body = http_get(gate.admin_port, "/healthz", timeout=2)
                if status != 200:
                    failures.append(f"probe {probes}: {status} {body!r}")
            except (OSError, AssertionError) as exc:
                failures.append(f"probe {probes}: {type(exc).__name__}: {exc}")
            probes += 1
            time.sleep(0.25)
        assert not failures, f"{len(failures)} of {probes} /healthz probes failed with 80 idle " \
                             f"connections open:\n" + "\n".join(failures[:10])
    finally:
        stop.set()
        for s in idle:
            s.close()


def test_admin_idle_keepalive_connection_times_out(make_slotgate):
    gate = make_slotgate(seeds=[dead_seed()])
    [keep_alive] = open_idle_connections(gate.admin_port, 1, keep_alive_request=True)
    [silent] = open_idle_connections(gate.admin_port, 1, keep_alive_request=False)
    try:
        after = wait_closed(keep_alive, timeout=8)
        assert after is not None and after < 7, \
            f"an idle keep-alive admin connection was not closed within 7 s (closed after {after})"
        # The silent one was opened at the same time: it is gone by now too.
        assert wait_closed(silent, timeout=1) is not None, "a connection that never sent a request stays open"
        # A keep-alive client that keeps asking is not cut off by the idle timeout.
        [busy] = open_idle_connections(gate.admin_port, 1, keep_alive_request=True)
        busy.settimeout(5)
        for _ in range(4):
            time.sleep(2)
            busy.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert b"200 OK" in busy.recv(4096)
        busy.close()
    finally:
        keep_alive.close()
        silent.close()


def rss_measurable_env() -> dict | None:
    """Under AddressSanitizer freed memory waits in a 256 MiB quarantine before it is reused,
    so RSS grows with allocation churn alone; a small quarantine keeps RSS a measure of what
    slotgate holds. None (the inherited environment) for a plain build."""
    opts = os.environ.get("ASAN_OPTIONS")
    return None if opts is None else {"ASAN_OPTIONS": opts + ":quarantine_size_mb=4"}


def test_admin_pipelined_requests_without_reading_stay_bounded(make_slotgate):
    gate = make_slotgate(seeds=[dead_seed()], env=rss_measurable_env())
    pid = gate.process.pid
    status, body = http_get(gate.admin_port, "/metrics")
    assert status == 200 and len(body) > 1000, body[:200]
    before = rss_bytes(pid)
    limit = 64 << 20
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", gate.admin_port))
    s.setblocking(False)
    request = b"GET /metrics HTTP/1.1\r\n\r\n" * 64
    sent = 0
    grew = 0
    try:
        # Never read. Stop after 4 s, or once slotgate has grown past the limit.
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline:
            try:
                sent += s.send(request)
            except BlockingIOError:
                select.select([], [s], [], 0.05)
            except OSError:
                break  # closed by the server: also bounded
            grew = rss_bytes(pid) - before
            if grew > limit:
                break
        grew = max(grew, rss_bytes(pid) - before)
        print(f"slotgate RSS grew {grew / 2**20:.1f} MiB for {sent // 25} pipelined unread GET /metrics")
        assert grew < 32 << 20, \
            f"slotgate grew by {grew >> 20} MiB for a client that pipelined {sent // 25} " \
            f"GET /metrics without reading"
        # Other admin clients are still served meanwhile.
        assert http_get(gate.admin_port, "/healthz", timeout=3)[0] == 200
    finally:
        s.close()
    assert gate.is_running()


def test_admin_default_bind_is_loopback(logdir, tmp_path):
    # Without --admin and without a config file: the built-in default.
    port = 7438 + PORT_OFFSET
    processes.check_ports_free("127.0.0.1", [port, 9121])
    log = tmp_path / "slotgate.log"
    from harness.slotgate import default_binary
    argv = [str(default_binary()), "--listen", f"127.0.0.1:{port}", "--seed", dead_seed(), "--workers", "1"]
    proc = processes.spawn(argv, log, cwd=tmp_path)
    try:
        processes.wait_until(lambda: "admin on" in log.read_text(errors="replace") or proc.poll() is not None,
                             10, "slotgate to log its addresses")
        text = log.read_text(errors="replace")
        assert proc.poll() is None, text
        listening = listening_addresses(proc.pid, 9121)
        assert listening, f"slotgate does not listen on 9121 by default:\n{text}"
        assert listening == {"127.0.0.1"}, \
            f"the default admin port listens on {sorted(listening)}, not loopback only"
        assert http_get(9121, "/healthz")[0] == 200
    finally:
        processes.terminate(proc, 15, 10)


def listening_addresses(pid: int, port: int) -> set[str]:
    """IPv4/IPv6 addresses pid has a listening TCP socket on for port."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    out = set()
    for table, width in (("tcp", 8), ("tcp6", 32)):
        with open(f"/proc/{pid}/net/{table}") as f:
            next(f)
            for line in f:
                fields = line.split()
                local, state, inode = fields[1], fields[3], fields[9]
                addr, port_hex = local.split(":")
                if state != "0A" or int(port_hex, 16) != port or inode not in inodes:
                    continue
                if width == 8:
                    out.add(socket.inet_ntop(socket.AF_INET, bytes.fromhex(addr)[::-1]))
                else:
                    raw = bytes.fromhex(addr)
                    raw = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
                    out.add(socket.inet_ntop(socket.AF_INET6, raw))
    return out


def test_topology_endpoint_can_be_disabled(make_slotgate, cluster):
    gate = make_slotgate(config_text="admin:\n  topology: false\n")
    status, body = http_get(gate.admin_port, "/topology")
    assert status == 404, f"/topology answered {status} with admin.topology: false: {body[:200]!r}"
    assert b"127.0.0.1:" not in body, body
    assert http_get(gate.admin_port, "/healthz")[0] == 200
    assert http_get(gate.admin_port, "/metrics")[0] == 200
    # And it is on unless turned off.
    other = make_slotgate()
    status, body = http_get(other.admin_port, "/topology")
    assert status == 200 and b"127.0.0.1:" in body, body[:200]
