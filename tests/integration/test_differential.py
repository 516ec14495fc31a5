"""slotgate in front of a Redis Cluster must answer like one standalone Redis.

A seeded random corpus of at least 20,000 commands over strings, hashes, lists,
sets, sorted sets and the multi-key and keyspace-wide commands slotgate splits or
broadcasts (MGET, MSET, DEL, EXISTS, UNLINK, TOUCH, KEYS, DBSIZE, SCAN, RANDOMKEY)
runs twice: through slotgate against the session cluster, and directly against a
standalone redis-server on port 7750. Every reply is compared, as raw RESP values;
order-insensitively only where Redis leaves the order open (KEYS, SMEMBERS, SUNION,
HGETALL, a full SCAN). The key pool mixes plain keys (spread over all masters) and
hash-tagged keys (a few slots), so multi-key commands see both same-slot and
cross-slot key sets. Commands that a cluster refuses across slots by design (MSETNX,
RENAME, SINTERSTORE, LMOVE, ...) are only generated with keys of one hash tag.

Seed: $SLOTGATE_DIFF_SEED (default 20240611); the seed and the first mismatching
command with both replies are printed on failure.
"""

from __future__ import annotations

import os
import random

import pytest

from harness import RawConnection, RedisServer, RespError, encode_command

STANDALONE_PORT = 7750
DEFAULT_SEED = 20240611
COMMANDS = int(os.environ.get("SLOTGATE_DIFF_COMMANDS", "20000"))
BATCH = 200

FAMILIES = ("string", "hash", "list", "set", "zset")
TAGS = [f"{{t{j}}}" for j in range(10)]


def key_pool():
    """~300 keys: 200 plain keys over all slots, 100 keys under 10 hash tags.
    Each key has a family: most commands on it use that type, a few do not (and so
    compare Redis's WRONGTYPE errors too)."""
    plain = [f"dk:{i}" for i in range(200)]
    tagged = [f"{tag}:{i}" for tag in TAGS for i in range(10)]
    family = {k: FAMILIES[i % len(FAMILIES)] for i, k in enumerate(plain + tagged)}
    return plain + tagged, family


