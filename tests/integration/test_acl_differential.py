"""Redis ACL rules in slotgate, checked against a real redis-server 7.

Every rule set below is given to a plain redis-server with ACL SETUSER and to slotgate as
`clients.users[].rules`; every command of the table then runs as that user on both, directly
and through slotgate (standalone backend: the same server, reached by slotgate as its default
user). Whether a command is refused with NOPERM, and the exact NOPERM text, must be the same.
The commands cover every ACL category (one user per category) and every key-spec shape of the
command table: one key, a range, numkeys (ZUNION, LMPOP, EVAL), a STORE destination, keyword
search (XREAD STREAMS, SORT STORE), read-only vs write keys, variable flags (SET … GET,
BITFIELD), subcommands with keys, and Pub/Sub channels (PSUBSCRIBE's literal-pattern rule).

Ports (plus SLOTGATE_TEST_PORT_OFFSET): 7700 the redis-server, 7702/7703 slotgate."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import FileConfiguredSlotgate, RawConnection, RedisServer, RespError  # noqa: E402

PORT_OFFSET = int(os.environ.get("SLOTGATE_TEST_PORT_OFFSET", "0"))
REDIS_PORT = 7700 + PORT_OFFSET
GATE_PORT, GATE_ADMIN = 7702 + PORT_OFFSET, 7703 + PORT_OFFSET

CATEGORIES = ["keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
              "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking",
              "dangerous", "connection", "transaction", "scripting"]

# name -> rules (ACL SETUSER modifiers); every user is "on nopass" as well.
RULE_SETS: dict[str, list[str]] = {
    **{f"cat_{c}": ["allkeys", "allchannels", f"+@{c}"] for c in CATEGORIES},
    "keys_rw": ["+@all", "-@dangerous", "%R~{t}r:*", "%W~{t}w:*", "~{t}rw:*", "resetchannels"],
    "keys_read_only": ["+@all", "%R~*", "resetchannels", "&news.*"],
    "keys_write_only": ["+@all", "%W~*"],
    "minus_write": ["allkeys", "+@all", "-@write", "+set", "-config|get", "+client|getname"],
    "subcommands": ["allkeys", "-@all", "+config|get", "+client", "-client|setname", "+object|encoding",
                    "+memory", "+get"],
    "channels": ["allkeys", "+@all", "resetchannels", "&news.*", "&exact"],
    "nothing": ["allkeys", "allchannels", "nocommands"],
    "reset_then": ["+@all", "allkeys", "reset", "on", "nopass", "+@read", "~{t}r:*"],
}

# Commands that run on both sides without blocking for long or changing the user. {t} keeps
# multi-key commands in one slot.
COMMANDS: list[tuple[str, ...]] = [
    ("GET", "{t}r:1"), ("GET", "{t}w:1"), ("GET", "{t}rw:1"),
    ("SET", "{t}w:1", "v"), ("SET", "{t}r:1", "v"), ("SET", "{t}rw:1", "v", "GET"),
    ("APPEND", "{t}rw:1", "x"), ("STRLEN", "{t}r:1"), ("INCR", "{t}w:n"), ("GETDEL", "{t}w:1"),
    ("MGET", "{t}r:1", "{t}r:2"), ("MGET", "{t}r:1", "{t}w:2"),
    ("MSET", "{t}w:1", "a", "{t}w:2", "b"), ("MSET", "{t}w:1", "a", "{t}r:2", "b"),
    ("DEL", "{t}w:1"), ("EXISTS", "{t}r:1"), ("UNLINK", "{t}rw:1"), ("TOUCH", "{t}r:1"),
    ("SUNIONSTORE", "{t}w:d", "{t}r:a", "{t}r:b"), ("SUNIONSTORE", "{t}r:d", "{t}r:a"),
    ("SUNION", "{t}r:a", "{t}r:b"), ("SADD", "{t}w:s", "m"), ("SISMEMBER", "{t}r:s", "m"),
    ("ZUNIONSTORE", "{t}w:d", "2", "{t}r:a", "{t}r:b"), ("ZUNIONSTORE", "{t}w:d", "2", "{t}r:a", "{t}w:b"),
    ("ZUNION", "2", "{t}r:a", "{t}r:b"), ("ZADD", "{t}w:z", "1", "m"), ("ZSCORE", "{t}r:z", "m"),
    ("LMPOP", "1", "{t}rw:l", "LEFT"), ("LMPOP", "1", "{t}r:l", "LEFT"), ("LPUSH", "{t}w:l", "x"),
    ("LRANGE", "{t}r:l", "0", "-1"), ("LMOVE", "{t}rw:a", "{t}rw:b", "LEFT", "RIGHT"),
    ("BLPOP", "{t}rw:l", "0.01"),
    ("HSET", "{t}w:h", "f", "v"), ("HGET", "{t}r:h", "f"),
    ("SETBIT", "{t}w:b", "1", "1"), ("GETBIT", "{t}r:b", "1"), ("BITOP", "AND", "{t}w:d", "{t}r:a"),
    ("BITFIELD", "{t}rw:b", "GET", "u8", "0"), ("BITFIELD", "{t}r:b", "INCRBY", "u8", "0", "1"),
    ("BITFIELD_RO", "{t}r:b", "GET", "u8", "0"),
    ("PFADD", "{t}w:p", "a"), ("PFCOUNT", "{t}r:p"),
    ("GEOADD", "{t}w:g", "0", "0", "m"), ("GEORADIUS", "{t}r:g", "0", "0", "1", "km"),
    ("GEORADIUS", "{t}r:g", "0", "0", "1", "km", "STORE", "{t}w:d"),
    ("XADD", "{t}w:x", "*", "f", "v"), ("XREAD", "COUNT", "1", "STREAMS", "{t}r:x", "0"),
    ("XLEN", "{t}r:x"),
    ("SORT", "{t}r:a"), ("SORT", "{t}r:a", "STORE", "{t}w:d"), ("SORT_RO", "{t}r:a"),
    ("COPY", "{t}r:a", "{t}w:d"), ("RENAME", "{t}rw:a", "{t}w:b"), ("EXPIRE", "{t}w:a", "100"),
    ("TTL", "{t}r:a"), ("TYPE", "{t}r:a"),
    ("OBJECT", "ENCODING", "{t}r:a"), ("MEMORY", "USAGE", "{t}r:a"),
    ("EVAL", "return 1", "1", "{t}rw:a"), ("EVAL", "return 1", "1", "{t}r:a"),
    ("EVAL_RO", "return 1", "1", "{t}r:a"), ("EVALSHA", "0" * 40, "0"),
    ("FCALL", "nofunc", "1", "{t}r:a"), ("SCRIPT", "EXISTS", "0" * 40),
    ("PUBLISH", "news.a", "x"), ("PUBLISH", "gossip", "x"), ("PUBLISH", "exact", "x"),
    ("SPUBLISH", "news.a", "x"),
    ("PING",), ("ECHO", "x"), ("TIME",), ("DBSIZE",), ("KEYS", "{t}nomatch*"), ("SCAN", "0"),
    ("RANDOMKEY",), ("INFO", "server"), ("CONFIG", "GET", "maxmemory"), ("CLIENT", "GETNAME"),
    ("CLIENT", "SETNAME", "x"), ("CLIENT", "ID"), ("COMMAND", "COUNT"), ("ACL", "WHOAMI"),
    ("ACL", "CAT"), ("SLOWLOG", "LEN"), ("LATENCY", "LATEST"), ("LASTSAVE",), ("HELLO", "2"),
    ("WATCH", "{t}r:a"), ("UNWATCH",), ("READONLY",),
]

# Each opens a connection of its own (the connection enters subscribed mode when allowed).
SUBSCRIBES: list[tuple[str, ...]] = [
    ("SUBSCRIBE", "news.a"), ("SUBSCRIBE", "news.a", "gossip"), ("SUBSCRIBE", "exact"),
    ("SSUBSCRIBE", "news.a"), ("SSUBSCRIBE", "gossip"),
    ("PSUBSCRIBE", "news.*"), ("PSUBSCRIBE", "news.a*"), ("PSUBSCRIBE", "*"), ("PSUBSCRIBE", "exact"),
]


def full_rules(rules: list[str]) -> list[str]:
    return ["on", "nopass"] + rules


def gate_config() -> str:
    users = "".join(f"    - name: {name}\n      rules: {json.dumps(full_rules(rules))}\n"
                    for name, rules in RULE_SETS.items())
    return (f"listen: 127.0.0.1:{GATE_PORT}\nworkers: 1\n"
            f"backend:\n  kind: standalone\n  address: 127.0.0.1:{REDIS_PORT}\n"
            f"admin:\n  listen: 127.0.0.1:{GATE_ADMIN}\n"
            f"clients:\n  password: admin\n  users:\n{users}")


@pytest.fixture(scope="module")
def sides(logdir):
    server = RedisServer(port=REDIS_PORT, workdir=logdir / f"redis-{REDIS_PORT}-acl-differential")
    server.start()
    gate = FileConfiguredSlotgate([], port=GATE_PORT, admin_port=GATE_ADMIN, config_text=gate_config(),
                                  workdir=logdir / f"slotgate-{GATE_PORT}-acl-differential")
    try:
        admin = RawConnection("127.0.0.1", REDIS_PORT)
        for name, rules in RULE_SETS.items():
            assert admin.command("ACL", "SETUSER", name, *full_rules(rules)) == "OK", name
        admin.close()
        gate.start()
        yield server, gate
    finally:
        code = gate.stop()
        server.stop(keep_workdir=True)
        assert code in (0, None), gate.log_tail(40)


def login(port: int, user: str) -> RawConnection:
    c = RawConnection("127.0.0.1", port)
    assert c.command("AUTH", user, "x") == "OK"
    return c


def noperm(reply) -> str | None:
    return str(reply) if isinstance(reply, RespError) and str(reply).startswith("NOPERM") else None


def test_every_rule_set_denies_what_redis_denies_with_its_text(sides):
    server, gate = sides
    mismatches, denials, allowed = [], 0, 0
    for user in RULE_SETS:
        direct, proxied = login(REDIS_PORT, user), login(GATE_PORT, user)
        for cmd in COMMANDS:
            want, got = noperm(direct.command(*cmd)), noperm(proxied.command(*cmd))
            if want != got:
                mismatches.append(f"{user}: {' '.join(cmd)}: redis {want!r}, slotgate {got!r}")
            denials += want is not None
            allowed += want is None
        direct.close()
        proxied.close()
    assert not mismatches, "\n".join(mismatches)
    # The table must exercise both answers, or it proves nothing.
    assert denials > 300 and allowed > 300, (denials, allowed)


def test_channel_rules_deny_what_redis_denies(sides):
    mismatches = []
    for user in ["channels", "keys_read_only", "cat_pubsub", "keys_rw", "nothing"]:
        for cmd in SUBSCRIBES:
            replies = []
            for port in (REDIS_PORT, GATE_PORT):
                c = login(port, user)
                replies.append(noperm(c.command(*cmd)))
                c.close()
            if replies[0] != replies[1]:
                mismatches.append(f"{user}: {' '.join(cmd)}: redis {replies[0]!r}, slotgate {replies[1]!r}")
    assert not mismatches, "\n".join(mismatches)


def test_denials_inside_multi_match_redis(sides):
    replies = []
    for port in (REDIS_PORT, GATE_PORT):
        c = login(port, "keys_rw")
        got = [c.command("MULTI"), c.command("SET", "{t}w:m", "v"), noperm(c.command("SET", "{t}r:m", "v")),
               noperm(c.command("FLUSHALL")), c.command("EXEC")]
        c.close()
        replies.append([str(r) for r in got])
    assert replies[0] == replies[1]
    assert replies[1][2].startswith("NOPERM") and replies[1][4].startswith("EXECABORT")
