"""redis-py (Debian's python3-redis 4.3.4) against slotgate.

    /usr/bin/python3 redis_py.py standalone|cluster

standalone = `redis.Redis`; cluster = `redis.cluster.RedisCluster`, which checks
INFO for cluster_enabled:1, reads CLUSTER SLOTS and COMMAND from slotgate and must
then keep every connection on slotgate. Two places use redis-py's documented cluster
API instead of the standalone one: cross-slot MGET is `mget_nonatomic` (RedisCluster
refuses a cross-slot MGET itself, before sending anything), and MULTI/EXEC runs on
the node client of the key's slot (`get_node_from_key(k).redis_connection`), since
RedisCluster 4.x has no transactions of its own. The checks live in protocol.py.
"""

from __future__ import annotations

import sys

import redis
from redis.cluster import RedisCluster

from protocol import Settings, run_suite


class RedisPyAdapter:
    def __init__(self, s: Settings, mode: str):
        self.s = s
        self.mode = mode
        self.main = None
        self.extra = []

    def _open(self):
        kw = dict(host=self.s.host, port=self.s.port, password=self.s.password, decode_responses=True)
        if self.mode == "cluster":
            return RedisCluster(**kw)
        return redis.Redis(**kw)

    def connect(self):
        self.main = self._open()
        if self.mode == "cluster":
            nodes = sorted({n.name for n in self.main.get_nodes()})
            if nodes != [f"{self.s.host}:{self.s.port}"]:
                raise RuntimeError(f"cluster client knows nodes other than slotgate: {nodes}")
            self.main.get(self.s.keys[0])
            return f"RedisCluster ready, nodes: {' '.join(nodes)}"
        return f"PING -> {self.main.ping()}"

    def set(self, k, v):
        return self.main.set(k, v)

    def get(self, k):
        return self.main.get(k)

    def pipeline(self, ops):
        p = self.main.pipeline() if self.mode == "cluster" else self.main.pipeline(transaction=False)
        for cmd, *args in ops:
            getattr(p, cmd)(*args)
        return p.execute()

    def mget(self, keys):
        if self.mode == "cluster":
            return self.main.mget_nonatomic(keys)
        return self.main.mget(keys)

    def transaction(self, k1, v1, k2, v2):
        client = self.main.get_node_from_key(k1).redis_connection if self.mode == "cluster" else self.main
        p = client.pipeline(transaction=True)
        p.set(k1, v1).set(k2, v2).get(k1)
        return p.execute()

    def blocking_pop(self, key, timeout):
        other = self._open()
        self.extra.append(other)
        return other.blpop(key, timeout)

    def push(self, key, value):
        return self.main.rpush(key, value)

    def subscribe(self, channel, on_message):
        ps = self.main.pubsub()
        ps.subscribe(**{channel: lambda m: on_message(m["channel"], m["data"])})
        worker = ps.run_in_thread(sleep_time=0.05, daemon=True)

        def unsubscribe():
            worker.stop()
            worker.join(2)
            ps.close()

        return unsubscribe

    def publish(self, channel, message):
        return self.main.publish(channel, message)

    def close(self):
        for c in self.extra + [self.main]:
            c.close()


def main() -> None:
    if len(sys.argv) != 2 or sys.argv[1] not in ("standalone", "cluster"):
        raise SystemExit("usage: redis_py.py standalone|cluster")
    run_suite(lambda s: RedisPyAdapter(s, sys.argv[1]))


if __name__ == "__main__":
    main()