class Corpus:
    """Generates commands as (argv, comparison) with one random.Random."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.keys, self.family = key_pool()
        self.by_family = {f: [k for k in self.keys if self.family[k] == f] for f in FAMILIES}
        self.by_tag = {tag: [k for k in self.keys if k.startswith(tag)] for tag in TAGS}

    # -- picking -----------------------------------------------------------------------
    def key(self, fam: str) -> str:
        if self.rng.random() < 0.05:
            return self.rng.choice(self.keys)
        return self.rng.choice(self.by_family[fam])

    def tagged(self, fam: str | None = None, n: int = 2) -> list[str]:
        """n keys under one hash tag (same slot), preferring family fam."""
        tag = self.rng.choice(TAGS)
        pool = [k for k in self.by_tag[tag] if fam is None or self.family[k] == fam] or self.by_tag[tag]
        if self.rng.random() < 0.05:
            pool = self.by_tag[tag]
        return [self.rng.choice(pool) for _ in range(n)]

    def some_keys(self, lo: int = 1, hi: int = 8, fam: str | None = None) -> list[str]:
        """Keys for a multi-key command: usually spread over all masters, sometimes
        all under one hash tag. Writers pass fam="string" so that MSET does not turn
        the other families' keys into strings."""
        n = self.rng.randint(lo, hi)
        if self.rng.random() < 0.3:
            return self.tagged(fam, n)
        pool = self.keys if fam is None else self.by_family[fam]
        return [self.rng.choice(pool) for _ in range(n)]

    def value(self) -> str:
        r = self.rng.random()
        if r < 0.3:
            return str(self.rng.randint(-50, 500))
        if r < 0.35:
            return ""
        return "".join(self.rng.choice("abcxyz") for _ in range(self.rng.randint(1, 12)))

    def member(self) -> str:
        return f"m{self.rng.randint(0, 25)}"

    def score(self) -> str:
        return str(self.rng.choice([self.rng.randint(-20, 20), self.rng.randint(-40, 40) / 2]))

    # -- commands ------------------------------------------------------------------------
    def next(self) -> tuple[tuple, str]:
        r = self.rng
        pick = r.random()
        if pick < 0.22:
            return self.string_command()
        if pick < 0.36:
            return self.hash_command()
        if pick < 0.50:
            return self.list_command()
        if pick < 0.62:
            return self.set_command()
        if pick < 0.74:
            return self.zset_command()
        if pick < 0.95:
            return self.multi_key_command()
        return self.keyspace_command()

    def string_command(self):
        r, k = self.rng, self.key("string")
        c = r.choice(["SET", "GET", "INCR", "INCRBY", "DECR", "APPEND", "GETRANGE", "SETRANGE", "STRLEN",
                      "SETNX", "GETDEL", "SET_EX", "GETSET"])
        if c == "SET":
            return ("SET", k, self.value()), "exact"
        if c == "SET_EX":
            return ("SET", k, self.value(), "EX", str(r.randint(500, 5000))), "exact"
        if c in ("GET", "INCR", "DECR", "STRLEN", "GETDEL"):
            return (c, k), "exact"
        if c == "INCRBY":
            return (c, k, str(r.randint(-100, 100))), "exact"
        if c in ("APPEND", "SETNX", "GETSET"):
            return (c, k, self.value()), "exact"
        if c == "GETRANGE":
            return (c, k, str(r.randint(-10, 10)), str(r.randint(-10, 20))), "exact"
        return ("SETRANGE", k, str(r.randint(0, 20)), self.value()), "exact"

    def hash_command(self):
        r, k = self.rng, self.key("hash")
        c = r.choice(["HSET", "HSET", "HGET", "HGETALL", "HINCRBY", "HDEL", "HLEN", "HEXISTS", "HMGET"])
        f = lambda: f"f{r.randint(0, 12)}"  # noqa: E731
        if c == "HSET":
            args = []
            for _ in range(r.randint(1, 3)):
                args += [f(), self.value()]
            return ("HSET", k, *args), "exact"
        if c == "HGETALL":
            return ("HGETALL", k), "dict"
        if c == "HINCRBY":
            return ("HINCRBY", k, f(), str(r.randint(-5, 5))), "exact"
        if c == "HLEN":
            return ("HLEN", k), "exact"
        if c in ("HDEL", "HMGET"):
            return (c, k, *[f() for _ in range(r.randint(1, 3))]), "exact"
        return (c, k, f()), "exact"

    def list_command(self):
        r, k = self.rng, self.key("list")
        c = r.choice(["LPUSH", "RPUSH", "RPOP", "LPOP", "LRANGE", "LLEN", "LINDEX", "LMOVE"])
        if c in ("LPUSH", "RPUSH"):
            return (c, k, *[self.value() for _ in range(r.randint(1, 4))]), "exact"
        if c in ("RPOP", "LPOP", "LLEN"):
            return (c, k), "exact"
        if c == "LRANGE":
            return (c, k, str(r.randint(-5, 3)), str(r.randint(-3, 10))), "exact"
        if c == "LINDEX":
            return (c, k, str(r.randint(-4, 4))), "exact"
        src, dst = self.tagged("list")
        return ("LMOVE", src, dst, r.choice(["LEFT", "RIGHT"]), r.choice(["LEFT", "RIGHT"])), "exact"

    def set_command(self):
        r, k = self.rng, self.key("set")
        c = r.choice(["SADD", "SADD", "SREM", "SMEMBERS", "SCARD", "SISMEMBER", "SINTERSTORE", "SUNION"])
        if c in ("SADD", "SREM"):
            return (c, k, *[self.member() for _ in range(r.randint(1, 4))]), "exact"
        if c == "SMEMBERS":
            return (c, k), "set"
        if c == "SCARD":
            return (c, k), "exact"
        if c == "SISMEMBER":
            return (c, k, self.member()), "exact"
        a, b, dst = self.tagged("set", 3)
        if c == "SUNION":
            return ("SUNION", a, b), "set"
        return ("SINTERSTORE", dst, a, b), "exact"

    def zset_command(self):
        r, k = self.rng, self.key("zset")
        c = r.choice(["ZADD", "ZADD", "ZRANGE", "ZINCRBY", "ZSCORE", "ZREM", "ZCARD", "ZRANK"])
        if c == "ZADD":
            args = []
            for _ in range(r.randint(1, 3)):
                args += [self.score(), self.member()]
            return ("ZADD", k, *args), "exact"
        if c == "ZRANGE":
            extra = ("WITHSCORES",) if r.random() < 0.7 else ()
            return ("ZRANGE", k, str(r.randint(0, 3)), str(r.randint(-1, 8)), *extra), "exact"
        if c == "ZINCRBY":
            return ("ZINCRBY", k, self.score(), self.member()), "exact"
        if c == "ZCARD":
            return ("ZCARD", k), "exact"
        return (c, k, self.member()), "exact"

    def multi_key_command(self):
        r = self.rng
        c = r.choice(["MGET", "MGET", "MSET", "MSET", "DEL", "EXISTS", "EXISTS", "UNLINK", "TOUCH",
                      "MSETNX", "RENAME", "TYPE", "EXPIRE", "TTL", "PERSIST"])
        if c == "MGET":
            return ("MGET", *self.some_keys(1, 12)), "exact"
        if c == "MSET":
            args = []
            for k in self.some_keys(1, 8, "string"):
                args += [k, self.value()]
            return ("MSET", *args), "exact"
        if c in ("DEL", "UNLINK"):
            return (c, *self.some_keys(1, 4)), "exact"
        if c in ("EXISTS", "TOUCH"):
            return (c, *self.some_keys(1, 10)), "exact"
        if c == "MSETNX":
            args = []
            for k in self.tagged("string", r.randint(1, 3)):
                args += [k, self.value()]
            return ("MSETNX", *args), "exact"
        if c == "RENAME":
            src, dst = self.tagged(self.family[r.choice(self.keys)])
            return ("RENAME", src, dst), "exact"
        k = r.choice(self.keys)
        if c == "EXPIRE":
            return ("EXPIRE", k, str(r.randint(600, 6000))), "exact"
        if c == "TTL":
            return ("TTL", k), "ttl"
        return (c, k), "exact"

    def keyspace_command(self):
        r = self.rng
        c = r.choice(["KEYS", "DBSIZE", "SCAN", "RANDOMKEY"])
        if c == "KEYS":
            return ("KEYS", r.choice(["*", "dk:1*", "{t3}*", "*:5", "dk:?", "nomatch*"])), "set"
        if c == "DBSIZE":
            return ("DBSIZE",), "exact"
        if c == "RANDOMKEY":
            return ("RANDOMKEY",), "randomkey"
        opts = ["COUNT", str(r.choice([5, 10, 50, 200]))]
        if r.random() < 0.4:
            opts += ["MATCH", r.choice(["dk:*", "{t1}*", "*1*"])]
        if r.random() < 0.3:
            opts += ["TYPE", r.choice(["string", "hash", "list", "set", "zset"])]
        return ("SCAN", *opts), "scan"


