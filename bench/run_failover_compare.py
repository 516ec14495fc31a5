#!/usr/bin/python3
"""What clients see during a master kill and a manual failover: slotgate vs. redis-py's
cluster client talking to the cluster directly.

Owns one comparison run. For each target (`direct`: redis-py 4.3.4 `RedisCluster`
with the retries it ships with; `slotgate`: raw RESP connections through slotgate on
127.0.0.1:7820, admin 7821) and each scenario (`kill`: kill -9 of a master;
`failover`: CLUSTER FAILOVER on its replica) it starts a private 3x2 Redis Cluster
(127.0.0.1:7800-7805, cluster-node-timeout 5000, via tests/harness), runs the load
generator of tests/harness/load.py (8 connections, GET/SET/INCR on keys over every
master), applies the fault, and afterwards reads every counter back from the cluster.
It prints one Markdown table with the same counts as tests/integration/test_failover.py:
operations, errors by class, longest stall, time from the kill to the first
successful write on the affected slots, and counters whose final value contradicts
what the client was told (lost or doubled writes). Not part of .ci/run.

    bench/run_failover_compare.py                       # both targets, both scenarios (~2 min)
    bench/run_failover_compare.py --targets direct --scenarios kill
    SLOTGATE_BIN=build-h9/slotgate bench/run_failover_compare.py

Exit code: 0 when every run completed (whatever it measured), 1 when a run could not
be carried out (the cell says why), 2 when the slotgate binary is missing.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests"))

from harness import RawConnection, RedisCluster, Slotgate, parse_cluster_nodes  # noqa: E402
from harness.load import (CLUSTERDOWN, CONNECTION, ERROR, OUTCOME_UNKNOWN, REDIRECT, TIMEOUT,  # noqa: E402
                          TRYAGAIN, BAD_VALUE, LoadGenerator, RawRespClient, RedisPyClusterClient, read_counter_direct,
                          spread_keys)
from harness.slotgate import default_binary  # noqa: E402

CLUSTER_PORT = 7800
SLOTGATE_PORT = 7820
SLOTGATE_ADMIN_PORT = 7821
ERROR_CLASSES = (OUTCOME_UNKNOWN, CLUSTERDOWN, REDIRECT, TRYAGAIN, ERROR, BAD_VALUE, TIMEOUT, CONNECTION)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def wait_for_promotion(replica, timeout: float = 30.0) -> float:
    """time.monotonic() when the replica's own CLUSTER NODES first shows it as a master with slots."""
    deadline = time.monotonic() + timeout
    conn = None
    try:
        while time.monotonic() < deadline:
            try:
                conn = conn or RawConnection(replica.host, replica.port, connect_timeout=1)
                text = conn.command("CLUSTER", "NODES", timeout=1)
            except (OSError, TimeoutError):
                if conn is not None:
                    conn.close()
                conn, text = None, b""
            if isinstance(text, bytes):
                for v in parse_cluster_nodes(text.decode()):
                    if "myself" in v.flags and v.is_master and v.slots:
                        return time.monotonic()
            time.sleep(0.01)
    finally:
        if conn is not None:
            conn.close()
    raise TimeoutError(f"{replica.address} was not promoted within {timeout:g}s")


def slots_of(cluster, node) -> set[int]:
    return {s for first, last, addr in cluster.slot_ranges() if addr == node.address for s in range(first, last + 1)}


