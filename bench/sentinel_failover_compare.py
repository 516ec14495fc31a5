#!/usr/bin/python3
"""What clients see when a Sentinel-managed master changes: slotgate (backend.kind sentinel) vs.
redis-py's own `Sentinel` client (master_for, as shipped: it re-asks the Sentinels when its
connection breaks or the old master answers READONLY).

For each scenario (`failover`: SENTINEL FAILOVER; `kill`: kill -9 of the master; `kill2`: the
master and one replica killed) and each target it starts a private group (tests/harness/sentinel.py:
master 127.0.0.1:9824, replicas 9825/9826, Sentinels 9834-9836, down-after 1000 ms, failover-timeout
3000 ms; slotgate on 9837, admin 9838), runs the load generator of tests/harness/load.py (6
connections, INCR/SET/GET at 150 ops/s each), applies the fault, and reads every counter back from
the new master. It prints one Markdown table: errors, longest stall, time from +switch-master (as a
subscriber of the first Sentinel saw it) to the first write served, acknowledged INCRs lost
(final < acked) or doubled (final > acked + unknown). Not part of .ci/run.

    bench/sentinel_failover_compare.py
    SLOTGATE_BIN=/work/runs/slotgate-sentinel bench/sentinel_failover_compare.py --scenarios kill
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

import redis
import redis.sentinel

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests"))

from harness import FileConfiguredSlotgate  # noqa: E402
from harness.load import LoadGenerator, RawRespClient, RespError  # noqa: E402
from harness.sentinel import SentinelGroup  # noqa: E402
from harness.slotgate import default_binary  # noqa: E402

BASE = 9824
GATE, ADMIN = 9837, 9838
COUNTERS = [f"ctr:{i}" for i in range(32)]
PLAIN = [f"plain:{i}" for i in range(16)]


class RedisPySentinelClient:
    """redis-py's Sentinel master_for behind LoadGenerator's call() interface."""

    def __init__(self, group: SentinelGroup, timeout: float = 25.0):
        self.sentinel = redis.sentinel.Sentinel([("127.0.0.1", p) for p in group.sentinel_ports],
                                                socket_timeout=2)
        self.client = self.sentinel.master_for(group.master_name, socket_timeout=timeout,
                                               socket_connect_timeout=2)

    def connect(self) -> None:
        pass

    def call(self, *args):
        try:
            return self.client.execute_command(*args)
        except redis.exceptions.ResponseError as exc:
            return RespError(str(exc))

    def broken(self) -> None:
        pass

    def close(self) -> None:
        self.client.close()


class SwitchWatch:
    """Subscribes to +switch-master on one Sentinel; remembers when the first one arrived."""

    def __init__(self, port: int):
        self.at: float | None = None
        self.pubsub = redis.Redis(host="127.0.0.1", port=port).pubsub()
        self.pubsub.subscribe("+switch-master")
        self.thread = threading.Thread(target=self._run, daemon=True)
        self._stop = False
        self.thread.start()

    def _run(self):
        while not self._stop:
            m = self.pubsub.get_message(timeout=0.2)
            if m and m["type"] == "message" and self.at is None:
                self.at = time.monotonic()

    def stop(self):
        self._stop = True
        self.thread.join(2)
        self.pubsub.close()


def gate_config() -> str:
    sentinels = ", ".join(f"127.0.0.1:{BASE + 10 + i}" for i in range(3))
    return (f"listen: 127.0.0.1:{GATE}\nworkers: 2\n"
            f"backend:\n  kind: sentinel\n  sentinels: [{sentinels}]\n  master_name: mymaster\n"
            f"cluster:\n  failover_hold: 20s\n  connect_timeout: 500ms\n"
            f"admin:\n  listen: 127.0.0.1:{ADMIN}\n")


def fault(group: SentinelGroup, scenario: str) -> None:
    old = group.master_port()
    if scenario == "failover":
        group.sentinel_client().execute_command("SENTINEL", "FAILOVER", group.master_name)
    elif scenario == "kill":
        group.kill_master()
    else:
        replica = next(r for r in group.redis if r.port != old)
        replica.node.process.kill()
        group.kill_master()
    group.wait_new_master(old, timeout=30)


def run_one(target: str, scenario: str, args, workdir: Path) -> dict:
    group = SentinelGroup(BASE, workdir=workdir / f"group-{target}-{scenario}")
    gate = None
    watch = None
    try:
        group.start()
        if target == "slotgate":
            gate = FileConfiguredSlotgate([], port=GATE, admin_port=ADMIN, config_text=gate_config(),
                                          binary=args.binary, workdir=workdir / f"slotgate-{scenario}")
            gate.start()
            make_client = lambda i: RawRespClient("127.0.0.1", GATE, timeout=25)  # noqa: E731
        else:
            make_client = lambda i: RedisPySentinelClient(group)  # noqa: E731
        watch = SwitchWatch(group.sentinel_ports[0])
        load = LoadGenerator(make_client, COUNTERS, PLAIN, clients=6, rate=150).start()
        time.sleep(1.5)
        t_fault = time.monotonic()
        fault(group, scenario)
        time.sleep(args.after)
        load.stop()
        report = load.report()
        master = group.client_for(group.master_port())
        checks = load.check_counters(lambda k: (lambda v: None if v is None else int(v))(master.get(k)))
        switch = watch.at
        first = None
        if switch is not None:
            first = min((op.end for op in load.ops() if op.kind in ("INCR", "SET") and op.outcome == "ok"
                         and op.end >= switch), default=None)
        return {
            "ops": report.ops,
            "errors": report.error_count,
            "longest stall (ms)": f"{report.max_latency * 1000:.0f}",
            "fault -> +switch-master (s)": "n/a" if switch is None else f"{switch - t_fault:.2f}",
            "+switch-master -> first write served (ms)":
                "n/a" if first is None else f"{(first - switch) * 1000:.0f}",
            "INCR acked": sum(c.acked for c in checks),
            "acked writes lost": sum(max(0, c.acked - (c.final or 0)) for c in checks),
            "writes doubled/unasked": sum(max(0, (c.final or 0) - c.acked - c.unknown) for c in checks),
            "first error": (report.error_samples[0][:70].replace("|", "/") if report.error_samples else ""),
        }
    except Exception as exc:  # noqa: BLE001 - one failed run is one cell, not the end of the bench
        traceback.print_exc()
        return {"errors": f"run failed: {exc!r}"[:80]}
    finally:
        if watch:
            watch.stop()
        if gate:
            gate.stop()
        group.stop()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scenarios", nargs="+", default=["failover", "kill", "kill2"])
    p.add_argument("--targets", nargs="+", default=["slotgate", "redis-py"])
    p.add_argument("--after", type=float, default=3.0, help="seconds of load after the new master is known")
    p.add_argument("--binary", default=str(default_binary()))
    args = p.parse_args()
    if "slotgate" in args.targets and not Path(args.binary).exists():
        print(f"slotgate binary not found: {args.binary}", file=sys.stderr)
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="sentinel-bench-"))
    results = {}
    for scenario in args.scenarios:
        for target in args.targets:
            print(f"[{time.strftime('%H:%M:%S')}] {target} / {scenario}", file=sys.stderr, flush=True)
            results[(scenario, target)] = run_one(target, scenario, args, workdir)
    cols = [(s, t) for s in args.scenarios for t in args.targets]
    rows = []
    for cells in results.values():
        for k in cells:
            if k not in rows:
                rows.append(k)
    print("| measure | " + " | ".join(f"{s} {t}" for s, t in cols) + " |")
    print("|---|" + "---|" * len(cols))
    for r in rows:
        print(f"| {r} | " + " | ".join(str(results[c].get(r, "")) for c in cols) + " |")
    return 1 if any("run failed" in str(c.get("errors", "")) for c in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
