#!/usr/bin/python3
"""Throughput of MGET and MSET over keys on every master: through slotgate vs. a
cluster-aware client talking to the cluster directly.

Owns one benchmark run: a private 3x2 Redis Cluster (ports 7700-7705, bus 17700-17705,
via the test harness), slotgate on 7710 (admin 7711), 100k keys loaded, then for MGET
and MSET of 10 and 100 keys (a fixed key set per run, spread evenly over the three
masters) three measurements:

  * redis-benchmark -c 50 through slotgate (`redis-benchmark -p 7710 MGET k1 k2 ...`);
  * redis-py in several processes, directly on the cluster with RedisCluster's
    mget_nonatomic / mset_nonatomic (one pipelined sub-command per slot, sent to the
    masters that own them) - what an application does without slotgate;
  * the same processes through slotgate with plain redis.Redis MGET / MSET - the
    apples-to-apples counterpart of the line above.

Prints ops/s for each and the ratio slotgate/direct of the two Python lines, plus
slotgate's CPU seconds per 10k operations during the redis-benchmark run. Everything it
starts is stopped on exit, including on Ctrl-C and SIGTERM. Not part of .ci/run; run it
through bench/run_multikey.sh (see bench/README.md).
"""

from __future__ import annotations

import argparse
import csv
import io
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests"))

import redis  # noqa: E402
from redis.cluster import ClusterNode, RedisCluster as ClusterClient  # noqa: E402

from harness import RedisCluster, Slotgate, key_slot  # noqa: E402

CLUSTER_PORT = 7700
SLOTGATE_PORT = 7710
SLOTGATE_ADMIN_PORT = 7711
HOST = "127.0.0.1"
VALUE = "v" * 16
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all threads), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        # Why split after ')': the command name may contain spaces; the fields after it are fixed.
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def key_name(i: int) -> str:
    return f"mk:{i}"


