#!/usr/bin/env python3
"""Fails when a function under PROXY_DIR is longer than --max lines (80 by default).

Long functions are where a newcomer stops reading: split them into named steps. Declarative
tables (constexpr arrays, the generated command_table.inc) are not functions and are not
counted. The scan is textual: strings and // comments are blanked, braces are counted, and a
brace opened at namespace level after a signature with '(' starts a function.

usage: function_length.py PROXY_DIR [--max N]   (exit 1 and one line per long function)
"""
import argparse
import pathlib
import re
import sys


def strip(line: str) -> str:
    line = re.sub(r'"(\\.|[^"\\])*"', '""', line)
    line = re.sub(r"'(\\.|[^'\\])*'", "''", line)
    return line.split("//")[0]


def long_functions(path: pathlib.Path, limit: int):
    depth = namespaces = 0
    start = None
    signature = ""
    for number, raw in enumerate(path.read_text(errors="replace").split("\n"), 1):
        line = strip(raw)
        if start is None and depth == namespaces and line.strip():
            signature = line if not line[0].isspace() else signature + line
        for ch in line:
            if ch == "{":
                if depth == namespaces and start is None:
                    if re.match(r"\s*(namespace|extern)", signature):
                        namespaces += 1
                    elif ("(" in signature and not re.match(r"\s*(struct|class|enum|union)", signature)
                          and "=" not in signature.split("(")[0]):
                        start = (number, signature.strip()[:100])
                depth += 1
            elif ch == "}":
                depth -= 1
                namespaces = min(namespaces, depth)
                if start and depth == namespaces:
                    if number - start[0] + 1 > limit:
                        yield number - start[0] + 1, start
                    start = None
        if depth == namespaces and start is None and line.rstrip().endswith((";", "}")):
            signature = ""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("root")
    parser.add_argument("--max", type=int, default=80)
    args = parser.parse_args()
    found = 0
    for path in sorted(pathlib.Path(args.root).rglob("*")):
        if path.suffix not in (".cpp", ".hpp", ".h"):
            continue
        for length, (line, signature) in long_functions(path, args.max):
            print(f"{path}:{line}: {length} lines (more than {args.max}): {signature}")
            found += 1
    if found == 0:
        print(f"no function longer than {args.max} lines")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
