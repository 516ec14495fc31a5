"""What an idle client connection costs slotgate in memory.

An idle connection holds no buffers: slotgate takes a read buffer when bytes arrive and
an output buffer when it writes a reply, and gives both back (to its worker's pool of
spare buffers) once they are empty, as Redis does with its query buffers. So thousands
of idle connections, whether freshly connected or logged in with AUTH and HELLO 3, grow
slotgate's resident memory by well under 3 KiB each (bench/idle_memory.py measures it at
10 000 connections).

Memory, not time, is checked, so the bound does not depend on the machine's load. Under
AddressSanitizer every allocation carries redzones and freed memory sits in a quarantine,
so RSS says nothing about the allocations of a normal build: these tests are skipped when
the binary under test is instrumented (it contains `__asan_init`).
"""

import functools
import resource
import selectors
import socket
import time
from pathlib import Path

import pytest

from harness import processes

CONNECTIONS = 2000
BOUND_KIB = 3.0
PASSWORD = "idle-s3cret"
CONFIG = f"clients:\n  password: {PASSWORD}\n"


@functools.lru_cache(maxsize=None)
def instrumented(binary: Path) -> bool:
    """The binary was built with AddressSanitizer (SLOTGATE_SANITIZE=ON)."""
    return b"__asan_init" in Path(binary).read_bytes()


@pytest.fixture
def gate(make_slotgate):
    sg = make_slotgate(config_text=CONFIG, workers=1)
    if instrumented(sg.binary):
        pytest.skip("RSS of an AddressSanitizer build does not reflect the allocations of a normal one")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < CONNECTIONS + 100:
        if hard < CONNECTIONS + 100:
            pytest.skip(f"RLIMIT_NOFILE hard limit {hard} is too low for {CONNECTIONS} connections")
        resource.setrlimit(resource.RLIMIT_NOFILE, (CONNECTIONS + 100, hard))
    return sg


def rss_kib(sg):
    return processes.proc_status_kib(sg.process.pid, "VmRSS")


def connected_clients(sg):
    """INFO clients' connected_clients, not counting the connection that asks."""
    with socket.create_connection((sg.host, sg.port), timeout=10) as s:
        s.sendall(f"AUTH {PASSWORD}\r\nINFO clients\r\n".encode())
        data = b""
        while not (b"connected_clients:" in data and data.endswith(b"\r\n\r\n")):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    for line in data.decode(errors="replace").splitlines():
        if line.startswith("connected_clients:"):
            return int(line.split(":", 1)[1]) - 1
    raise AssertionError(f"no connected_clients in {data[:300]!r}")


def settled_rss(sg, clients):
    """slotgate's RSS once it has accepted `clients` connections and stopped growing."""
    processes.wait_until(lambda: connected_clients(sg) >= clients, 30, f"slotgate to accept {clients} clients")
    last = rss_kib(sg)
    for _ in range(10):
        time.sleep(0.3)
        now = rss_kib(sg)
        if now == last:
            break
        last = now
    return last


def log_in(socks):
    """AUTH and HELLO 3 on every socket, waiting for both replies."""
    sel = selectors.DefaultSelector()
    got = {}
    for s in socks:
        s.sendall(f"AUTH {PASSWORD}\r\nHELLO 3\r\n".encode())
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        got[s] = b""
    pending = len(socks)
    deadline = time.monotonic() + 60
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            chunk = s.recv(65536)
            assert chunk, "slotgate closed a connection during AUTH/HELLO"
            got[s] += chunk
            assert not got[s].startswith(b"-"), got[s]
            # HELLO 3's map ends with its "modules" entry, an empty array.
            if got[s].startswith(b"+OK\r\n%") and got[s].endswith(b"$7\r\nmodules\r\n*0\r\n"):
                sel.unregister(s)
                pending -= 1
    sel.close()
    assert pending == 0, f"{pending} connections did not get their AUTH/HELLO replies"


def idle_cost_kib(sg, logged_in):
    """RSS growth per connection for CONNECTIONS idle connections."""
    # Warm up what any slotgate has once it served a few clients (backend connections,
    # the allocator's arenas), so the growth is the idle connections alone.
    warm = [socket.create_connection((sg.host, sg.port), timeout=10) for _ in range(20)]
    log_in(warm)
    for s in warm:
        s.close()
    before = settled_rss(sg, 0)
    socks = []
    try:
        for _ in range(CONNECTIONS):
            socks.append(socket.create_connection((sg.host, sg.port), timeout=10))
        if logged_in:
            log_in(socks)
        after = settled_rss(sg, CONNECTIONS)
    finally:
        for s in socks:
            s.close()
    return (after - before) / CONNECTIONS


def test_idle_connections_cost_slotgate_under_3_kib_each(gate):
    per = idle_cost_kib(gate, logged_in=False)
    assert per < BOUND_KIB, f"{CONNECTIONS} idle connections cost {per:.2f} KiB of RSS each"


def test_idle_clients_logged_in_with_auth_and_hello_3_cost_under_3_kib_each(gate):
    per = idle_cost_kib(gate, logged_in=True)
    assert per < BOUND_KIB, f"{CONNECTIONS} idle logged-in clients cost {per:.2f} KiB of RSS each"
