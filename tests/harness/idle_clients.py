"""Idle client connections and slotgate's RSS: what bench/idle_memory.py measures and
tests/integration/test_idle_memory.py bounds."""
from __future__ import annotations

import selectors
import socket
import time

from . import processes


def rss_kib(pid: int) -> int:
    return processes.proc_status_kib(pid, "VmRSS")


def connected_clients(host: str, port: int, password: str) -> int:
    """INFO clients' connected_clients, not counting the connection that asks."""
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(f"AUTH {password}\r\nINFO clients\r\n".encode())
        data = b""
        while not (b"connected_clients:" in data and data.endswith(b"\r\n\r\n")):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    for line in data.decode(errors="replace").splitlines():
        if line.startswith("connected_clients:"):
            return int(line.split(":", 1)[1]) - 1
    raise RuntimeError(f"no connected_clients in INFO reply: {data[:300]!r}")


def log_in(socks: list[socket.socket], password: str, timeout: float = 60) -> None:
    """AUTH and HELLO 3 on every socket, waiting for both replies."""
    sel = selectors.DefaultSelector()
    got = {}
    for s in socks:
        s.sendall(f"AUTH {password}\r\nHELLO 3\r\n".encode())
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        got[s] = b""
    pending = len(socks)
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            chunk = s.recv(65536)
            if not chunk:
                raise RuntimeError("slotgate closed a connection during AUTH/HELLO")
            got[s] += chunk
            if got[s].startswith(b"-"):
                raise RuntimeError(f"AUTH/HELLO failed: {got[s][:200]!r}")
            # HELLO 3's map ends with its "modules" entry, an empty array.
            if got[s].startswith(b"+OK\r\n%") and got[s].endswith(b"$7\r\nmodules\r\n*0\r\n"):
                sel.unregister(s)
                pending -= 1
    sel.close()
    if pending:
        raise RuntimeError(f"{pending} connections did not get their AUTH/HELLO replies")


def settled_rss(gate, clients: int, password: str, accept_timeout: float = 60,
                rounds: int = 10, pause: float = 0.3) -> int:
    """slotgate's RSS (KiB) once it has accepted `clients` connections and stopped growing."""
    processes.wait_until(lambda: connected_clients(gate.host, gate.port, password) >= clients,
                         accept_timeout, f"slotgate to accept {clients} clients")
    last = rss_kib(gate.process.pid)
    for _ in range(rounds):
        time.sleep(pause)
        now = rss_kib(gate.process.pid)
        if now == last:
            break
        last = now
    return last
