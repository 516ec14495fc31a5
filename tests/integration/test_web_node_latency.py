"""Per-node latency: slotgate_backend_request_duration_seconds{node}.

The time from a request being sent to a cluster node until that node's reply, so the
page (and Grafana) can tell which master is slow, not only which command.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request

from harness import wait_until

METRIC = "slotgate_backend_request_duration_seconds"

# Keeps the node busy for about `ms` milliseconds (it serves nobody else meanwhile).
BUSY = """
local t = redis.call('TIME')
local start = t[1] * 1000000 + t[2]
while true do
  local n = redis.call('TIME')
  if n[1] * 1000000 + n[2] - start >= tonumber(ARGV[1]) * 1000 then return 1 end
end
"""


def node_latency(gate) -> dict[str, dict]:
    with urllib.request.urlopen(gate.admin_url("/stats"), timeout=5) as r:
        fams = json.loads(r.read())["families"]
    return {s["labels"]["node"]: s for s in fams.get(METRIC, {}).get("series", [])}


def count_above(series: dict, bound: float) -> int:
    below = 0
    for le, cumulative in series["buckets"]:
        if le != "+Inf" and float(le) <= bound:
            below = cumulative
    return series["count"] - below


def test_backend_request_duration_is_counted_per_master_and_shows_the_slow_one(cluster, make_slotgate):
    gate = make_slotgate(seeds=cluster.seeds, workers=1)
    client = gate.client()
    keys = cluster.keys_on_each_master(n_per_master=20, prefix="web-nodelat")
    for ks in keys.values():
        for k in ks:
            client.set(k, "v")
    masters = {m.address for m in keys}
    wait_until(lambda: all(node_latency(gate).get(a, {}).get("count", 0) >= 20 for a in masters), 5,
               f"{METRIC} with >= 20 observations for every master")
    lat = node_latency(gate)
    for a in masters:
        assert lat[a]["buckets"][-1] == ["+Inf", lat[a]["count"]], lat[a]

    # One master is busy for 300 ms: a GET slotgate sends it meanwhile waits, and that
    # wait is that master's latency, nobody else's.
    slow = sorted(keys, key=lambda m: m.address)[0]
    before = {a: count_above(s, 0.1) for a, s in node_latency(gate).items()}
    busy = threading.Thread(target=lambda: slow.call("EVAL", BUSY, 0, 300, timeout=5), daemon=True)
    busy.start()
    time.sleep(0.05)
    assert client.get(keys[slow][0]) == b"v"
    busy.join(5)

    def slow_seen() -> bool:
        return count_above(node_latency(gate)[slow.address], 0.1) >= before.get(slow.address, 0) + 1

    wait_until(slow_seen, 5, f"an observation above 100 ms for {slow.address}")