def run_one(target: str, scenario: str, args, workdir: Path) -> dict:
    """One scenario against one target; returns the measured cells."""
    cluster = RedisCluster(base_port=CLUSTER_PORT, workdir=workdir / f"cluster-{target}-{scenario}")
    gate = None
    load = None
    try:
        cluster.start()
        if target == "slotgate":
            gate = Slotgate(cluster.seeds, port=SLOTGATE_PORT, admin_port=SLOTGATE_ADMIN_PORT, workers=args.workers,
                            binary=args.binary, workdir=workdir / f"slotgate-{scenario}")
            gate.start()
            make_client = lambda i: RawRespClient(gate.host, gate.port, timeout=25)  # noqa: E731
        else:
            make_client = lambda i: RedisPyClusterClient(cluster.seeds, timeout=25)  # noqa: E731
        victim = cluster.masters()[0 if scenario == "kill" else 1]
        replica = cluster.replicas_of(victim)[0]
        affected = slots_of(cluster, victim)
        load = LoadGenerator(make_client, spread_keys("cnt:", 96), spread_keys("val:", 48), clients=args.clients,
                             rate=args.rate).start()
        time.sleep(1.5)
        t_fault = time.monotonic()
        promoted_at = None
        if scenario == "kill":
            cluster.kill(victim, signal.SIGKILL)
            promoted_at = wait_for_promotion(replica)
            cluster.wait_promoted(replica, timeout=30)
        else:
            cluster.failover(replica, timeout=30)
        t_healthy = time.monotonic()
        time.sleep(args.after)
        load.stop()
        cluster.wait_ok(timeout=30)

        report = load.report()
        checks = load.check_counters(read_counter_direct(cluster))
        first = load.first_success(affected, after=t_fault)
        cells = {
            "ops": report.ops,
            "errors": report.error_count,
            **{cls: report.errors.get(cls, 0) for cls in ERROR_CLASSES},
            "read errors": report.read_errors(),
            "errors sent after the cluster was healthy": load.report(since=t_healthy).error_count,
            "reconnects": load.reconnects,
            "longest stall (ms)": f"{report.max_latency * 1000:.0f}",
            "fault -> cluster healthy (s)": f"{t_healthy - t_fault:.2f}",
            "fault -> first write on affected slots (s)": "never" if first is None else f"{first.end - t_fault:.2f}",
            "promotion -> first write routed (ms)":
                "n/a" if promoted_at is None or first is None else f"{(first.end - promoted_at) * 1000:.0f}",
            "INCR acked": sum(c.acked for c in checks),
            "INCR unknown": sum(c.unknown for c in checks),
            "counters lost (final < acked)": sum(1 for c in checks if (c.final or 0) < c.acked),
            "counters over (final > acked + unknown)": sum(1 for c in checks if (c.final or 0) > c.acked + c.unknown),
            "load thread crashes": len(load.crashes),
            "first error": (report.error_samples[0][:90].replace("|", "/") if report.error_samples else ""),
        }
        if report.error_samples:
            log(f"{target}/{scenario} error samples: {report.error_samples}")
        return cells
    finally:
        if load is not None and not load.stopped:
            try:
                load.stop()
            except RuntimeError as exc:
                log(str(exc))
        if gate is not None:
            gate.stop()
            gate.cleanup(keep_workdir=args.keep)
        cluster.stop(keep_workdir=args.keep)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--targets", default="direct,slotgate", help="comma list of direct, slotgate")
    p.add_argument("--scenarios", default="kill,failover", help="comma list of kill, failover")
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--rate", type=float, default=150.0, help="operations per second per client")
    p.add_argument("--after", type=float, default=2.0, help="seconds of load after the cluster is healthy")
    p.add_argument("--workers", type=int, default=2, help="slotgate --workers")
    p.add_argument("--binary", default=None, help="slotgate binary (default $SLOTGATE_BIN or build/slotgate)")
    p.add_argument("--keep", action="store_true", help="keep the logs and data under the work directory")
    args = p.parse_args()
    targets = [t for t in args.targets.split(",") if t]
    scenarios = [s for s in args.scenarios.split(",") if s]
    if set(targets) - {"direct", "slotgate"} or set(scenarios) - {"kill", "failover"}:
        p.error("targets: direct,slotgate; scenarios: kill,failover")
    args.binary = Path(args.binary) if args.binary else default_binary()
    if "slotgate" in targets and not args.binary.exists():
        print(f"slotgate binary not found at {args.binary}", file=sys.stderr)
        return 2

    def on_term(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_term)
    # redis-py logs every failed seed connection with a traceback; the table counts them.
    logging.getLogger("redis").addHandler(logging.NullHandler())
    logging.getLogger("redis").propagate = False
    workdir = Path(tempfile.mkdtemp(prefix="slotgate-failover-compare-"))
    columns, results, failed = [], {}, False
    for scenario in scenarios:
        for target in targets:
            col = f"{scenario}: {'slotgate' if target == 'slotgate' else 'redis-py direct'}"
            columns.append(col)
            log(f"running {col}")
            try:
                results[col] = run_one(target, scenario, args, workdir)
            except Exception as exc:  # noqa: BLE001 - report the cell, go on with the rest
                failed = True
                traceback.print_exc()
                results[col] = {"ops": f"failed: {exc!r}"[:120]}
    rows = []
    for col in columns:
        for k in results[col]:
            if k not in rows:
                rows.append(k)
    print(f"\n{args.clients} connections x {args.rate:g} ops/s, GET/SET/INCR over 144 keys; "
          f"3 masters + 3 replicas, cluster-node-timeout 5000; slotgate {args.binary}\n")
    print("| measure | " + " | ".join(columns) + " |")
    print("|---|" + "---|" * len(columns))
    for k in rows:
        print(f"| {k} | " + " | ".join(str(results[c].get(k, "")) for c in columns) + " |")
    if any("cannot pickle" in str(r.get("first error", "")) for r in results.values()):
        print("\nredis-py direct: after a node failure the client re-reads the slot map and fails with "
              "\"cannot pickle '_thread.lock' object\" - a known problem of redis-py 4.3.x (deepcopy of "
              "its connection arguments; see the discussion in redis/redis-py#2377), as Debian bookworm ships it.")
    if args.keep:
        print(f"\nlogs kept in {workdir}")
    else:
        import shutil
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
