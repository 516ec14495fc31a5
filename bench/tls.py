#!/usr/bin/python3
"""slotgate over TLS against slotgate over plain TCP, in one run.

A private 3x2 Redis Cluster (ports 7600-7605, via the test harness) and one slotgate
(7610 plain, 7612 TLS, admin 7611; --workers 1) with a certificate from a throw-away CA
(tests/harness/tls_certs.py). redis-benchmark SET/GET at -P 1 and -P 16 against both
listeners, with `--tls --cacert` on the TLS one. Prints requests per second both ways, their
ratio, and slotgate's CPU seconds per 100k requests (utime+stime around each run). Every
redis-benchmark connection does one handshake at its start (-c connections), so the table
shows the steady-state cost of encryption, not of handshakes.

    bench/tls.py [--requests 200000] [--clients 50] [--binary build/slotgate]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests"))
sys.path.insert(0, str(REPO_ROOT / "bench"))

from baseline import cpu_seconds, redis_benchmark  # noqa: E402
from harness import RedisCluster, Slotgate  # noqa: E402
from harness.slotgate import default_binary  # noqa: E402
from harness.tls_certs import make_ca  # noqa: E402

_OFFSET = int(os.environ.get("SLOTGATE_TEST_PORT_OFFSET", "0"))  # shared machines
CLUSTER_PORT, PLAIN_PORT, ADMIN_PORT, TLS_PORT = (7600 + _OFFSET, 7610 + _OFFSET, 7611 + _OFFSET,
                                                  7612 + _OFFSET)


def measure(gate: Slotgate, target: list[str], test: str, pipeline: int, args) -> tuple[float, float]:
    before = cpu_seconds(gate.process.pid)
    rps = redis_benchmark(target, test, pipeline, args)
    cpu = (cpu_seconds(gate.process.pid) - before) / args.requests * 100_000
    return rps, cpu


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--requests", type=int, default=200_000)
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--keyspace", type=int, default=100_000)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--binary", default=None)
    args = p.parse_args()
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, frame: sys.exit(128 + signum))
    binary = Path(args.binary).resolve() if args.binary else default_binary().resolve()
    pki = tempfile.mkdtemp(prefix="slotgate-bench-tls-")
    ca = make_ca(pki, "bench-ca")
    cert = ca.issue("slotgate", out="server")
    cluster = RedisCluster(base_port=CLUSTER_PORT)
    cluster.start()
    config = (f"tls_listen: 127.0.0.1:{TLS_PORT}\n"
              f"tls:\n  cert_file: {cert.cert}\n  key_file: {cert.key}\n")
    gate = Slotgate(cluster.seeds, port=PLAIN_PORT, admin_port=ADMIN_PORT, workers=args.workers,
                    binary=binary, config_text=config)
    rows = []
    try:
        gate.start(timeout=30)
        plain = ["-h", "127.0.0.1", "-p", str(PLAIN_PORT)]
        tls = ["-h", "127.0.0.1", "-p", str(TLS_PORT), "--tls", "--cacert", ca.cert]
        for pipeline in (1, 16):
            for test in ("SET", "GET"):
                p_rps, p_cpu = measure(gate, plain, test, pipeline, args)
                t_rps, t_cpu = measure(gate, tls, test, pipeline, args)
                rows.append((f"{test} -P {pipeline}", p_rps, t_rps, p_cpu, t_cpu))
                print(f"{test} -P {pipeline}: plain {p_rps:.0f} rps, tls {t_rps:.0f} rps", file=sys.stderr)
    finally:
        gate.stop()
        gate.cleanup()
        cluster.stop()
        shutil.rmtree(pki, ignore_errors=True)
    print(f"redis-benchmark -c {args.clients} -r {args.keyspace} -n {args.requests}; "
          f"slotgate --workers {args.workers} ({binary})\n")
    print("| test | plain rps | TLS rps | TLS/plain | CPU s/100k plain | CPU s/100k TLS |")
    print("|---|---|---|---|---|---|")
    for name, p_rps, t_rps, p_cpu, t_cpu in rows:
        print(f"| {name} | {p_rps:.0f} | {t_rps:.0f} | {t_rps / p_rps:.2f} | {p_cpu:.3f} | {t_cpu:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
