"""redis-py against slotgate: Debian's python3-redis 4.3.4 (/usr/bin/python3), and
redis-py 5.x / 8.x from the venvs tests/clients/setup builds (python/.venv-redis5,
.venv-redis8; redis-py 8 speaks RESP3 by default).

    PYTHON redis_py.py standalone|cluster|async|async-cluster

async / async-cluster = redis.asyncio's Redis / RedisCluster, driven from an event
loop thread so the same synchronous checks apply.

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
import threading

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
        return f"PING -> {self.main.ping()}; {self._proto()}"

    def _proto(self):
        """The protocol this connection negotiated (redis-py 8 asks for RESP3 by default)."""
        try:
            reply = self.main.execute_command("HELLO")
            fields = dict(zip(reply[::2], reply[1::2])) if isinstance(reply, list) else reply
            return f"HELLO: proto {fields.get('proto')}"
        except Exception as exc:  # noqa: BLE001 - informational only
            return f"HELLO: {exc}"

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

    def mset(self, kv):
        if self.mode == "cluster":
            return all(self.main.mset_nonatomic(kv))
        return self.main.mset(kv)

    def pool(self, n, keys):
        """n BLPOPs at once through one client's pool: n connections open together."""
        kw = dict(host=self.s.host, port=self.s.port, password=self.s.password, decode_responses=True,
                  max_connections=n)
        client = RedisCluster(**kw) if self.mode == "cluster" else redis.Redis(**kw)
        errors = []

        def one(i):
            try:
                key = f"{keys[i % len(keys)]}:pool:{i}"
                if client.blpop(key, 1) is not None:
                    errors.append(f"BLPOP {key} returned a value")
                client.set(key, key)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(f"{type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(n)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(60)
        client.close()
        if errors:
            raise RuntimeError(f"{len(errors)} of {n} pooled calls failed, first: {errors[0]}")
        return f"{n} BLPOPs at once through one pool of {n} connections"

    def close(self):
        for c in self.extra + [self.main]:
            c.close()


class AsyncAdapter:
    """redis.asyncio Redis / RedisCluster: every call runs on one event loop thread."""

    def __init__(self, s: Settings, cluster: bool):
        import asyncio
        import redis.asyncio as aredis
        self.asyncio = asyncio
        self.aredis = aredis
        self.s = s
        self.cluster = cluster
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.main = None
        self.extra = []

    def call(self, coro_fn, timeout=60):
        async def wrapped():
            return await coro_fn()
        return self.asyncio.run_coroutine_threadsafe(wrapped(), self.loop).result(timeout)

    def _open(self, **extra):
        kw = dict(host=self.s.host, port=self.s.port, password=self.s.password, decode_responses=True, **extra)
        return self.aredis.RedisCluster(**kw) if self.cluster else self.aredis.Redis(**kw)

    def connect(self):
        async def go():
            self.main = self._open()
            if self.cluster:
                await self.main.initialize()
                nodes = sorted({n.name for n in self.main.get_nodes()})
                if nodes != [f"{self.s.host}:{self.s.port}"]:
                    raise RuntimeError(f"cluster client knows nodes other than slotgate: {nodes}")
                return f"asyncio RedisCluster ready, nodes: {' '.join(nodes)}"
            hello = await self.main.execute_command("HELLO")
            fields = dict(zip(hello[::2], hello[1::2])) if isinstance(hello, list) else hello
            return f"asyncio PING -> {await self.main.ping()}; HELLO: proto {fields.get('proto')}"
        return self.call(go)

    def set(self, k, v):
        return self.call(lambda: self.main.set(k, v))

    def get(self, k):
        return self.call(lambda: self.main.get(k))

    def pipeline(self, ops):
        async def go():
            p = self.main.pipeline() if self.cluster else self.main.pipeline(transaction=False)
            for cmd, *args in ops:
                getattr(p, cmd)(*args)
            return await p.execute()
        return self.call(go)

    def mget(self, keys):
        return self.call(lambda: self.main.mget_nonatomic(keys) if self.cluster else self.main.mget(keys))

    def mset(self, kv):
        async def go():
            if self.cluster:
                return all(await self.main.mset_nonatomic(kv))
            return await self.main.mset(kv)
        return self.call(go)

    def transaction(self, k1, v1, k2, v2):
        async def go():
            if self.cluster:
                # redis.asyncio.RedisCluster has no MULTI: one plain client on the key's node.
                node = self.main.get_node_from_key(k1)
                client = self.aredis.Redis(host=node.host, port=node.port, password=self.s.password,
                                           decode_responses=True)
                self.extra.append(client)
            else:
                client = self.main
            p = client.pipeline(transaction=True)
            p.set(k1, v1).set(k2, v2).get(k1)
            return await p.execute()
        return self.call(go)

    def blocking_pop(self, key, timeout):
        async def go():
            other = self._open()
            self.extra.append(other)
            return await other.blpop([key], timeout)
        return self.call(go)

    def push(self, key, value):
        return self.call(lambda: self.main.rpush(key, value))

    def subscribe(self, channel, on_message):
        if self.cluster:
            raise RuntimeError("redis.asyncio.RedisCluster has no pubsub() in this version")

        async def go():
            ps = self.main.pubsub()
            await ps.subscribe(channel)

            async def reader():
                while True:
                    m = await ps.get_message(ignore_subscribe_messages=True, timeout=1.0)
                    if m and m["type"] == "message":
                        on_message(m["channel"], m["data"])

            task = self.loop.create_task(reader())
            return ps, task
        ps, task = self.call(go)

        def unsubscribe():
            async def stop():
                task.cancel()
                await ps.aclose() if hasattr(ps, "aclose") else await ps.close()
            self.call(stop, 5)
        return unsubscribe

    def publish(self, channel, message):
        return self.call(lambda: self.main.publish(channel, message))

    def pool(self, n, keys):
        async def go():
            client = self._open(max_connections=n)
            errors = []

            async def one(i):
                try:
                    key = f"{keys[i % len(keys)]}:pool:{i}"
                    if await client.blpop([key], 1) is not None:
                        errors.append(f"BLPOP {key} returned a value")
                except Exception as exc:  # noqa: BLE001 - reported below
                    errors.append(f"{type(exc).__name__}: {exc}")
            await self.asyncio.gather(*(one(i) for i in range(n)))
            await client.aclose() if hasattr(client, "aclose") else await client.close()
            if errors:
                raise RuntimeError(f"{len(errors)} of {n} pooled calls failed, first: {errors[0]}")
            return f"{n} concurrent BLPOPs through one asyncio pool"
        return self.call(go, 90)

    def close(self):
        async def go():
            for c in self.extra + [self.main]:
                await c.aclose() if hasattr(c, "aclose") else await c.close()
        self.call(go, 5)


def main() -> None:
    if len(sys.argv) != 2 or sys.argv[1] not in ("standalone", "cluster", "async", "async-cluster"):
        raise SystemExit("usage: redis_py.py standalone|cluster|async|async-cluster")
    mode = sys.argv[1]
    if mode.startswith("async"):
        run_suite(lambda s: AsyncAdapter(s, mode == "async-cluster"))
    else:
        run_suite(lambda s: RedisPyAdapter(s, mode))


if __name__ == "__main__":
    main()
