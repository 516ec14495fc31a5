#!/usr/bin/env python3
"""Write the client table of a tests/clients run into README.md (between the
`<!-- client-table:begin -->` and `<!-- client-table:end -->` markers), or check that
README.md already holds it.

    readme_table.py RESULTS.md [--check]

RESULTS.md is what conftest.py writes to $SLOTGATE_CLIENT_RESULTS: the Markdown table
(client names carry the versions that ran), then "- client / feature: detail" lines
for failures, which are not copied. --check exits 1 with a diff when README.md differs.
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
BEGIN, END = "<!-- client-table:begin -->", "<!-- client-table:end -->"


def table_of(results: str) -> str:
    return "\n".join(line for line in results.splitlines() if line.startswith("|")) + "\n"


def main() -> int:
    args = [a for a in sys.argv[1:] if a != "--check"]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    table = table_of(Path(args[0]).read_text())
    text = README.read_text()
    try:
        head, rest = text.split(BEGIN + "\n", 1)
        _, tail = rest.split(END, 1)
    except ValueError:
        print(f"readme_table.py: README.md has no {BEGIN} ... {END} block", file=sys.stderr)
        return 2
    new = head + BEGIN + "\n" + table + END + tail
    if "--check" in sys.argv:
        if new != text:
            sys.stdout.writelines(difflib.unified_diff(text.splitlines(True), new.splitlines(True), "README.md",
                                                       "README.md (this run)"))
            print("README.md's client table differs from this run: tests/clients/run --update-readme",
                  file=sys.stderr)
            return 1
        return 0
    README.write_text(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
