"""The README's command table is what the binary says about every command."""
import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def slotgate_bin():
    b = os.environ.get("SLOTGATE_BIN", "build/slotgate")
    return str(b if os.path.isabs(b) else ROOT / b)


def test_readme_command_table_matches_the_binary():
    table = subprocess.run([slotgate_bin(), "--command-table"], capture_output=True, text=True,
                           check=True).stdout
    readme = (ROOT / "README.md").read_text()
    m = re.search(r"<!-- command-table:begin -->\n(.*?)<!-- command-table:end -->", readme, re.S)
    assert m, "README.md lacks the command-table markers"
    assert m.group(1) == table, "README command table is stale: paste `slotgate --command-table`"


def test_command_table_names_every_routing_kind_and_refusals():
    table = subprocess.run([slotgate_bin(), "--command-table"], capture_output=True, text=True,
                           check=True).stdout
    for needle in ("`GET`", "`MGET`", "`KEYS`", "`SCAN`", "`MULTI`", "`BLPOP`", "`SUBSCRIBE`",
                   "`PING`", "`CLUSTER SLOTS`", "`SHUTDOWN`", "`CLUSTER COUNTKEYSINSLOT`"):
        assert needle in table, needle