# -- running ---------------------------------------------------------------------------------


READ_BY_TYPE = {"string": ("GET",), "hash": ("HGETALL",), "list": ("LRANGE", "0", "-1"),
                "set": ("SMEMBERS",), "zset": ("ZRANGE", "0", "-1", "WITHSCORES")}
READ_HOW = {"hash": "dict", "set": "set"}


def normalize(reply, how):
    if isinstance(reply, RespError):
        return reply
    if how == "set" and isinstance(reply, list):
        return sorted(reply)
    if how == "dict" and isinstance(reply, list):
        return dict(zip(reply[0::2], reply[1::2]))
    return reply


def same(a, b, how) -> bool:
    if how == "ttl" and isinstance(a, int) and isinstance(b, int) and a >= 0 and b >= 0:
        return abs(a - b) <= 2
    return normalize(a, how) == normalize(b, how)


def full_scan(conn, opts):
    cursor, keys = b"0", set()
    for _ in range(100_000):
        reply = conn.command("SCAN", cursor, *opts, timeout=10)
        if not isinstance(reply, list):
            return reply
        cursor, page = reply
        keys |= set(page)
        if cursor == b"0":
            return sorted(keys)
    return RespError("ERR SCAN did not finish")


def pipeline(conn, cmds):
    conn.send(b"".join(encode_command(*c) for c in cmds))
    return conn.read_replies(len(cmds), timeout=60)


