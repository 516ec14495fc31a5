"""A single standalone redis-server (not cluster mode), for tests that compare with
plain Redis or need server features a cluster node does not offer (SELECT n, DEBUG)."""

from __future__ import annotations

import shutil
import signal
import tempfile
from pathlib import Path
from typing import Iterable, Optional

from . import processes
from .cluster import Node


def tls_client_args(tls: dict) -> dict:
    """redis-py's arguments for a TLS-only server whose certificate tls["ca"] signed."""
    return {"ssl": True, "ssl_ca_certs": tls["ca"], "ssl_check_hostname": False}


class RedisServer:
    def __init__(self, port: int = 7410, host: str = "127.0.0.1", workdir: Optional[str | Path] = None,
                 password: Optional[str] = None, extra_config: Iterable[str] = (),
                 redis_server: str = "redis-server", tls: Optional[dict] = None):
        """tls: {"ca": path, "cert": path, "key": path} listens on TLS only (--port 0
        --tls-port port); the harness's own clients then use TLS too."""
        self._own_workdir = workdir is None
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix=f"slotgate-redis-{port}-"))
        self.node = Node(host, port, self.workdir, password)
        self.extra_config = list(extra_config)
        self.redis_server = redis_server
        self.tls = tls
        if tls:
            self.node.ssl = tls_client_args(tls)

    @property
    def port(self) -> int:
        return self.node.port

    @property
    def address(self) -> str:
        return self.node.address

    def client(self, **kw):
        return self.node.client(**kw)

    def start(self) -> "RedisServer":
        processes.check_ports_free(self.node.host, [self.node.port])
        self.workdir.mkdir(parents=True, exist_ok=True)
        argv = [self.redis_server, *self._port_args(), "--bind", self.node.host,
                "--protected-mode", "no", "--daemonize", "no", "--dir", str(self.workdir),
                "--logfile", "redis.log", "--save", "", "--appendonly", "no"]
        if self.node.password:
            argv += ["--requirepass", self.node.password]
        for item in self.extra_config:
            argv += item.split(" ", 1) if " " in item else [item]
        self.node.process = processes.spawn(argv, self.workdir / "stdout.log", cwd=self.workdir)

        def pong() -> bool:
            if self.node.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with code {self.node.process.returncode}:\n"
                                   + processes.log_tail(self.workdir / "stdout.log", 10))
            return self.node.call("PING", timeout=1) == "PONG"

        try:
            processes.wait_until(pong, 10, f"redis-server {self.address} to answer PING",
                                 describe=lambda: self.node.log_tail(20))
        except BaseException:
            self.stop(keep_workdir=True)
            raise
        return self

    def _port_args(self) -> list[str]:
        if not self.tls:
            return ["--port", str(self.node.port)]
        return ["--port", "0", "--tls-port", str(self.node.port), "--tls-replication", "yes",
                "--tls-cert-file", self.tls["cert"], "--tls-key-file", self.tls["key"],
                "--tls-ca-cert-file", self.tls["ca"], "--tls-auth-clients", "optional"]

    def stop(self, keep_workdir: bool = False) -> None:
        processes.terminate(self.node.process, signal.SIGTERM, timeout=5)
        if self._own_workdir and not keep_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "RedisServer":
        return self.start()

    def __exit__(self, exc_type, exc, tb) -> None:
        self.stop(keep_workdir=exc_type is not None)
