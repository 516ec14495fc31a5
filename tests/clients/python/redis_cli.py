"""redis-cli 7 (Debian's redis-tools) against slotgate, one redis-cli process per step.

    /usr/bin/python3 redis_cli.py plain|cluster

cluster = `redis-cli -c`, which follows MOVED/ASK itself; through slotgate it must
never see one. How each feature maps onto redis-cli:
  pipeline     `redis-cli --pipe` (raw RESP written in one stream; redis-cli reports
               "errors: N, replies: M"), then GET checks what the pipeline wrote
  transaction  MULTI/SET/SET/GET/EXEC on stdin of one redis-cli session
  blocking_pop `redis-cli BLPOP` in the background, RPUSH from a second redis-cli
  pubsub       `redis-cli SUBSCRIBE` in the background, PUBLISH from a second one
Replies are read in --no-raw form (`"v"`, `(nil)`, `(integer) 1`, `1) ...`) so nil and
errors stay distinguishable. The checks live in protocol.py.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading

from protocol import FeatureFailed, Settings, run_suite

ITEM_RE = re.compile(r"^\s*\d+\) ")


def parse_value(line: str):
    line = ITEM_RE.sub("", line, count=1)
    if line == "(nil)":
        return None
    if line.startswith("(integer) "):
        return int(line[len("(integer) "):])
    if line.startswith("(error) "):
        raise FeatureFailed(line)
    if len(line) >= 2 and line[0] == '"' and line[-1] == '"':
        return line[1:-1].encode().decode("unicode_escape")
    return line


class RedisCli:
    def __init__(self, s: Settings, cluster_mode: bool):
        self.s = s
        self.base = ["redis-cli", "-h", s.host, "-p", str(s.port), "--no-raw"]
        if s.password:
            self.base += ["-a", s.password, "--no-auth-warning"]
        if cluster_mode:
            self.base.append("-c")
        self.background: list[subprocess.Popen] = []

    def run(self, *args, stdin: str | bytes | None = None, extra=(), timeout=30) -> list[str]:
        data = stdin.encode() if isinstance(stdin, str) else stdin
        res = subprocess.run(self.base + list(extra) + [str(a) for a in args], input=data,
                             capture_output=True, timeout=timeout)
        out = res.stdout.decode(errors="replace")
        lines = [ln for ln in out.splitlines() if ln != ""]
        for ln in lines:
            if ln.startswith("(error)") or ln.startswith("AUTH failed") or "MOVED " in ln or "ASK " in ln:
                raise FeatureFailed(f"redis-cli {' '.join(map(str, args))}: {ln}")
        if res.returncode != 0:
            raise FeatureFailed(f"redis-cli {' '.join(map(str, args))} exited {res.returncode}: "
                                f"{out.strip()} {res.stderr.decode(errors='replace').strip()}")
        return lines

    def command(self, *args):
        lines = self.run(*args)
        if len(lines) == 1 and not ITEM_RE.match(lines[0]):
            return parse_value(lines[0])
        return [parse_value(ln) for ln in lines]

    def spawn(self, *args) -> subprocess.Popen:
        p = subprocess.Popen(self.base + [str(a) for a in args], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.background.append(p)
        return p

    def close(self):
        for p in self.background:
            if p.poll() is None:
                p.kill()
            p.wait()


def encode(*args) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        b = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


class RedisCliAdapter:
    def __init__(self, s: Settings, cluster_mode: bool):
        self.s = s
        self.cli = RedisCli(s, cluster_mode)

    def connect(self):
        pong = self.cli.command("PING")
        if pong != "PONG":
            raise FeatureFailed(f"PING replied {pong!r}")
        return f"PING -> {pong}"

    def set(self, k, v):
        return self.cli.command("SET", k, v)

    def get(self, k):
        return self.cli.command("GET", k)

    def pipeline(self, ops):
        lines = self.cli.run(stdin=b"".join(encode(*op) for op in ops), extra=["--pipe"])
        summary = lines[-1] if lines else ""
        if summary != f"errors: 0, replies: {len(ops)}":
            raise FeatureFailed(f"redis-cli --pipe reported {summary!r}")
        # --pipe prints only counts; read back what the pipeline's SETs wrote.
        return ["OK" if op[0] == "set" else self.get(op[1]) for op in ops]

    def mget(self, keys):
        got = self.cli.command("MGET", *keys)
        return got if isinstance(got, list) else [got]

    def transaction(self, k1, v1, k2, v2):
        script = f"MULTI\nSET {k1} {v1}\nSET {k2} {v2}\nGET {k1}\nEXEC\n"
        lines = self.cli.run(stdin=script)
        if lines[:4] != ["OK", "QUEUED", "QUEUED", "QUEUED"]:
            raise FeatureFailed(f"MULTI/queueing replied {lines[:4]!r}")
        return [parse_value(ln) for ln in lines[4:]]

    def blocking_pop(self, key, timeout):
        p = self.cli.spawn("BLPOP", key, timeout)
        out, _ = p.communicate(timeout=timeout + 10)
        lines = [ln for ln in out.decode(errors="replace").splitlines() if ln]
        return [parse_value(ln) for ln in lines] if lines and lines[0] != "(nil)" else None

    def push(self, key, value):
        return self.cli.command("RPUSH", key, value)

    def subscribe(self, channel, on_message):
        p = self.cli.spawn("SUBSCRIBE", channel)
        subscribed = threading.Event()

        def read():
            # --no-raw output: three numbered lines per push, e.g.
            # 1) "message" / 2) "<channel>" / 3) "<payload>".
            window: list = []
            for raw in p.stdout:
                line = raw.decode(errors="replace").rstrip("\n")
                if not ITEM_RE.match(line):
                    continue
                try:
                    window.append(parse_value(line))
                except FeatureFailed:
                    return
                if len(window) == 3:
                    kind, ch, payload = window
                    window = []
                    if kind == "subscribe":
                        subscribed.set()
                    elif kind == "message":
                        on_message(ch, payload)

        threading.Thread(target=read, daemon=True).start()
        if not subscribed.wait(10):
            p.kill()
            raise FeatureFailed("redis-cli SUBSCRIBE printed no subscribe confirmation within 10 s")

        def unsubscribe():
            p.kill()

        return unsubscribe

    def publish(self, channel, message):
        return self.cli.command("PUBLISH", channel, message)

    def close(self):
        self.cli.close()


def main() -> None:
    if len(sys.argv) != 2 or sys.argv[1] not in ("plain", "cluster"):
        raise SystemExit("usage: redis_cli.py plain|cluster")
    run_suite(lambda s: RedisCliAdapter(s, sys.argv[1] == "cluster"))


if __name__ == "__main__":
    main()
