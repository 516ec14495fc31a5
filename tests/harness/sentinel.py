"""A Redis Sentinel deployment on loopback: one master, its replicas and three Sentinels
(`redis-server --sentinel`, the same binary Debian's redis-sentinel package links to), with the
short timeouts tests need (down-after-milliseconds 1000, failover-timeout 3000).

Ports: master base, replicas base+1.., Sentinels base+10... Both the Redis nodes and the
Sentinels can require a password. tls={"ca", "cert", "key"} makes every node and Sentinel
listen on TLS only (--port 0 --tls-port P, tls-replication between them)."""

from __future__ import annotations

import shutil
import signal
import tempfile
import time
from pathlib import Path
from typing import Optional

import redis

from . import processes
from .server import RedisServer, tls_client_args


class SentinelGroup:
    def __init__(self, base_port: int, master_name: str = "mymaster", replicas: int = 2,
                 sentinels: int = 3, password: Optional[str] = None,
                 sentinel_password: Optional[str] = None, workdir: Optional[str | Path] = None,
                 host: str = "127.0.0.1", tls: Optional[dict] = None):
        self.base_port = base_port
        self.master_name = master_name
        self.host = host
        self.password = password
        self.sentinel_password = sentinel_password
        self.tls = tls
        self.ssl = tls_client_args(tls) if tls else {}
        self._own_workdir = workdir is None
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix=f"slotgate-sentinel-{base_port}-"))
        self.redis: list[RedisServer] = []
        for i in range(1 + replicas):
            extra = []
            if password:
                extra.append(f"--masterauth {password}")
            if i > 0:
                extra.append(f"--replicaof {host} {base_port}")
            self.redis.append(RedisServer(port=base_port + i, host=host, password=password,
                                          workdir=self.workdir / f"redis-{base_port + i}", extra_config=extra,
                                          tls=tls))
        self.sentinel_ports = [base_port + 10 + i for i in range(sentinels)]
        self.sentinel_procs: dict[int, object] = {}

    @property
    def sentinel_addresses(self) -> list[str]:
        return [f"{self.host}:{p}" for p in self.sentinel_ports]

    def redis_on(self, port: int) -> RedisServer:
        return next(r for r in self.redis if r.port == port)

    def client_for(self, port: int, **kw) -> redis.Redis:
        return redis.Redis(host=self.host, port=port, password=self.password, socket_timeout=5,
                           **{**self.ssl, **kw})

    def sentinel_client(self, port: Optional[int] = None, **kw) -> redis.Redis:
        return redis.Redis(host=self.host, port=port or self.sentinel_ports[0],
                           password=self.sentinel_password, socket_timeout=5, decode_responses=True,
                           **{**self.ssl, **kw})

    # -- life cycle -----------------------------------------------------------------------------

    def start(self) -> "SentinelGroup":
        processes.check_ports_free(self.host, [r.port for r in self.redis] + self.sentinel_ports)
        for r in self.redis:
            r.start()
        processes.wait_until(lambda: all(self._link_up(r.port) for r in self.redis[1:]), 20,
                             "replicas to sync with the master")
        for port in self.sentinel_ports:
            self.start_sentinel(port)
        processes.wait_until(self._sentinels_agree, 20, "Sentinels to know the master, its replicas and each other")
        return self

    def start_sentinel(self, port: int) -> None:
        d = self.workdir / f"sentinel-{port}"
        d.mkdir(parents=True, exist_ok=True)
        conf = [f"port {port}"] if not self.tls else [
            "port 0", f"tls-port {port}", "tls-replication yes", "tls-auth-clients optional",
            f"tls-cert-file {self.tls['cert']}", f"tls-key-file {self.tls['key']}",
            f"tls-ca-cert-file {self.tls['ca']}"]
        conf += [f"bind {self.host}", "daemonize no", f"dir {d}", "logfile sentinel.log",
                "protected-mode no",
                f"sentinel monitor {self.master_name} {self.host} {self.base_port} 2",
                f"sentinel down-after-milliseconds {self.master_name} 1000",
                f"sentinel failover-timeout {self.master_name} 3000",
                f"sentinel parallel-syncs {self.master_name} 1"]
        if self.password:
            conf.append(f"sentinel auth-pass {self.master_name} {self.password}")
        if self.sentinel_password:
            conf += [f"requirepass {self.sentinel_password}", f"sentinel sentinel-pass {self.sentinel_password}"]
        path = d / "sentinel.conf"
        if not path.exists():
            path.write_text("\n".join(conf) + "\n")
        self.sentinel_procs[port] = processes.spawn(["redis-server", str(path), "--sentinel"], d / "stdout.log", cwd=d)
        processes.wait_until(lambda: self._ping_sentinel(port), 10, f"Sentinel {port} to answer PING")

    def _ping_sentinel(self, port: int) -> bool:
        try:
            return bool(self.sentinel_client(port).ping())
        except redis.RedisError:
            return False

    def _link_up(self, port: int) -> bool:
        try:
            return self.client_for(port).info("replication").get("master_link_status") == "up"
        except redis.RedisError:
            return False

    def _sentinels_agree(self) -> bool:
        try:
            for port in self.sentinel_ports:
                s = self.sentinel_client(port)
                m = s.execute_command("SENTINEL", "MASTER", self.master_name)
                fields = dict(zip(m[::2], m[1::2])) if isinstance(m, list) else m
                if int(fields["num-slaves"]) < len(self.redis) - 1 or int(fields["num-other-sentinels"]) < len(self.sentinel_ports) - 1:
                    return False
            return True
        except (redis.RedisError, KeyError):
            return False

    def stop(self, keep_workdir: bool = False) -> None:
        for proc in self.sentinel_procs.values():
            processes.terminate(proc, signal.SIGTERM, timeout=5)
        for r in self.redis:
            r.stop(keep_workdir=True)
        if self._own_workdir and not keep_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "SentinelGroup":
        return self.start()

    def __exit__(self, exc_type, exc, tb) -> None:
        self.stop(keep_workdir=exc_type is not None)

    # -- what tests ask ------------------------------------------------------------------------

    def master_port(self, sentinel_port: Optional[int] = None) -> int:
        host, port = self.sentinel_client(sentinel_port).execute_command(
            "SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.master_name)
        return int(port)

    def role(self, port: int) -> str:
        r = self.client_for(port).execute_command("ROLE")
        return r[0].decode() if isinstance(r[0], bytes) else r[0]

    def failover(self) -> int:
        """SENTINEL FAILOVER; returns the new master's port once a majority of Sentinels name it
        and it says ROLE master."""
        old = self.master_port()
        self.sentinel_client().execute_command("SENTINEL", "FAILOVER", self.master_name)
        return self.wait_new_master(old)

    def wait_new_master(self, old: int, timeout: float = 20) -> int:
        def moved():
            votes = []
            for p in self.sentinel_ports:
                try:
                    votes.append(self.master_port(p))
                except redis.RedisError:
                    pass
            new = [v for v in votes if v != old]
            if len(new) * 2 > len(self.sentinel_ports) and len(set(new)) == 1:
                try:
                    if self.role(new[0]) == "master":
                        return new[0]
                except redis.RedisError:
                    return None
            return None
        return processes.wait_until(moved, timeout, f"a new master instead of {old}")

    def kill_master(self) -> int:
        port = self.master_port()
        r = self.redis_on(port)
        r.node.process.send_signal(signal.SIGKILL)
        r.node.process.wait(5)
        return port

    def restart(self, port: int) -> None:
        r = self.redis_on(port)
        r.start()

    def wait_replica_of(self, port: int, master: int, timeout: float = 20) -> None:
        def ok():
            try:
                info = self.client_for(port).info("replication")
                return info.get("role") == "slave" and int(info.get("master_port", 0)) == master and \
                    info.get("master_link_status") == "up"
            except redis.RedisError:
                return False
        processes.wait_until(ok, timeout, f"{port} to replicate from {master}")

    def wait_settled(self, timeout: float = 30) -> int:
        """Until every running node replicates from the master the Sentinels name, in sync, and
        every Sentinel lists them: a fault injected earlier would otherwise overlap the next one
        (a demoted master is converted to a replica only seconds after +switch-master)."""
        def settled():
            master = self.master_port()
            if self.role(master) != "master":
                return None
            offset = int(self.client_for(master).info("replication")["master_repl_offset"])
            running = [r for r in self.redis if r.port != master and r.node.process is not None
                       and r.node.process.poll() is None]
            for r in running:
                info = self.client_for(r.port).info("replication")
                if info.get("role") != "slave" or int(info.get("master_port", 0)) != master or \
                        info.get("master_link_status") != "up" or int(info.get("slave_repl_offset", -1)) < offset:
                    return None
            for p in self.sentinel_ports:
                if self.master_port(p) != master:
                    return None
                replicas = self.sentinel_client(p).execute_command("SENTINEL", "REPLICAS", self.master_name)
                up = [dict(zip(x[::2], x[1::2])) if isinstance(x, list) else x for x in replicas]
                up = [x for x in up if "s_down" not in x["flags"] and int(x["master-port"]) == master]
                if len(up) < len(running):
                    return None
            return master
        return processes.wait_until(settled, timeout, "the Sentinel group to settle")

    def sleep_until(self, predicate, timeout: float, what: str):
        return processes.wait_until(predicate, timeout, what)


_ = time
