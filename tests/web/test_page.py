"""The admin page in a real browser (headless Debian chromium driven by playwright-core):
it loads with no console error, the slot map shows the three masters, and after CLUSTER
FAILOVER on a replica the new master and a failover event appear within a few seconds,
while clients keep sending traffic. Screenshots before and after are kept in the log dir."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time

from conftest import WEB_DIR


class Traffic:
    """SET/GET on keys of every master until stopped, so the page has live numbers and the
    demoted master's MOVED makes slotgate refresh its topology at once."""

    def __init__(self, gate, cluster):
        self.client = gate.client(socket_timeout=30)
        self.keys = [k for ks in cluster.keys_on_each_master(n_per_master=4, prefix="page").values() for k in ks]
        self.stop_flag = threading.Event()
        self.errors: list[str] = []
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        while not self.stop_flag.is_set():
            for k in self.keys:
                try:
                    self.client.set(k, "v")
                    self.client.get(k)
                except Exception as e:  # noqa: BLE001 - reported by the test
                    self.errors.append(repr(e))
            time.sleep(0.02)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_flag.set()
        self.thread.join(10)


def read_line(proc: subprocess.Popen, timeout: float) -> dict:
    result: list[str] = []
    t = threading.Thread(target=lambda: result.append(proc.stdout.readline()), daemon=True)
    t.start()
    t.join(timeout)
    if not result or not result[0]:
        proc.kill()
        raise AssertionError(f"page_check.mjs said nothing within {timeout}s; stderr:\n{proc.stderr.read()}")
    return json.loads(result[0])


def test_page_shows_three_masters_and_then_the_failover(cluster, slotgate, logdir):
    node = shutil.which("node")
    assert node, "node is not installed (.ci/setup installs nodejs)"
    assert (WEB_DIR / "node_modules" / "playwright-core").is_dir(), "run `npm ci` in tests/web (.ci/setup does)"
    shots = logdir / "screenshots"
    shots.mkdir(exist_ok=True)
    with Traffic(slotgate, cluster) as traffic:
        proc = subprocess.Popen([node, str(WEB_DIR / "page_check.mjs"), slotgate.admin_url("/"), str(shots), "3"],
                                cwd=WEB_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        try:
            ready = read_line(proc, 60)
            assert ready.get("ready"), ready
            assert sorted(ready["masters"]) == sorted(m.address for m in cluster.masters()), ready
            # Per-node p50/p99 (page_check.mjs checked the row, the per-node table and the hover).
            shown = {r["node"] for r in ready["node_latency"]}
            assert set(ready["masters"]) <= shown, ready
            print("per-node latency on the page: " +
                  ", ".join(f"{r['node']} p50 {r['p50']} p99 {r['p99']}" for r in ready["node_latency"]))
            old_master = cluster.masters()[0]
            replica = cluster.replicas_of(old_master)[0]
            cluster.failover(replica, timeout=30)
            proc.stdin.write(json.dumps({"new_master": replica.address, "old_master": old_master.address}) + "\n")
            proc.stdin.flush()
            done = read_line(proc, 30)
            assert done.get("done"), done
            print(f"page showed the new master {done['seconds']:.1f}s after the failover completed; "
                  f"requests/s before: {ready.get('requests_per_second')}")
            assert proc.wait(20) == 0, proc.stderr.read()
        finally:
            if proc.poll() is None:
                proc.kill()
    assert not traffic.errors, traffic.errors[:5]
    for name in ("slotgate-page-before-failover.png", "slotgate-page-after-failover.png", "slotgate-page-dark.png"):
        assert (shots / name).stat().st_size > 10_000, name
