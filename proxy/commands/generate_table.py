#!/usr/bin/python3
"""Generates proxy/commands/command_table.inc from a real redis-server.

Usage: /usr/bin/python3 proxy/commands/generate_table.py [--redis-server PATH] [--port 7100]

Starts a throwaway `redis-server --port PORT --save '' --appendonly no`, reads `COMMAND`
(Redis 7 includes flags, ACL categories, tips, key-specs and subcommands), and writes the
table as constexpr C++ data. The .inc is committed so the build never needs a redis-server.

Why a hand-kept GETKEYS_PROCS map: Redis keeps a C `getkeys_proc` for some commands and
falls back to it when their key-specs cannot answer (INCOMPLETE or unknown specs, bad
numkeys, ...) or when a spec carries VARIABLE_FLAGS. COMMAND does not report which commands
have one, so the list below mirrors Redis 7.0's src/commands/*.json "get_keys_function".
"""
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "command_table.inc")

GETKEYS_PROCS = {
    "bitfield": "Bitfield",
    "blmpop": "NumKeysAt2",
    "bzmpop": "NumKeysAt2",
    "eval": "NumKeysAt2",
    "eval_ro": "NumKeysAt2",
    "evalsha": "NumKeysAt2",
    "evalsha_ro": "NumKeysAt2",
    "fcall": "NumKeysAt2",
    "fcall_ro": "NumKeysAt2",
    "georadius": "GeoRadius",
    "georadiusbymember": "GeoRadius",
    "lmpop": "NumKeysAt1",
    "migrate": "Migrate",
    "set": "Set",
    "sintercard": "NumKeysAt1",
    "sort": "Sort",
    "sort_ro": "SortRo",
    "xread": "XRead",
    "xreadgroup": "XRead",
    "zdiff": "NumKeysAt1",
    "zinter": "NumKeysAt1",
    "zintercard": "NumKeysAt1",
    "zunion": "NumKeysAt1",
    "zmpop": "NumKeysAt1",
    "zdiffstore": "NumKeysAt2WithDest",
    "zinterstore": "NumKeysAt2WithDest",
    "zunionstore": "NumKeysAt2WithDest",
}

FLAGS = {
    "write": "kWrite", "readonly": "kReadOnly", "denyoom": "kDenyOom", "admin": "kAdmin",
    "pubsub": "kPubSub", "noscript": "kNoScript", "blocking": "kBlocking", "loading": "kLoading",
    "stale": "kStale", "fast": "kFast", "no_auth": "kNoAuth", "may_replicate": "kMayReplicate",
    "movablekeys": "kMovableKeys", "no_mandatory_keys": "kNoMandatoryKeys",
    "allow_busy": "kAllowBusy", "skip_monitor": "kSkipMonitor", "skip_slowlog": "kSkipSlowlog",
    "no_multi": "kNoMulti", "asking": "kAsking", "no_async_loading": "kNoAsyncLoading",
    "module": "kModule",
}
KEY_FLAGS = {
    "RO": "kKeyRO", "RW": "kKeyRW", "OW": "kKeyOW", "RM": "kKeyRM", "access": "kKeyAccess",
    "update": "kKeyUpdate", "insert": "kKeyInsert", "delete": "kKeyDelete",
    "not_key": "kKeyNotKey", "incomplete": "kKeyIncomplete", "variable_flags": "kKeyVariableFlags",
}
ACL = ["keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
       "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking",
       "dangerous", "connection", "transaction", "scripting"]


