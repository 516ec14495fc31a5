"""The slot map in a real browser while a slot is being migrated (CLUSTER SETSLOT … MIGRATING /
IMPORTING, then STABLE): the slot gets its own band with the migrating pattern, its hover text
names both masters, the legend explains it, the event list shows the move starting, and the
source master's hover detail lists it."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request

from conftest import SLOTGATE_PORT, WEB_DIR
from harness import Slotgate


def topology(gate) -> str:
    """/topology as the page saw it, for the failure message."""
    try:
        with urllib.request.urlopen(gate.admin_url("/topology"), timeout=5) as r:
            return r.read().decode()
    except OSError as e:
        return repr(e)


def test_page_marks_a_slot_being_migrated(cluster, logdir):
    node = shutil.which("node")
    assert node and (WEB_DIR / "node_modules" / "playwright-core").is_dir(), "node + npm ci in tests/web"
    shots = logdir / "screenshots"
    shots.mkdir(exist_ok=True)
    gate = Slotgate(cluster.seeds, port=SLOTGATE_PORT + 10, admin_port=SLOTGATE_PORT + 11,
                    workdir=logdir / "slotgate-migrations", config_text="cluster:\n  refresh_interval: 1s\n")
    gate.start()
    slot = None
    try:
        # The importing end listed before the migrating one on /topology: the page must still
        # name both (it once kept only the end it read last).
        listed = [n["address"] for n in json.loads(topology(gate))["nodes"] if n["role"] == "master" and n["slots"]]
        target, source = cluster.node_at(listed[0]), cluster.node_at(listed[1])
        slot = cluster.keyslot(cluster.keys_on_each_master(n_per_master=1, prefix="page-mig")[source][0])
        ids = {}
        for n in (source, target):
            i = n.call("CLUSTER", "MYID")
            ids[n.address] = i.decode() if isinstance(i, bytes) else i
        target.call("CLUSTER", "SETSLOT", slot, "IMPORTING", ids[source.address])
        source.call("CLUSTER", "SETSLOT", slot, "MIGRATING", ids[target.address])
        proc = subprocess.run([node, str(WEB_DIR / "slot_moves_check.mjs"), gate.admin_url("/"), str(shots),
                               str(slot), source.address, target.address],
                              cwd=WEB_DIR, capture_output=True, text=True, timeout=60)
        result = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.stdout.strip() else {}
        assert proc.returncode == 0 and result.get("ok"), (result, proc.stderr[-2000:], topology(gate))
        print(f"slot {slot} on the page: {result['title']} ({result['width']:.0f}px)")
    finally:
        if slot is not None:
            source.call("CLUSTER", "SETSLOT", slot, "STABLE")
            target.call("CLUSTER", "SETSLOT", slot, "STABLE")
        gate.stop()
