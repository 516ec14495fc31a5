"""redis-benchmark 7 (Debian's redis-tools) against slotgate.

    /usr/bin/python3 redis_benchmark.py plain|cluster

cluster = `redis-benchmark --cluster`, which reads CLUSTER NODES from slotgate and
opens its connections to every master listed there (slotgate, once). A run passes
when every requested test prints its throughput line and nothing reports an error.
Features (the others in the table do not apply to a load generator):
  connect   one tiny PING run with the password
  set_get   -t set,get over 100000 random keys (so every master is hit)
  pipeline  the same with -P 16
  mset      -t mset (MSET of 10 keys; in --cluster mode redis-benchmark tags them to
            one slot, in plain mode slotgate splits them across masters)
  failover  a looping set,get run while the test performs CLUSTER FAILOVER, then a
            short run after it
Output protocol as in protocol.py.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

from protocol import FAILOVER_TIMEOUT, FeatureFailed, emit, report, run_with_timeout, settings, describe

ERROR_MARKERS = ("Error", "ERR", "error", "MOVED", "ASK ", "CLUSTERDOWN", "NOAUTH", "WRONGPASS")


def base_argv(s, cluster_mode: bool) -> list[str]:
    argv = ["redis-benchmark", "-h", s.host, "-p", str(s.port), "-c", "4", "-r", "100000"]
    if s.password:
        argv += ["-a", s.password]
    if cluster_mode:
        argv.append("--cluster")
    return argv


def errors_in(output: str) -> list[str]:
    return [ln for ln in output.splitlines() if any(m in ln for m in ERROR_MARKERS)]


def run_benchmark(s, cluster_mode: bool, tests: str, n: int, extra=()) -> str:
    argv = base_argv(s, cluster_mode) + ["-q", "-n", str(n), "-t", tests] + list(extra)
    res = subprocess.run(argv, capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    out = (res.stdout + res.stderr).decode(errors="replace").replace("\r", "\n")
    bad = errors_in(out)
    if res.returncode != 0 or bad:
        why = (bad or [out.strip()])[0][:300]
        if "Invalid cluster: 1 node(s)" in out:
            # redis-benchmark 7.0 (src/redis-benchmark.c) exits when CLUSTER NODES lists
            # fewer than 2 masters (`cluster_node_count <= 1`); later releases only
            # refuse 0. slotgate's emulation shows exactly one master.
            why += " (redis-benchmark 7.0 refuses clusters with fewer than 2 masters)"
        shown = " ".join(a for a in argv[7:] if a not in ("-a", s.password))
        raise FeatureFailed(f"redis-benchmark {shown} exited {res.returncode}: {why}")
    done = [ln.strip() for ln in out.splitlines() if "requests per second" in ln]
    for t in tests.split(","):
        if not any(ln.upper().startswith(t.upper()) for ln in done):
            raise FeatureFailed(f"no result line for {t.upper()}: {out.strip()[-300:]}")
    return "; ".join(ln.split(",")[0] for ln in done)


def main() -> None:
    if len(sys.argv) != 2 or sys.argv[1] not in ("plain", "cluster"):
        raise SystemExit("usage: redis_benchmark.py plain|cluster")
    cluster_mode = sys.argv[1] == "cluster"
    s = settings()
    state = {"connected": False}

    def feature(name, fn, timeout=150.0):
        if name != "connect" and not state["connected"]:
            report(name, False, "not connected")
            return
        try:
            detail = run_with_timeout(fn, timeout, name)
        except BaseException as exc:  # noqa: BLE001
            report(name, False, describe(exc))
            return
        if name == "connect":
            state["connected"] = True
        report(name, True, detail)

    feature("connect", lambda: run_benchmark(s, cluster_mode, "ping_mbulk", 100))
    feature("set_get", lambda: run_benchmark(s, cluster_mode, "set,get", 20000))
    feature("pipeline", lambda: run_benchmark(s, cluster_mode, "set,get", 50000, extra=["-P", "16"]))
    feature("mset", lambda: run_benchmark(s, cluster_mode, "mset", 5000))

    def failover():
        argv = base_argv(s, cluster_mode) + ["-q", "-l", "-t", "set,get"]
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        chunks: list[bytes] = []
        reader = threading.Thread(target=lambda: chunks.extend(iter(lambda: p.stdout.read(4096), b"")),
                                  daemon=True)
        reader.start()
        emit({"event": "failover_ready"})
        line = sys.stdin.readline().strip()
        time.sleep(1.0)
        alive = p.poll() is None
        p.send_signal(signal.SIGINT)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        reader.join(5)
        if line != "go":
            raise FeatureFailed(f"test aborted the failover ({line!r})")
        out = b"".join(chunks).decode(errors="replace").replace("\r", "\n")
        bad = errors_in(out)
        if bad:
            raise FeatureFailed(f"during the failover: {bad[0][:300]}")
        if not alive:
            raise FeatureFailed(f"redis-benchmark -l stopped during the failover: {out.strip()[-300:]}")
        after = run_benchmark(s, cluster_mode, "set,get", 5000)
        return f"looping set,get ran through the failover without an error; after: {after}"

    if state["connected"]:
        feature("failover", failover, timeout=FAILOVER_TIMEOUT)
    else:
        report("failover", False, "not connected")
    emit({"event": "done"})


if __name__ == "__main__":
    main()