class Resp:
    """Just enough of a RESP2 client to read COMMAND (redis-py reshapes that reply)."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.buf = b""

    def _fill(self, pred):
        while not pred():
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise EOFError("redis closed the connection")
            self.buf += chunk

    def _line(self):
        self._fill(lambda: b"\r\n" in self.buf)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            self._fill(lambda: len(self.buf) >= n + 2)
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data.decode()
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise ValueError(f"unexpected RESP line {line!r}")

    def call(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a.encode() if isinstance(a, str) else a
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.sock.sendall(out)
        return self.read()


def start_server(binary, port):
    workdir = tempfile.mkdtemp(prefix="sg-gen-")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", workdir],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            conn = Resp(port)
            conn.call("PING")
            return proc, conn, workdir
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"redis-server did not start on port {port}")


def ident(name):
    return re.sub(r"[^a-z0-9]", "_", name)


def cstr(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def bits(names, table, what):
    out = []
    for n in names:
        if n not in table:
            raise SystemExit(f"unknown {what} {n!r}: add it to the generator and the header")
        out.append(table[n])
    return " | ".join(out) if out else "0"


def pairs(lst):
    return dict(zip(lst[::2], lst[1::2]))


def keyspec_cpp(spec):
    d = pairs(spec)
    flags = bits(d["flags"], KEY_FLAGS, "key-spec flag")
    bs_type, bs = d["begin_search"][1], pairs(d["begin_search"][3])
    fk_type, fk = d["find_keys"][1], pairs(d["find_keys"][3])
    if bs_type == "index":
        bs_cpp = f"{{BeginSearch::Index, {bs['index']}, {{}}, 0}}"
    elif bs_type == "keyword":
        bs_cpp = f"{{BeginSearch::Keyword, 0, {cstr(bs['keyword'])}, {bs['startfrom']}}}"
    elif bs_type == "unknown":
        bs_cpp = "{BeginSearch::Unknown, 0, {}, 0}"
    else:
        raise SystemExit(f"unknown begin_search {bs_type}")
    if fk_type == "range":
        fk_cpp = f"{{FindKeys::Range, {fk['lastkey']}, {fk['keystep']}, {fk['limit']}, 0, 0}}"
    elif fk_type == "keynum":
        fk_cpp = (f"{{FindKeys::KeyNum, 0, {fk['keystep']}, 0, {fk['keynumidx']}, "
                  f"{fk['firstkey']}}}")
    elif fk_type == "unknown":
        fk_cpp = "{FindKeys::Unknown, 0, 0, 0, 0, 0}"
    else:
        raise SystemExit(f"unknown find_keys {fk_type}")
    notes = cstr(d.get("notes", "")) if d.get("notes") else "{}"
    return f"    {{{flags}, {bs_cpp}, {fk_cpp}, {notes}}},"


def emit(cmds, out):
    """Emits arrays bottom-up: a command's key-specs, tips and subcommands precede it."""
    lines = []

    # The metrics index: a top-level command's position in kCommands (sorted by name); a
    # subcommand carries its container's, so per-command counters need no name list of their own.
    metrics_index = {c[0]: i for i, c in enumerate(sorted(cmds, key=lambda c: c[0]))}

    def emit_cmd(c):
        name, arity, flags, first, last, step, acl, tips, specs, subs = c[:10]
        i = ident(name)
        ks = tips_ref = subs_ref = "{}"
        if specs:
            lines.append(f"inline constexpr KeySpec kKs_{i}[] = {{")
            lines.extend(keyspec_cpp(s) for s in specs)
            lines.append("};")
            ks = f"kKs_{i}"
        if tips:
            lines.append(f"inline constexpr std::string_view kTips_{i}[] = {{"
                         + ", ".join(cstr(t) for t in tips) + "};")
            tips_ref = f"kTips_{i}"
        if subs:
            sub_entries = [emit_cmd(s) for s in sorted(subs, key=lambda s: s[0])]
            lines.append(f"inline constexpr CommandSpec kSub_{i}[] = {{")
            lines.extend(sub_entries)
            lines.append("};")
            subs_ref = f"kSub_{i}"
        acl_bits = bits([a.lstrip("@") for a in acl], {a: f"kAcl_{a}" for a in ACL},
                        "ACL category")
        proc = GETKEYS_PROCS.get(name, "None")
        return (f"    make_command({cstr(name)}, {arity}, {bits(flags, FLAGS, 'flag')}, {acl_bits}, "
                f"{first}, {last}, {step}, {ks}, {tips_ref}, {subs_ref}, GetKeysProc::{proc}, "
                f"{metrics_index[name.split('|')[0]]}),")

    top = [emit_cmd(c) for c in sorted(cmds, key=lambda c: c[0])]
    lines.append("inline constexpr CommandSpec kCommands[] = {")
    lines.extend(top)
    lines.append("};")
    return lines


# Subcommands newer than the server the table is generated from that clients send
# at connect, and that slotgate answers itself (facts as Redis 7.2's COMMAND shows
# them). CLIENT SETINFO: Lettuce, Jedis, redis-py, ioredis and node-redis send it;
# CLUSTER MYSHARDID: cluster-aware clients on 7.2+. CLIENT NO-TOUCH: Lettuce and redis-py
# expose it (slotgate accepts OFF and refuses ON).
EXTRAS = {
    "client": [("client|setinfo", 4, ["noscript", "loading", "stale"], 0, 0, 0,
                ["@slow", "@connection"], ["request_policy:all_nodes", "response_policy:all_succeeded"],
                [], []),
               ("client|no-touch", 3, ["noscript", "loading", "stale"], 0, 0, 0,
                ["@slow", "@connection"], [], [], [])],
    "cluster": [("cluster|myshardid", 2, ["loading", "stale"], 0, 0, 0, ["@slow"],
                 ["nondeterministic_output"], [], [])],
}


def add_extras(cmds):
    for c in cmds:
        for extra in EXTRAS.get(c[0], []):
            if all(sub[0] != extra[0] for sub in c[9]):
                c[9].append(list(extra))
    return cmds


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--redis-server", default=shutil.which("redis-server") or "redis-server")
    ap.add_argument("--port", type=int, default=7100)
    ap.add_argument("--output", default=OUT)
    args = ap.parse_args()

    proc, conn, workdir = start_server(args.redis_server, args.port)
    try:
        version = pairs([x for line in conn.call("INFO", "server").splitlines()
                         if ":" in line for x in line.split(":", 1)]).get("redis_version", "?")
        cmds = conn.call("COMMAND")
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)

    missing = set(GETKEYS_PROCS) - {c[0] for c in cmds}
    if missing:
        raise SystemExit(f"GETKEYS_PROCS names unknown commands: {sorted(missing)}")

    header = [
        f"// GENERATED by proxy/commands/generate_table.py from redis-server {version} -- do not edit.",
        "// Regenerate: /usr/bin/python3 proxy/commands/generate_table.py   (starts a throwaway",
        "// redis-server, default port 7100). Included once, by command_table.cpp, inside",
        "// namespace slotgate::commands::table; facts about Redis only (routing policy lives in",
        "// routing_policy.hpp). Arrays are sorted by name so lookups can binary-search them.",
        "// clang-format off",
        f"inline constexpr std::string_view kRedisVersion = {cstr(version)};",
        "",
    ]
    body = emit(add_extras(cmds), sys.stdout)
    with open(args.output, "w") as f:
        f.write("\n".join(header + body) + "\n")
    print(f"wrote {args.output}: {len(cmds)} commands from redis {version}")


if __name__ == "__main__":
    main()