def spread_key_set(cluster: RedisCluster, n: int, n_keys: int) -> list[str]:
    """n loaded keys in distinct slots, taken round-robin from the three masters so that
    every master holds a third of them (neighbours always on different masters)."""
    ranges = cluster.slot_ranges()

    def owner(slot: int) -> str:
        return next(addr for first, last, addr in ranges if first <= slot <= last)

    per_master: dict[str, list[str]] = {addr: [] for _, _, addr in ranges}
    used = set()
    for i in range(n_keys):
        k = key_name(i)
        slot = key_slot(k)
        bucket = per_master[owner(slot)]
        if slot not in used and len(bucket) < n:
            bucket.append(k)
            used.add(slot)
        if all(len(b) >= n for b in per_master.values()):
            break
    groups = list(per_master.values())
    return [groups[i % len(groups)][i // len(groups)] for i in range(n)]


def load_keys(gate: Slotgate, n_keys: int, batch: int = 500) -> None:
    c = gate.client()
    pipe = c.pipeline(transaction=False)
    for start in range(0, n_keys, batch):
        pipe.mset({key_name(i): VALUE for i in range(start, min(start + batch, n_keys))})
        if len(pipe) >= 20:
            pipe.execute()
    pipe.execute()
    got = c.dbsize()
    c.close()
    if got != n_keys:
        raise RuntimeError(f"loaded {n_keys} keys but DBSIZE through slotgate says {got}")


def command_argv(op: str, keys: list[str]) -> list[str]:
    if op == "MGET":
        return ["MGET", *keys]
    argv = ["MSET"]
    for k in keys:
        argv += [k, VALUE]
    return argv


def redis_benchmark(op: str, keys: list[str], args, port: int = SLOTGATE_PORT) -> float:
    """redis-benchmark with one fixed custom command through slotgate; requests per second."""
    argv = ["redis-benchmark", "-h", HOST, "-p", str(port), "-c", str(args.clients),
            "-n", str(args.requests), "--csv", *command_argv(op, keys)]
    res = subprocess.run(argv, capture_output=True, text=True, timeout=args.timeout, stdin=subprocess.DEVNULL)
    start = res.stdout.find('"test",')
    rows = [] if start < 0 else [r for r in csv.DictReader(io.StringIO(res.stdout[start:])) if r.get("test")]
    if res.returncode != 0 or not rows:
        raise RuntimeError(f"redis-benchmark {op} failed ({res.returncode}):\n{res.stdout[-800:]}{res.stderr[-800:]}")
    return float(rows[0]["rps"])


# -- the Python load generator (runs in child processes) ------------------------------------------


def python_worker(mode: str, op: str, keys: list[str], start_at: float, duration: float,
                  cluster_port: int = CLUSTER_PORT, gate_port: int = SLOTGATE_PORT) -> tuple[int, float]:
    """Runs op on keys back to back from start_at for duration seconds; returns the count and
    the CPU seconds the process spent meanwhile.
    mode "direct": cluster-aware RedisCluster on the cluster; "slotgate": plain Redis.
    The ports are arguments because spawned children do not see a caller's globals."""
    if mode == "direct":
        client = ClusterClient(startup_nodes=[ClusterNode(HOST, cluster_port + i) for i in range(3)])
        if op == "MGET":
            def run():
                return client.mget_nonatomic(keys)
        else:
            mapping = {k: VALUE for k in keys}

            def run():
                return client.mset_nonatomic(mapping)
    else:
        client = redis.Redis(host=HOST, port=gate_port)
        if op == "MGET":
            def run():
                return client.mget(keys)
        else:
            mapping = {k: VALUE for k in keys}

            def run():
                return client.mset(mapping)
    first = run()  # connect and check before the clock starts
    if op == "MGET" and (len(first) != len(keys) or any(v != VALUE.encode() for v in first)):
        raise RuntimeError(f"{mode} MGET returned wrong values: {first[:5]}...")
    time.sleep(max(0.0, start_at - time.time()))
    end = start_at + duration
    count = 0
    cpu_before = time.process_time()
    while time.time() < end:
        run()
        count += 1
    cpu = time.process_time() - cpu_before
    client.close()
    return count, cpu


def parser_name() -> str:
    """The reply parser redis-py uses in this interpreter: PythonParser, or HiredisParser when
    the hiredis package is importable (redis-py picks it by itself)."""
    return redis.connection.DefaultParser.__name__


def python_run(pool, mode: str, op: str, keys: list[str], args, cluster_port: int = CLUSTER_PORT,
               gate_port: int = SLOTGATE_PORT) -> tuple[float, float]:
    """args.procs processes running python_worker at the same time: their ops/s, and the
    client CPU µs they spent per operation."""
    # Why a common start time: spawned processes take a moment to import redis and
    # connect; starting the clock together measures only the steady state.
    start_at = time.time() + 2.0
    results = [pool.apply_async(python_worker, (mode, op, keys, start_at, args.duration, cluster_port, gate_port))
               for _ in range(args.procs)]
    done = [r.get(timeout=args.duration + 60) for r in results]
    count = sum(c for c, _ in done)
    return count / args.duration, sum(cpu for _, cpu in done) / max(count, 1) * 1e6


def python_clients(pool, mode: str, op: str, keys: list[str], args, cluster_port: int = CLUSTER_PORT,
                   gate_port: int = SLOTGATE_PORT) -> float:
    """ops/s of args.procs processes running python_worker at the same time."""
    return python_run(pool, mode, op, keys, args, cluster_port, gate_port)[0]


# -- report ------------------------------------------------------------------------------------


def print_table(rows: list[dict], args) -> None:
    print()
    print(f"{args.keys} keys loaded; redis-benchmark -c {args.clients} -n {args.requests}; "
          f"Python: {args.procs} processes x {args.duration:g} s; slotgate --workers {args.workers} "
          f"({args.binary or os.environ.get('SLOTGATE_BIN', 'build/slotgate')})")
    print()
    header = ["command", "redis-benchmark via slotgate ops/s", "slotgate CPU s/10k ops",
              "Python direct (RedisCluster *_nonatomic) ops/s", "Python via slotgate ops/s",
              "slotgate/direct"]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for r in rows:
        ratio = f"{r['py_gate'] / r['py_direct']:.2f}" if r["py_direct"] else "-"
        print(f"| {r['op']} {r['n']} keys | {r['bench']:.0f} | {r['cpu']:.3f} | {r['py_direct']:.0f} | "
              f"{r['py_gate']:.0f} | {ratio} |")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="10,100", help="keys per command (default: 10,100)")
    p.add_argument("--ops", default="MGET,MSET", help="commands (default: MGET,MSET)")
    p.add_argument("--keys", type=int, default=100_000, help="keys loaded before measuring (default 100000)")
    p.add_argument("--requests", type=int, default=20_000, help="redis-benchmark -n (default 20000)")
    p.add_argument("--clients", type=int, default=50, help="redis-benchmark -c (default 50)")
    p.add_argument("--procs", type=int, default=4, help="Python client processes (default 4)")
    p.add_argument("--duration", type=float, default=5.0, help="seconds per Python measurement (default 5)")
    p.add_argument("--workers", type=int, default=2, help="slotgate --workers (default 2)")
    p.add_argument("--timeout", type=float, default=600, help="seconds per redis-benchmark run")
    p.add_argument("--binary", default=None, help="slotgate binary (default: $SLOTGATE_BIN or build/slotgate)")
    return p.parse_args()


def main() -> int:
    args = parse_args()
    # Why: SIGTERM/SIGHUP become an exception so the finally block stops the cluster and
    # slotgate (the harness's atexit hook and PDEATHSIG are the second and third nets).
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, frame: sys.exit(128 + signum))
    sizes = [int(s) for s in args.sizes.split(",")]
    ops = [o.strip().upper() for o in args.ops.split(",") if o.strip()]
    cluster = RedisCluster(base_port=CLUSTER_PORT, masters=3, replicas_per_master=1)
    gate = None
    # Why spawn: a forked child would inherit the harness's registry of processes to kill.
    pool = multiprocessing.get_context("spawn").Pool(args.procs)
    rows = []
    try:
        print(f"starting a 3x2 Redis Cluster on {HOST}:{CLUSTER_PORT}-{CLUSTER_PORT + 5}", file=sys.stderr)
        cluster.start()
        gate = Slotgate(cluster.seeds, port=SLOTGATE_PORT, admin_port=SLOTGATE_ADMIN_PORT,
                        workers=args.workers, binary=os.path.abspath(args.binary) if args.binary else None)
        if not gate.binary.exists():
            print(f"slotgate binary not found at {gate.binary}", file=sys.stderr)
            return 2
        gate.start()
        print(f"loading {args.keys} keys through slotgate", file=sys.stderr)
        load_keys(gate, args.keys)
        for op in ops:
            for n in sizes:
                keys = spread_key_set(cluster, n, args.keys)
                print(f"{op} {n} keys: redis-benchmark via slotgate", file=sys.stderr)
                before = cpu_seconds(gate.process.pid)
                bench = redis_benchmark(op, keys, args)
                cpu = (cpu_seconds(gate.process.pid) - before) / args.requests * 10_000
                print(f"{op} {n} keys: Python direct", file=sys.stderr)
                py_direct = python_clients(pool, "direct", op, keys, args)
                print(f"{op} {n} keys: Python via slotgate", file=sys.stderr)
                py_gate = python_clients(pool, "slotgate", op, keys, args)
                rows.append({"op": op, "n": n, "bench": bench, "cpu": cpu, "py_direct": py_direct,
                             "py_gate": py_gate})
    finally:
        pool.terminate()
        pool.join()
        if gate is not None:
            gate.stop()
            gate.cleanup()
        cluster.stop()
    print_table(rows, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
