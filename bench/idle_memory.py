#!/usr/bin/python3
"""Memory slotgate spends on an idle client connection.

Owns one measurement run: a private 3x2 Redis Cluster (ports 7650-7655, via the test
harness), and for each binary and each kind of idle client a fresh slotgate on 7660
(admin 7661, --workers 1, clients.max_clients raised above N): it opens N client
connections that then stay idle, and reports slotgate's VmRSS growth (from /proc)
divided by N. Two kinds of idle client:

  plain       connected, nothing sent (a connection pool's spare connection)
  hello+auth  AUTH and HELLO 3 answered, then nothing (a logged-in RESP3 client)

Each cell gets its own slotgate, because memory freed by one batch stays in the
allocator and would make the next batch look free. Binaries given with several
--binary options are measured in the same sitting, one after the other. Everything it
starts is stopped on exit, including on Ctrl-C and SIGTERM.

    /usr/bin/python3 bench/idle_memory.py [--connections 10000] [--binary B ...]

Ports can be shifted with --port-offset (default $SLOTGATE_TEST_PORT_OFFSET or 0). The
script raises its own RLIMIT_NOFILE to the hard limit; slotgate inherits it.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import socket
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests"))

from harness import RedisCluster, Slotgate  # noqa: E402
from harness.idle_clients import log_in, settled_rss  # noqa: E402
from harness.slotgate import default_binary  # noqa: E402

CLUSTER_PORT = 7650
SLOTGATE_PORT = 7660
PASSWORD = "idle-bench"
MODES = ("plain", "hello+auth")


def open_idle(gate: Slotgate, n: int, mode: str) -> list[socket.socket]:
    """n connections to slotgate; with hello+auth, each has had AUTH and HELLO 3 answered."""
    socks = []
    for _ in range(n):
        s = socket.create_connection((gate.host, gate.port), timeout=10)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        socks.append(s)
    if mode == "hello+auth":
        log_in(socks, PASSWORD, timeout=120)
    return socks


def measure(cluster: RedisCluster, binary: Path, mode: str, args) -> float:
    """KiB of VmRSS per idle connection of this kind, for one fresh slotgate."""
    config = (f"clients:\n  password: {PASSWORD}\n  max_clients: {args.connections + 100}\n"
              f"log:\n  level: warn\n")
    gate = Slotgate(cluster.seeds, port=SLOTGATE_PORT + args.port_offset,
                    admin_port=SLOTGATE_PORT + 1 + args.port_offset, workers=1, binary=binary,
                    config_text=config)
    gate.start(timeout=30)
    socks: list[socket.socket] = []
    try:
        # Warm up what every slotgate has anyway (backend connections, the allocator's
        # first arenas, a few sessions), so the delta is the idle connections alone.
        warm = open_idle(gate, 50, "hello+auth")
        for s in warm:
            s.close()
        before = settled_rss(gate, 0, PASSWORD, rounds=20, pause=0.5)
        socks = open_idle(gate, args.connections, mode)
        after = settled_rss(gate, args.connections, PASSWORD, rounds=20, pause=0.5)
        per = (after - before) / args.connections
        print(f"{binary} {mode}: VmRSS {before} -> {after} KiB for {args.connections} "
              f"connections = {per:.2f} KiB each", file=sys.stderr)
        return per
    finally:
        for s in socks:
            s.close()
        gate.stop()
        gate.cleanup()


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--connections", "-n", type=int, default=10_000, help="idle connections (default 10000)")
    p.add_argument("--binary", action="append", default=None,
                   help="slotgate binary; repeat to compare (default: $SLOTGATE_BIN or build/slotgate)")
    p.add_argument("--modes", default=",".join(MODES), help=f"which idle kinds (default {','.join(MODES)})")
    p.add_argument("--port-offset", type=int, default=int(os.environ.get("SLOTGATE_TEST_PORT_OFFSET", "0")),
                   help="added to every port (default $SLOTGATE_TEST_PORT_OFFSET or 0)")
    return p.parse_args()


def resolve(binary: str | None) -> Path:
    path = Path(binary) if binary else default_binary()
    if not path.is_absolute() and not path.exists():
        path = REPO_ROOT / path
    # Why absolute: the harness starts slotgate with its work directory as cwd.
    return path.resolve()


def main() -> int:
    args = parse_args()
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, frame: sys.exit(128 + signum))
    binaries = [resolve(b) for b in (args.binary or [None])]
    for b in binaries:
        if not b.exists():
            print(f"slotgate binary not found at {b}", file=sys.stderr)
            return 2
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    # Both ends of every connection live on this machine: this process holds N sockets
    # and slotgate (which inherits the limit) N more.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = args.connections + 200
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard) if hard != resource.RLIM_INFINITY else need,
                                                    hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < need:
        print(f"RLIMIT_NOFILE hard limit {hard} is below {need}: use fewer --connections", file=sys.stderr)
        return 2

    cluster = RedisCluster(base_port=CLUSTER_PORT + args.port_offset)
    print(f"starting a 3x2 cluster on {cluster.base_port}-{cluster.base_port + 5} ...", file=sys.stderr)
    cluster.start()
    results = {}
    try:
        for b in binaries:
            for mode in modes:
                results[(b, mode)] = measure(cluster, b, mode, args)
    finally:
        cluster.stop()
    print()
    print(f"slotgate VmRSS per idle client connection, {args.connections} connections, --workers 1")
    print()
    header = ["binary"] + [f"{m} KiB/conn" for m in modes]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for b in binaries:
        print("| " + " | ".join([str(b)] + [f"{results[(b, m)]:.2f}" for m in modes]) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