@pytest.fixture(scope="module")
def standalone(logdir):
    server = RedisServer(port=STANDALONE_PORT, workdir=logdir / f"redis-{STANDALONE_PORT}-differential")
    server.start()
    yield server
    server.stop(keep_workdir=True)


@pytest.mark.timeout(300)
def test_slotgate_answers_like_a_standalone_redis(slotgate, cluster, standalone):
    seed = int(os.environ.get("SLOTGATE_DIFF_SEED", DEFAULT_SEED))
    print(f"differential seed {seed} ({COMMANDS} commands); rerun with SLOTGATE_DIFF_SEED={seed}")
    cluster.flushall()
    standalone.node.call("FLUSHALL")
    corpus = Corpus(seed)
    gate, ref = slotgate.raw(), RawConnection("127.0.0.1", STANDALONE_PORT)
    history: list[tuple] = []
    done = 0
    mismatch = None
    stats = {"errors": 0}
    error_kinds: dict[str, int] = {}

    def report(n, cmd, got, want, how):
        recent = "\n".join(f"  {' '.join(map(str, c))}" for c in history[-8:])
        return (f"seed {seed}: command #{n} differs ({how} comparison)\n  {' '.join(map(str, cmd))}\n"
                f"  slotgate:   {got!r}\n  standalone: {want!r}\nlast commands before it:\n{recent}")

    try:
        batch: list[tuple[tuple, str]] = []

        def flush_batch():
            nonlocal done, mismatch
            if not batch:
                return
            cmds = [c for c, _ in batch]
            got, want = pipeline(gate, cmds), pipeline(ref, cmds)
            for (cmd, how), g, w in zip(batch, got, want):
                done += 1
                if isinstance(w, RespError):
                    stats["errors"] += 1
                    kind = f"{cmd[0]} {w[:20]}"
                    error_kinds[kind] = error_kinds.get(kind, 0) + 1
                if not same(g, w, how):
                    mismatch = report(done, cmd, g, w, how)
                    return
                history.append(cmd)
            batch.clear()

        while done + len(batch) < COMMANDS and mismatch is None:
            cmd, how = corpus.next()
            if how in ("scan", "randomkey"):
                # Both need the state after everything before them: run them alone.
                flush_batch()
                if mismatch:
                    break
                if how == "scan":
                    got, want = full_scan(gate, cmd[1:]), full_scan(ref, cmd[1:])
                else:
                    got = gate.command("RANDOMKEY")
                    want = ref.command("RANDOMKEY")
                    # Random by definition: equal means "both nil", or slotgate's key exists.
                    if got is not None and want is not None:
                        exists = ref.command("EXISTS", got)
                        got = want if exists == 1 else (got, f"EXISTS on standalone: {exists}")
                done += 1
                if not same(got, want, "exact"):
                    mismatch = report(done, cmd, got, want, how)
                    break
                history.append(cmd)
                continue
            batch.append((cmd, how))
            if len(batch) >= BATCH:
                flush_batch()
        if mismatch is None:
            flush_batch()
        assert mismatch is None, mismatch
        assert done >= COMMANDS
        # Final state: every key and value the same.
        keys = sorted(gate.command("KEYS", "*", timeout=10))
        assert keys == sorted(ref.command("KEYS", "*")), f"seed {seed}: key sets differ at the end"
        assert gate.command("DBSIZE") == ref.command("DBSIZE") == len(keys) > 50
        types = pipeline(gate, [("TYPE", k) for k in keys])
        assert types == pipeline(ref, [("TYPE", k) for k in keys])
        reads = [(READ_BY_TYPE[t][0], k, *READ_BY_TYPE[t][1:]) for k, t in zip(keys, types)]
        hows = [READ_HOW.get(t, "exact") for t in types]
        differ = [(cmd, a, b) for cmd, how, a, b in zip(reads, hows, pipeline(gate, reads), pipeline(ref, reads))
                  if not same(a, b, how)]
        assert not differ, f"seed {seed}: values differ at the end, e.g. {differ[:3]}"
        common = sorted(error_kinds.items(), key=lambda x: -x[1])[:8]
        assert stats["errors"] < COMMANDS // 5, f"too many error replies ({stats}); the corpus is off: {common}"
    finally:
        gate.close()
        ref.close()
        cluster.flushall()
