#!/usr/bin/python3
"""The performance table of issue 14, for the current build, in one command.

Starts its own 3x2 Redis Cluster (127.0.0.1:11300-11305, bus 21300-21305), a plain
redis-server (11320) as the CPU anchor, and slotgate (11310, admin 11311; idle-memory
runs on 11330/11331), then measures:

  * redis-benchmark -c 50 -r 100000 -d 16, GET and SET at -P 1 and -P 16:
    directly on the cluster (--cluster), through slotgate --workers 1 and
    --workers auto, and against the plain redis-server. CPU per request is the
    process's on-CPU time (all threads) around the run, from /proc/<pid>/task/*/schedstat;
  * slotgate's VmRSS growth per idle client connection (10k plain connections);
  * MGET/MSET of 10 and 100 keys spread over the 3 masters: redis-benchmark through
    slotgate (and its CPU per operation), and redis-py processes directly on the
    cluster (RedisCluster.mget_nonatomic / mset_nonatomic: one pipelined command per
    slot) vs. plain redis-py through slotgate, once with redis-py's pure-Python reply
    parser (Debian's python3-redis) and once with the hiredis parser (a venv,
    bench/.venv-hiredis, built on first use from bench/requirements-hiredis.txt).

Each line carries its target from the issue and whether it was met. With
--readme README.md the table (with machine and date) replaces the section between
`<!-- bench/issue_table.sh: begin -->` and `<!-- bench/issue_table.sh: end -->`.
Everything it starts is stopped on exit. Not part of .ci/run. Run it through
bench/issue_table.sh; see bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import multiprocessing
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
sys.path.insert(0, str(REPO_ROOT / "tests"))
sys.path.insert(0, str(HERE))

import baseline  # noqa: E402
import idle_memory  # noqa: E402
import run_multikey  # noqa: E402
from harness import RedisCluster, Slotgate  # noqa: E402
from harness.server import RedisServer  # noqa: E402
from harness.slotgate import default_binary  # noqa: E402

CLUSTER_PORT = 11300
GATE_PORT = 11310
ANCHOR_PORT = 11320
IDLE_GATE_PORT = 11330
# Column labels of the redis-py flavours (run_multikey.parser_name).
PARSER_LABEL = {"PythonParser": "redis-py, pure-Python parser", "HiredisParser": "redis-py + hiredis parser"}
BEGIN = "<!-- bench/issue_table.sh: begin -->"
END = "<!-- bench/issue_table.sh: end -->"


def cpu_seconds(pid: int) -> float:
    """On-CPU time of all live threads of pid, in ns resolution (/proc/<pid>/task/*/schedstat),
    instead of /proc/<pid>/stat's 10 ms ticks: at 1 µs per request a 100k-request run is only
    10 ticks. Falls back to /proc/<pid>/stat where schedstat is missing."""
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                total += int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return baseline.cpu_seconds(pid)
    return total / 1e9


def user_system_ticks(pid: int) -> tuple[int, int]:
    """utime and stime of pid (all threads), in clock ticks: only their ratio is used."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]), int(fields[12])


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat's cpu line."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return sum(values) - idle, sum(values)


class Cell(tuple):
    """One redis-benchmark run: rps, CPU µs/request of pid (None without a pid), the kernel's
    share of that CPU, and how busy the whole machine was (0..1)."""
    rps = property(lambda self: self[0])
    cpu = property(lambda self: self[1])
    kernel_share = property(lambda self: self[2])
    machine_busy = property(lambda self: self[3])


def bench(port: int, test: str, pipeline: int, args, cluster: bool = False, pid: int | None = None) -> Cell:
    target = (["--cluster"] if cluster else []) + ["-h", "127.0.0.1", "-p", str(port), "-d", str(args.data_size)]
    before = cpu_seconds(pid) if pid else 0.0
    ticks_before = user_system_ticks(pid) if pid else (0, 0)
    busy_before, total_before = machine_ticks()
    rps = baseline.redis_benchmark(target, test, pipeline, args)
    busy_after, total_after = machine_ticks()
    cpu = (cpu_seconds(pid) - before) / args.requests * 1e6 if pid else None
    share = None
    if pid:
        user, system = (a - b for a, b in zip(user_system_ticks(pid), ticks_before))
        share = system / (user + system) if user + system > 0 else None
    busy = (busy_after - busy_before) / max(1, total_after - total_before)
    return Cell((rps, cpu, share, busy))


def median_cell(runs: list[Cell]) -> Cell:
    """Each field's median over repeated runs of one cell (None stays None)."""
    def med(values):
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else None
    return Cell(tuple(med(field) for field in zip(*runs)))


def one_sitting(cluster: RedisCluster, binary: Path, args, runs: dict) -> None:
    """Every cell once: the plain redis-server and the direct cluster, then slotgate with
    1 and auto workers (each started afresh)."""
    anchor = RedisServer(port=ANCHOR_PORT)
    anchor.start()
    try:
        for p in args.pipelines:
            for t in args.tests:
                a = bench(ANCHOR_PORT, t, p, args, pid=anchor.node.process.pid)
                d = bench(CLUSTER_PORT, t, p, args, cluster=True)
                runs.setdefault(("anchor", t, p), []).append(a)
                runs.setdefault(("direct", t, p), []).append(d)
                log(f"{t} -P {p}: anchor {tuple(a)}, direct {tuple(d)}")
    finally:
        anchor.stop()
    for workers in ("1", "auto"):
        gate = Slotgate(cluster.seeds, port=GATE_PORT, admin_port=GATE_PORT + 1, workers=workers, binary=binary)
        gate.start(timeout=30)
        try:
            for p in args.pipelines:
                for t in args.tests:
                    c = bench(GATE_PORT, t, p, args, pid=gate.process.pid)
                    runs.setdefault((workers, t, p), []).append(c)
                    log(f"{t} -P {p}: slotgate workers={workers} {tuple(c)}")
        finally:
            gate.stop()
            gate.cleanup()


def simple_rows(cluster: RedisCluster, binary: Path, args) -> list[dict]:
    # The sittings alternate the processes measured, so a slow minute of the machine
    # spreads over all of them instead of landing on one cell; each cell is the median.
    runs: dict = {}
    for sitting in range(args.repeat):
        log(f"sitting {sitting + 1} of {args.repeat}")
        one_sitting(cluster, binary, args, runs)
    cells = {key: median_cell(values) for key, values in runs.items()}
    rows = []
    for p in args.pipelines:
        for t in args.tests:
            one, auto = cells[("1", t, p)], cells[("auto", t, p)]
            anchor, direct = cells[("anchor", t, p)], cells[("direct", t, p)]
            rows.append({"what": f"{t} -P {p}", "gate_rps": one.rps, "direct_rps": direct.rps,
                         "tput": one.rps / direct.rps, "tput_target": 0.8 if p > 1 else 0.85,
                         "cpu": one.cpu, "anchor_cpu": anchor.cpu, "cpu_ratio": one.cpu / anchor.cpu,
                         "cpu_target": 0.6 if p > 1 else 1.1, "auto_cpu": auto.cpu, "auto_ratio": auto.cpu / one.cpu,
                         "auto_target": 1.15 if p == 1 else None,
                         "gate_kernel": one.kernel_share, "anchor_kernel": anchor.kernel_share,
                         "busy_direct": direct.machine_busy, "busy_gate": one.machine_busy})
    return rows


def idle_kib(cluster: RedisCluster, binary: Path, args) -> float:
    ns = argparse.Namespace(connections=args.idle_connections, port_offset=IDLE_GATE_PORT - idle_memory.SLOTGATE_PORT)
    return idle_memory.measure(cluster, binary, "plain", ns)


def hiredis_python() -> Path | None:
    """The python of bench/.venv-hiredis: /usr/bin/python3's packages (Debian's redis-py) plus the
    hiredis reply parser from bench/requirements-hiredis.txt, built on first use. None (and the
    hiredis rows are left out) when it cannot be built, e.g. without access to PyPI."""
    venv, req = HERE / ".venv-hiredis", HERE / "requirements-hiredis.txt"
    python, stamp = venv / "bin" / "python", venv / "stamp"
    if stamp.exists() and stamp.read_text() == req.read_text():
        return python
    log(f"building {venv} from {req.name} ...")
    try:
        subprocess.run(["rm", "-rf", str(venv)], check=True)
        subprocess.run(["/usr/bin/python3", "-m", "venv", "--system-site-packages", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-deps", "-r", str(req)], check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        log(f"no hiredis venv ({e}): the table has the pure-Python parser rows only")
        return None
    stamp.write_text(req.read_text())
    return python


def python_pools(args) -> list[tuple[str, object]]:
    """(parser name, process pool) for each redis-py flavour measured: /usr/bin/python3's own
    (Debian ships redis-py without hiredis: the pure-Python parser) and the hiredis venv's."""
    pools = []
    ctx = multiprocessing.get_context("spawn")
    for python in (Path(sys.executable), hiredis_python()):
        if python is None:
            continue
        # A spawned process takes the executable (the spawn module's global) and this process's
        # sys.path as the pool starts it: the venv's site-packages go on the path for that moment.
        site = sorted(python.parent.parent.glob("lib/python3*/site-packages"))
        ctx.set_executable(str(python))
        sys.path[:0] = [str(d) for d in site]
        try:
            pool = ctx.Pool(args.procs)
        finally:
            del sys.path[:len(site)]
            ctx.set_executable(sys.executable)
        name = pool.apply(run_multikey.parser_name)
        if any(name == seen for seen, _ in pools):  # the system python has hiredis too
            pool.terminate()
            continue
        pools.append((name, pool))
    return pools


def multikey_rows(cluster: RedisCluster, binary: Path, args) -> list[dict]:
    gate = Slotgate(cluster.seeds, port=GATE_PORT, admin_port=GATE_PORT + 1, workers=1, binary=binary)
    pools = python_pools(args)
    rows = []
    mk = argparse.Namespace(clients=50, requests=args.multikey_requests, timeout=args.timeout,
                            duration=args.duration, procs=args.procs)
    try:
        gate.start(timeout=30)
        for node in cluster.masters():  # the GET/SET runs left their keys; load_keys checks DBSIZE
            node.call("FLUSHALL")
        run_multikey.load_keys(gate, args.keys)
        for op in ("MGET", "MSET"):
            for n in (10, 100):
                keys = run_multikey.spread_key_set(cluster, n, args.keys)
                before = cpu_seconds(gate.process.pid)
                rps = run_multikey.redis_benchmark(op, keys, mk, port=GATE_PORT)
                cpu = (cpu_seconds(gate.process.pid) - before) / mk.requests * 1e6
                py = {}
                for parser, pool in pools:
                    direct = python_run_cpu(cluster, gate, pool, "direct", op, keys, mk)
                    via = python_run_cpu(cluster, gate, pool, "slotgate", op, keys, mk)
                    log(f"{op} {n} ({parser}): redis-benchmark {rps:.0f}/s {cpu:.1f} µs; "
                        f"python direct {direct} via {via}")
                    py[parser] = {"direct": direct["rate"], "via": via["rate"], "direct_cpu": direct,
                                  "via_cpu": via}
                rows.append({"what": f"{op} {n} keys", "rps": rps, "cpu": cpu, "py": py,
                             "target": 3.0 if (op, n) == ("MGET", 100) else None})
    finally:
        for _, pool in pools:
            pool.terminate()
            pool.join()
        gate.stop()
        gate.cleanup()
    return rows


def python_run_cpu(cluster: RedisCluster, gate: Slotgate, pool, mode: str, op: str, keys: list[str],
                   mk: argparse.Namespace) -> dict:
    """One redis-py measurement (run_multikey.python_run) with the CPU every party spent per
    operation: the clients (their own count), the cluster's redis-servers and slotgate (schedstat
    over the whole run, the 2 s start included, so slightly high)."""
    servers = [node.process.pid for node in cluster.live_nodes()]
    before = (sum(cpu_seconds(p) for p in servers), cpu_seconds(gate.process.pid))
    rate, client_us = run_multikey.python_run(pool, mode, op, keys, mk, CLUSTER_PORT, GATE_PORT)
    after = (sum(cpu_seconds(p) for p in servers), cpu_seconds(gate.process.pid))
    ops = max(rate * mk.duration, 1.0)
    return {"rate": rate, "client": client_us, "redis": (after[0] - before[0]) / ops * 1e6,
            "gate": (after[1] - before[1]) / ops * 1e6 if mode == "slotgate" else 0.0}


def verdict(value: float, target: float | None, higher_is_better: bool) -> str:
    if target is None:
        return f"{value:.2f}"
    ok = value >= target if higher_is_better else value <= target
    return f"{value:.2f} ({'≥' if higher_is_better else '≤'} {target:g}: {'ok' if ok else 'MISSED'})"


def render(simple: list[dict], idle: float | None, multi: list[dict], args, binary: Path) -> str:
    out = [f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {machine()}; "
           f"`{binary.name}` from {git_rev()}. redis-benchmark -c 50 -r 100000 -d {args.data_size} "
           f"-n {args.requests}; CPU is µs on-CPU (all threads, schedstat) per request; each GET/SET cell is the median "
           f"of {args.repeat} sittings.", ""]
    if simple:
        out += ["| test | slotgate w1 rps | direct cluster rps | slotgate/direct | slotgate CPU µs/req "
           "| redis-server CPU µs/req | slotgate/redis-server CPU | workers auto CPU µs/req | auto/w1 CPU |",
                "|---|---|---|---|---|---|---|---|---|"]
    for r in simple:
        out.append(f"| {r['what']} | {r['gate_rps']:.0f} | {r['direct_rps']:.0f} | "
                   f"{verdict(r['tput'], r['tput_target'], True)} | {r['cpu']:.2f} | {r['anchor_cpu']:.2f} | "
                   f"{verdict(r['cpu_ratio'], r['cpu_target'], False)} | {r['auto_cpu']:.2f} | "
                   f"{verdict(r['auto_ratio'], r['auto_target'], False)} |")
    if simple:
        out += ["", "Where that CPU goes: the kernel's share (from utime/stime) of slotgate's and of the plain "
                "redis-server's CPU per request, slotgate's kernel time alone as a multiple of redis-server's whole "
                "CPU, and how busy the whole machine (all CPUs) was while the cluster was used directly and through "
                "slotgate. When both runs keep the machine busy, the throughput ratio is the ratio of the CPU all "
                "processes spend per request, slotgate's included.", "",
                "| test | slotgate kernel µs/req (share) | redis-server kernel µs/req (share) "
                "| slotgate kernel / redis-server CPU | machine busy, direct | machine busy, via slotgate |",
                "|---|---|---|---|---|---|"]
        for r in simple:
            gk, ak = r["gate_kernel"], r["anchor_kernel"]
            if gk is None or ak is None:
                continue
            out.append(f"| {r['what']} | {r['cpu'] * gk:.2f} ({gk:.0%}) | {r['anchor_cpu'] * ak:.2f} ({ak:.0%}) | "
                       f"{r['cpu'] * gk / r['anchor_cpu']:.2f} | {r['busy_direct']:.0%} | {r['busy_gate']:.0%} |")
        out.append("")
    if idle is not None:
        out += [f"Idle client connections ({args.idle_connections}, nothing sent, --workers 1): "
                f"{verdict(idle, 2.0, False)} KiB of slotgate VmRSS each.", ""]
    if multi:
        parsers = list(multi[0]["py"])
        head = "| command (keys over 3 masters) | redis-benchmark via slotgate ops/s | slotgate CPU µs/op "
        for parser in parsers:
            head += (f"| {PARSER_LABEL.get(parser, parser)}: direct, per-slot pipeline ops/s ({args.procs} procs) "
                     "| via slotgate ops/s | via slotgate / direct ")
        out += [head + "|", "|---|---|---" + "|---|---|---" * len(parsers) + "|"]
        for r in multi:
            line = f"| {r['what']} | {r['rps']:.0f} | {r['cpu']:.1f} "
            for parser in parsers:
                py = r["py"][parser]
                line += (f"| {py['direct']:.0f} | {py['via']:.0f} | "
                         f"{verdict(py['via'] / py['direct'], r['target'], True)} ")
            out.append(line + "|")
        out += ["", "redis-py directly on the cluster is RedisCluster.mget_nonatomic / mset_nonatomic (one "
                "pipelined command per slot); through slotgate it is plain Redis.mget / mset. Each flavour of "
                "redis-py is a column group: the ratio depends as much on the client's cost per reply as on "
                "slotgate's, and the hiredis parser is what `pip install redis[hiredis]` gives.", "",
                "Where one redis-py operation's CPU goes (µs per operation: the clients' own, the "
                "cluster's redis-servers', slotgate's). Here every process shares the same CPUs, so the "
                "throughput ratio is about the ratio of those sums; the last column is the ratio slotgate "
                "would reach if it cost no CPU at all.", "",
                "| command | redis-py | direct: client + redis | via slotgate: client + redis + slotgate "
                "| ratio if slotgate were free |", "|---|---|---|---|---|"]
        for r in multi:
            for parser in parsers:
                d, v = r["py"][parser]["direct_cpu"], r["py"][parser]["via_cpu"]
                out.append(f"| {r['what']} | {PARSER_LABEL.get(parser, parser)} | {d['client']:.0f} + "
                           f"{d['redis']:.0f} | {v['client']:.0f} + {v['redis']:.0f} + {v['gate']:.0f} | "
                           f"{(d['client'] + d['redis']) / max(v['client'] + v['redis'], 1e-9):.2f} |")
        out.append("")
    out.append("The machine is shared (other builds and tests may run at the same time): compare "
               "ratios measured in one sitting, not absolute numbers across runs.")
    return "\n".join(out)


def machine() -> str:
    model = ""
    try:
        m = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        model = m.group(1).strip() if m else ""
    except OSError:
        pass
    return f"{platform.node() or 'host'} ({os.cpu_count()} CPUs, {model or platform.machine()}, {platform.system()} " \
           f"{platform.release()})"


def git_rev() -> str:
    res = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                         text=True)
    return res.stdout.strip() or "unknown revision"


