"""The demo's Redis Cluster: started detached so it outlives this command, stopped by pid.

    /usr/bin/python3 -m harness.demo start  [--dir DIR] [--base-port 7000]
    /usr/bin/python3 -m harness.demo stop   [--dir DIR]
    /usr/bin/python3 -m harness.demo status [--dir DIR]

Owns the pid file DIR/cluster.pids ("pid port" per line). `start` stops a previous demo
cluster from the same DIR and wipes its data first, so running it twice restarts cleanly.
DIR defaults to $SLOTGATE_DEMO_DIR/cluster or /tmp/slotgate-demo/cluster."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import time
from pathlib import Path

from . import processes
from .cluster import RedisCluster

PID_FILE = "cluster.pids"


def _default_dir() -> Path:
    return Path(os.environ.get("SLOTGATE_DEMO_DIR", "/tmp/slotgate-demo")) / "cluster"


def _read_pids(d: Path) -> list[tuple[int, int]]:
    try:
        lines = (d / PID_FILE).read_text().split("\n")
    except FileNotFoundError:
        return []
    out = []
    for line in lines:
        parts = line.split()
        if len(parts) == 2:
            out.append((int(parts[0]), int(parts[1])))
    return out


def _ours(pid: int, port: int) -> bool:
    # Why check the command line: a pid from an old file may have been reused by an
    # unrelated process; only signal a redis-server on the recorded port.
    cmd = processes.pid_cmdline(pid)
    return processes.pid_alive(pid) and "redis-server" in cmd and f":{port}" in cmd


def stop(d: Path) -> int:
    pids = [(pid, port) for pid, port in _read_pids(d) if _ours(pid, port)]
    for pid, _ in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(processes.pid_alive(p) for p, _ in pids):
        time.sleep(0.05)
    for pid, _ in pids:
        if processes.pid_alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    (d / PID_FILE).unlink(missing_ok=True)
    return len(pids)


def start(d: Path, base_port: int) -> RedisCluster:
    stop(d)
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    cluster = RedisCluster(base_port=base_port, masters=3, replicas_per_master=1, workdir=d, detach=True)
    cluster.start()
    (d / PID_FILE).write_text("".join(f"{n.process.pid} {n.port}\n" for n in cluster.nodes))
    return cluster


def status(d: Path) -> int:
    pids = _read_pids(d)
    if not pids:
        print("  demo cluster: not running")
        return 1
    alive = [(pid, port) for pid, port in pids if _ours(pid, port)]
    for pid, port in pids:
        print(f"  redis-server 127.0.0.1:{port} pid {pid}: {'running' if (pid, port) in alive else 'not running'}")
    return 0 if pids and len(alive) == len(pids) else 1


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m harness.demo", description="slotgate demo Redis Cluster")
    ap.add_argument("action", choices=["start", "stop", "status"])
    ap.add_argument("--dir", type=Path, default=_default_dir())
    ap.add_argument("--base-port", type=int, default=7000)
    args = ap.parse_args(argv)
    if args.action == "stop":
        n = stop(args.dir)
        print(f"stopped {n} redis-server processes" if n else "no demo cluster was running")
        return 0
    if args.action == "status":
        return status(args.dir)
    try:
        cluster = start(args.dir, args.base_port)
    except Exception as exc:  # noqa: BLE001 - report and exit non-zero
        print(f"could not start the demo cluster: {exc}", file=sys.stderr)
        return 1
    masters = ", ".join(m.address for m in cluster.masters())
    replicas = ", ".join(r.address for r in cluster.replicas())
    print(f"Redis Cluster up: masters {masters}; replicas {replicas} (data and logs in {args.dir})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
