"""slotgate_commands_total is labelled by the command table: a subcommand (CONFIG GET,
SCRIPT EXISTS, XINFO STREAM) counts under its command's name, as Redis's own
`cmdstat_config` does, not as "other". The label set is the table's top-level commands,
carried by each command as its metrics index, so no name list is kept by hand.
"""

from __future__ import annotations

import urllib.request
import uuid

from prometheus_client.parser import text_string_to_metric_families

from harness import wait_until

PUBLISH_WAIT_S = 5.0  # workers publish their counters about once a second


def commands_total(gate, command: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{gate.admin_port}/metrics", timeout=5) as r:
        body = r.read().decode()
    total = 0.0
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            if s.name == "slotgate_commands_total" and s.labels.get("command") == command:
                total += s.value
    return total


def test_subcommands_are_counted_under_their_command_not_as_other(slotgate):
    config0 = commands_total(slotgate, "config")
    script0 = commands_total(slotgate, "script")
    xinfo0 = commands_total(slotgate, "xinfo")
    stream = f"metrics:{uuid.uuid4().hex}"
    with slotgate.raw() as conn:
        for _ in range(5):
            assert conn.command("CONFIG", "GET", "maxmemory")[0] == b"maxmemory"
        for _ in range(3):
            assert conn.command("SCRIPT", "EXISTS", "0" * 40) == [0]
        conn.command("XADD", stream, "*", "f", "v")
        assert conn.command("XINFO", "STREAM", stream)

    def counted():
        return (commands_total(slotgate, "config") >= config0 + 5
                and commands_total(slotgate, "script") >= script0 + 3
                and commands_total(slotgate, "xinfo") >= xinfo0 + 1)

    try:
        wait_until(counted, PUBLISH_WAIT_S, "subcommands counted under their command", interval=0.2)
    except TimeoutError:
        raise AssertionError(
            "CONFIG GET/SCRIPT EXISTS/XINFO STREAM not counted under config/script/xinfo: "
            f"config {commands_total(slotgate, 'config') - config0}, "
            f"script {commands_total(slotgate, 'script') - script0}, "
            f"xinfo {commands_total(slotgate, 'xinfo') - xinfo0}, "
            f"other {commands_total(slotgate, 'other')}") from None
