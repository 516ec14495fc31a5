#!/usr/bin/python3
"""Baseline throughput of slotgate against the same cluster used directly.

Owns one benchmark run: a private 3x2 Redis Cluster (ports 7600-7605, via the test
harness), slotgate on 7610 (admin 7611) with --workers 1 and then --workers 2, and
redis-benchmark SET/GET at -P 1 and -P 16, directly against the cluster
(`--cluster`) and through slotgate. Prints one table row per (test, workers):
requests per second both ways, their ratio, and the CPU seconds slotgate spent per
100k requests (utime+stime from /proc/<pid>/stat around each run, so start-up and
idle time are not counted). Everything it starts is stopped on exit, including on
Ctrl-C and SIGTERM. Run it through bench/run_baseline.sh; see bench/README.md.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import signal
import statistics
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests"))

from harness import RedisCluster, Slotgate  # noqa: E402
from harness.slotgate import default_binary  # noqa: E402

CLUSTER_PORT = 7600
SLOTGATE_PORT = 7610
SLOTGATE_ADMIN_PORT = 7611
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        # Why split after ')': the command name may contain spaces; fields after it are fixed.
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def redis_benchmark(target: list[str], test: str, pipeline: int, args) -> float:
    """One redis-benchmark run; returns requests per second from its CSV output."""
    argv = ["redis-benchmark", *target, "-t", test.lower(), "-c", str(args.clients), "-r", str(args.keyspace),
            "-n", str(args.requests), "-P", str(pipeline), "--csv"]
    res = subprocess.run(argv, capture_output=True, text=True, timeout=args.timeout, stdin=subprocess.DEVNULL)
    # Why: in --cluster mode redis-benchmark prints the node list before the CSV header.
    start = res.stdout.find('"test",')
    rows = [] if start < 0 else [r for r in csv.DictReader(io.StringIO(res.stdout[start:])) if r.get("test")]
    if res.returncode != 0 or not rows:
        raise RuntimeError(f"{' '.join(argv)} failed ({res.returncode}):\n{res.stdout[-1000:]}{res.stderr[-1000:]}")
    return float(rows[0]["rps"])


def measure_direct(cluster: RedisCluster, test: str, pipeline: int, args) -> float:
    target = ["--cluster", "-h", "127.0.0.1", "-p", str(cluster.nodes[0].port)]
    return statistics.median(redis_benchmark(target, test, pipeline, args) for _ in range(args.repeat))


def measure_slotgate(gate: Slotgate, test: str, pipeline: int, args) -> tuple[float, float]:
    """Median rps and median slotgate CPU seconds per 100k requests."""
    target = ["-h", "127.0.0.1", "-p", str(gate.port)]
    rps, cpu = [], []
    for _ in range(args.repeat):
        before = cpu_seconds(gate.process.pid)
        rps.append(redis_benchmark(target, test, pipeline, args))
        after = cpu_seconds(gate.process.pid)
        cpu.append((after - before) / args.requests * 100_000)
    return statistics.median(rps), statistics.median(cpu)


def print_table(rows: list[dict], args, binary: Path) -> None:
    print()
    print(f"redis-benchmark -c {args.clients} -r {args.keyspace} -n {args.requests}, "
          f"median of {args.repeat} run(s); slotgate {binary}")
    print()
    header = ["test", "workers", "direct rps", "slotgate rps", "slotgate/direct", "slotgate CPU s/100k req"]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for r in rows:
        if r.get("error"):
            cells = [r["test"], str(r["workers"]), f"{r['direct']:.0f}", "failed", "-", "-"]
        else:
            cells = [r["test"], str(r["workers"]), f"{r['direct']:.0f}", f"{r['slotgate']:.0f}",
                     f"{r['slotgate'] / r['direct']:.2f}", f"{r['cpu']:.3f}"]
        print("| " + " | ".join(cells) + " |")
    for r in rows:
        if r.get("error"):
            print(f"\n{r['test']} workers={r['workers']}: {r['error']}", file=sys.stderr)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workers", default="1,2", help="slotgate --workers variants (default: 1,2)")
    p.add_argument("--pipelines", default="1,16", help="redis-benchmark -P values (default: 1,16)")
    p.add_argument("--tests", default="SET,GET", help="redis-benchmark tests (default: SET,GET)")
    p.add_argument("--requests", type=int, default=200_000, help="-n (default 200000)")
    p.add_argument("--clients", type=int, default=50, help="-c (default 50)")
    p.add_argument("--keyspace", type=int, default=100_000, help="-r (default 100000)")
    p.add_argument("--repeat", type=int, default=1, help="runs per cell, median reported (default 1)")
    p.add_argument("--timeout", type=float, default=600, help="seconds per redis-benchmark run")
    p.add_argument("--binary", default=None, help="slotgate binary (default: $SLOTGATE_BIN or build/slotgate)")
    return p.parse_args()


def main() -> int:
    args = parse_args()
    # Why: turn SIGTERM/SIGHUP into an exception so the finally blocks stop the cluster
    # and slotgate (the harness' atexit hook and PDEATHSIG are the second and third nets).
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, frame: sys.exit(128 + signum))
    tests = [t.strip().upper() for t in args.tests.split(",") if t.strip()]
    pipelines = [int(p) for p in args.pipelines.split(",")]
    workers = [int(w) for w in args.workers.split(",")]

    binary = Path(args.binary) if args.binary else default_binary()
    if not binary.is_absolute() and not binary.exists():
        binary = REPO_ROOT / binary
    # Why absolute: the harness starts slotgate with its work directory as cwd.
    binary = binary.resolve()
    if not binary.exists():
        print(f"slotgate binary not found at {binary}: build it (cmake --build build --target slotgate), "
              f"or pass --binary / set SLOTGATE_BIN", file=sys.stderr)
        return 2

    cluster = RedisCluster(base_port=CLUSTER_PORT)
    print(f"starting a 3x2 cluster on {CLUSTER_PORT}-{CLUSTER_PORT + 5} ...", file=sys.stderr)
    cluster.start()
    rows = []
    try:
        direct = {}
        for pipeline in pipelines:
            for test in tests:
                direct[(test, pipeline)] = measure_direct(cluster, test, pipeline, args)
                print(f"direct   {test} -P {pipeline}: {direct[(test, pipeline)]:.0f} rps", file=sys.stderr)
        for n in workers:
            gate = Slotgate(cluster.seeds, port=SLOTGATE_PORT, admin_port=SLOTGATE_ADMIN_PORT, workers=n,
                            binary=binary)
            try:
                gate.start(timeout=30)
                for pipeline in pipelines:
                    for test in tests:
                        row = {"test": f"{test} -P {pipeline}", "workers": n, "direct": direct[(test, pipeline)]}
                        try:
                            row["slotgate"], row["cpu"] = measure_slotgate(gate, test, pipeline, args)
                            print(f"slotgate {test} -P {pipeline} workers={n}: {row['slotgate']:.0f} rps, "
                                  f"{row['cpu']:.3f} CPU s/100k", file=sys.stderr)
                        except (RuntimeError, subprocess.TimeoutExpired) as exc:
                            row["error"] = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
                            print(f"slotgate {test} -P {pipeline} workers={n}: FAILED {row['error']}",
                                  file=sys.stderr)
                            if not gate.is_running():
                                raise RuntimeError("slotgate died:\n" + gate.log_tail(40)) from exc
                        rows.append(row)
            finally:
                gate.stop()
                gate.cleanup()
    finally:
        cluster.stop()
    print_table(rows, args, binary)
    return 1 if any(r.get("error") for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