def rewrite_readme(path: Path, table: str) -> None:
    text = path.read_text()
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise SystemExit(f"{path}: markers {BEGIN} / {END} not found")
    path.write_text(text[:start + len(BEGIN)] + "\n" + table + "\n" + text[end:])


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--readme", type=Path, help="rewrite the marked section of this file with the table")
    p.add_argument("--binary", default=None, help="slotgate binary (default: $SLOTGATE_BIN or build/slotgate)")
    p.add_argument("--requests", type=int, default=200_000, help="redis-benchmark -n for GET/SET (default 200000)")
    p.add_argument("--multikey-requests", type=int, default=20_000, help="-n for MGET/MSET (default 20000)")
    p.add_argument("--idle-connections", type=int, default=10_000, help="idle connections (default 10000)")
    p.add_argument("--keys", type=int, default=100_000, help="keys loaded for MGET/MSET (default 100000)")
    p.add_argument("--procs", type=int, default=4, help="redis-py processes (default 4)")
    p.add_argument("--duration", type=float, default=4.0, help="seconds per redis-py measurement (default 4)")
    p.add_argument("--timeout", type=float, default=600, help="seconds per redis-benchmark run")
    p.add_argument("--repeat", type=int, default=3,
                   help="sittings of the GET/SET runs; each cell is the median (default 3)")
    p.add_argument("--skip", default="", help="comma list of parts to skip: simple,idle,multikey")
    args = p.parse_args()
    args.tests, args.pipelines = ["SET", "GET"], [1, 16]
    args.clients, args.keyspace, args.data_size = 50, 100_000, 16
    return args


def main() -> int:
    args = parse_args()
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, frame: sys.exit(128 + signum))
    binary = idle_memory.resolve(args.binary)
    if not binary.exists():
        log(f"slotgate binary not found at {binary}: cmake -S . -B build && cmake --build build --target slotgate")
        return 2
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    need = args.idle_connections + 200
    soft, hard = idle_memory.resource.getrlimit(idle_memory.resource.RLIMIT_NOFILE)
    if soft < need:
        idle_memory.resource.setrlimit(idle_memory.resource.RLIMIT_NOFILE, (min(need, hard), hard))
    cluster = RedisCluster(base_port=CLUSTER_PORT)
    log(f"starting a 3x2 cluster on {CLUSTER_PORT}-{CLUSTER_PORT + 5} ...")
    cluster.start()
    try:
        simple = simple_rows(cluster, binary, args) if "simple" not in skip else []
        idle = idle_kib(cluster, binary, args) if "idle" not in skip else None
        multi = multikey_rows(cluster, binary, args) if "multikey" not in skip else []
    finally:
        cluster.stop()
    table = render(simple, idle, multi, args, binary)
    print(table)
    if args.readme:
        rewrite_readme(args.readme, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
