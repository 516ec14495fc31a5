"""slotgate's command table agrees with a real redis-server 7.0 about where the keys are.

Starts a plain redis-server on 127.0.0.1:7101 and checks that
  * tests/unit/commands/getkeys_corpus.txt says exactly what `COMMAND GETKEYS` says for every
    line (the unit test unit_commands checks our key extraction against the same file, so the
    two together compare slotgate with Redis);
  * the corpus has at least one line for every command and subcommand that takes keys;
  * proxy/commands/command_table.inc is what the generator makes from this redis-server.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_command_keys.py
Set SLOTGATE_REGEN_CORPUS=1 to rewrite the expectations in the corpus from the server.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "unit" / "commands" / "getkeys_corpus.txt"
TABLE = ROOT / "proxy" / "commands" / "command_table.inc"
GENERATOR = ROOT / "proxy" / "commands" / "generate_table.py"
PORT = 7101
GEN_PORT = 7102

sys.path.insert(0, str(GENERATOR.parent))
from generate_table import EXTRAS, Resp  # noqa: E402  (the generator's tiny RESP client)


def _call(conn, *args):
    try:
        return conn.call(*args)
    except RuntimeError as err:  # Resp raises server errors
        return err


@pytest.fixture(scope="module")
def redis():
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server not installed")
    workdir = tempfile.mkdtemp(prefix="sg-keys-")
    proc = subprocess.Popen([binary, "--port", str(PORT), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", workdir],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        conn = None
        for _ in range(100):
            try:
                conn = Resp(PORT)
                conn.call("PING")
                break
            except OSError:
                time.sleep(0.05)
        assert conn is not None, "redis-server did not start"
        yield conn
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def parse_corpus():
    """Yields (line_number, raw_line, args, expected) for every command line."""
    for number, line in enumerate(CORPUS.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            yield number, line, None, None
            continue
        command, sep, expected = line.partition("=>")
        assert sep, f"line {number}: missing '=>'"
        args = ["" if tok == '""' else tok for tok in command.split()]
        yield number, line, args, expected.strip()


def server_expectation(conn, args):
    """The corpus notation for what COMMAND GETKEYS answers: key indices, '!' or '-'."""
    reply = _call(conn, "COMMAND", "GETKEYS", *args)
    if isinstance(reply, Exception):
        text = str(reply)
        if "has no key arguments" in text:
            return "-"
        if "Invalid arguments" in text or "Invalid number of arguments" in text:
            return "!"
        raise AssertionError(f"{args}: unexpected error {text}")
    positions = []
    for name in reply:
        candidates = [i for i, a in enumerate(args) if i > 0 and a == name and i not in positions]
        assert len(candidates) == 1, f"{args}: key {name!r} is ambiguous; use unique names"
        positions.append(candidates[0])
    return " ".join(str(p) for p in positions)


def table_commands():
    """name -> keyed? for every row of the generated table."""
    rows = {}
    pattern = re.compile(r'make_command\("([^"]+)", (-?\d+), ([^,]+), [^,]+, (-?\d+), -?\d+, '
                         r'-?\d+, ([^,]+), [^,]+, [^,]+, GetKeysProc::(\w+), \d+\)')
    for match in pattern.finditer(TABLE.read_text()):
        name, _arity, flags, first, specs, proc = match.groups()
        rows[name] = int(first) > 0 or "kMovableKeys" in flags or specs != "{}" or proc != "None"
    return rows


def corpus_command_name(args, names):
    sub = f"{args[0].lower()}|{args[1].lower()}" if len(args) > 1 else None
    return sub if sub in names else args[0].lower()


def test_corpus_matches_command_getkeys(redis):
    mismatches, out_lines = [], []
    for number, line, args, expected in parse_corpus():
        if args is None:
            out_lines.append(line)
            continue
        actual = server_expectation(redis, args)
        command = " ".join('""' if a == "" else a for a in args)
        out_lines.append(f"{command} => {actual}".rstrip())
        if actual != expected:
            mismatches.append(f"line {number}: {command}: corpus says {expected!r}, "
                              f"redis says {actual!r}")
    if os.environ.get("SLOTGATE_REGEN_CORPUS") and mismatches:
        CORPUS.write_text("\n".join(out_lines) + "\n")
    assert not mismatches, "\n".join(mismatches)


def test_corpus_covers_every_command_with_keys():
    rows = table_commands()
    assert len(rows) > 300, "could not parse command_table.inc"
    covered = {corpus_command_name(args, rows) for _, _, args, _ in parse_corpus() if args}
    unknown = covered - set(rows)
    assert not unknown, f"corpus names commands the table does not know: {sorted(unknown)}"
    missing = sorted(name for name, keyed in rows.items() if keyed and name not in covered)
    assert not missing, f"commands with keys missing from the corpus: {missing}"


def test_every_table_command_is_known_to_redis(redis):
    names = set()
    for entry in redis.call("COMMAND"):
        names.add(entry[0])
        names.update(sub[0] for sub in entry[9])
    # Plus the newer subcommands slotgate answers itself (generate_table.EXTRAS).
    names.update(extra[0] for extras in EXTRAS.values() for extra in extras)
    assert set(table_commands()) == names


def test_generated_table_is_current(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server not installed")
    out = tmp_path / "command_table.inc"
    subprocess.run([sys.executable, str(GENERATOR), "--port", str(GEN_PORT), "--output",
                    str(out)], check=True, capture_output=True)
    assert out.read_text() == TABLE.read_text(), (
        "command_table.inc is stale: rerun proxy/commands/generate_table.py")
