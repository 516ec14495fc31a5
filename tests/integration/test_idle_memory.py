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
import socket
from pathlib import Path

import pytest

from harness.idle_clients import log_in, settled_rss

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


def idle_cost_kib(sg, logged_in):
    """RSS growth per connection for CONNECTIONS idle connections."""
    # Warm up what any slotgate has once it served a few clients (backend connections,
    # the allocator's arenas), so the growth is the idle connections alone.
    warm = [socket.create_connection((sg.host, sg.port), timeout=10) for _ in range(20)]
    log_in(warm, PASSWORD)
    for s in warm:
        s.close()
    before = settled_rss(sg, 0, PASSWORD)
    socks = []
    try:
        for _ in range(CONNECTIONS):
            socks.append(socket.create_connection((sg.host, sg.port), timeout=10))
        if logged_in:
            log_in(socks, PASSWORD)
        after = settled_rss(sg, CONNECTIONS, PASSWORD)
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
