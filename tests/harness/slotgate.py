"""The slotgate binary as a test subject.

Owns starting slotgate with a given listen/admin port, seeds, extra arguments and an
optional YAML config; waiting until it serves; stopping it with a chosen signal; and
its log. Which binary: the `binary` argument, else $SLOTGATE_BIN (relative paths are
taken from the repository root when they do not exist from the current directory),
else <repo>/build/slotgate."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import tempfile
from pathlib import Path
from typing import Iterable, Optional

import redis

from . import processes
from .resp import RawConnection, RespError

REPO_ROOT = Path(__file__).resolve().parents[2]


def default_binary() -> Path:
    env = os.environ.get("SLOTGATE_BIN")
    if env:
        p = Path(env)
        if not p.is_absolute() and not p.exists():
            p = REPO_ROOT / p
        return p.resolve()
    return REPO_ROOT / "build" / "slotgate"


class Slotgate:
    def __init__(self, seeds: Iterable[str], port: int = 7420, admin_port: int = 7421, workers: int = 2,
                 args: Iterable[str] = (), env: Optional[dict] = None, binary: Optional[str | Path] = None,
                 config_text: Optional[str] = None, workdir: Optional[str | Path] = None,
                 host: str = "127.0.0.1"):
        self.seeds = list(seeds)
        self.host = host
        self.port = port
        self.admin_port = admin_port
        self.workers = workers
        self.args = [str(a) for a in args]
        self.env = env
        self.binary = Path(binary) if binary else default_binary()
        self.config_text = config_text
        self._own_workdir = workdir is None
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix=f"slotgate-{port}-"))
        self.process = None
        self.returncode: Optional[int] = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "slotgate.log"

    @property
    def config_path(self) -> Path:
        return self.workdir / "slotgate.yaml"

    def argv(self) -> list[str]:
        argv = [str(self.binary)]
        if self.config_text is not None:
            argv += ["--config", str(self.config_path)]
        argv += ["--listen", self.address, "--admin", f"{self.host}:{self.admin_port}",
                 "--workers", str(self.workers)]
        for s in self.seeds:
            argv += ["--seed", s]
        return argv + self.args

    def start(self, wait: bool = True, timeout: float = 10.0) -> "Slotgate":
        if self.process is not None and self.process.poll() is None:
            raise RuntimeError(f"slotgate on {self.address} is already running")
        if not self.binary.exists():
            raise FileNotFoundError(
                f"slotgate binary not found at {self.binary} - build it first (.ci/build), "
                f"or point SLOTGATE_BIN at it")
        processes.check_ports_free(self.host, [self.port, self.admin_port])
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.config_text is not None:
            self.config_path.write_text(self.config_text)
        env = dict(os.environ)
        if self.env:
            env.update({k: str(v) for k, v in self.env.items()})
        with open(self.log_path, "ab") as log:
            log.write(("$ " + " ".join(self.argv()) + "\n").encode())
        self.returncode = None
        self.process = processes.spawn(self.argv(), self.log_path, env=env, cwd=self.workdir)
        if wait:
            try:
                processes.wait_until(self._serving, timeout, f"slotgate to serve on {self.address}",
                                     describe=lambda: "--- slotgate log ---\n" + self.log_tail(60))
            except BaseException:
                self.stop(signal.SIGKILL, timeout=5)
                raise
        return self

    def _serving(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"slotgate exited with code {self.process.returncode} during start-up:\n"
                               + self.log_tail(60))
        with RawConnection(self.host, self.port, connect_timeout=1) as conn:
            reply = conn.command("PING", timeout=1)
        # A slotgate that requires a password answers NOAUTH; that also means "serving".
        return reply == "PONG" or (isinstance(reply, RespError) and reply.startswith("NOAUTH"))

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> Optional[int]:
        """Signal slotgate and wait for it to exit (SIGKILL after timeout). Returns the
        exit code as subprocess reports it (negative = killed by that signal)."""
        if self.process is None:
            return self.returncode
        self.returncode = processes.terminate(self.process, sig, timeout)
        return self.returncode

    def cleanup(self, keep_workdir: bool = False) -> None:
        if self.is_running():
            self.stop(signal.SIGKILL, timeout=5)
        if self._own_workdir and not keep_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def send_signal(self, sig: int) -> None:
        self.process.send_signal(sig)

    def client(self, **kw) -> redis.Redis:
        kw.setdefault("socket_timeout", 30)
        kw.setdefault("socket_connect_timeout", 5)
        return redis.Redis(host=self.host, port=self.port, **kw)

    def raw(self) -> RawConnection:
        return RawConnection(self.host, self.port)

    def admin_url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.admin_port}{path}"

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 60) -> str:
        return processes.log_tail(self.log_path, lines)

    def accepts_connections(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=1):
                return True
        except OSError:
            return False

    def __enter__(self) -> "Slotgate":
        return self.start()

    def __exit__(self, exc_type, exc, tb) -> None:
        self.stop()
        self.cleanup(keep_workdir=exc_type is not None)

    def __repr__(self) -> str:
        return f"Slotgate({self.address}, admin {self.admin_port})"


def http_get(port: int, path: str, timeout: float = 5, host: str = "127.0.0.1") -> tuple[int, str]:
    """GET path from an HTTP port (slotgate's admin port): (status, body)."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body.decode(errors="replace")


def http_status(port: int, path: str, timeout: float = 5) -> int:
    return http_get(port, path, timeout)[0]


class FileConfiguredSlotgate(Slotgate):
    """slotgate started as `slotgate --config FILE [args]`: the file says where it listens,
    so SIGHUP sees every key of it (flags would override the file on reload too)."""

    def argv(self) -> list[str]:
        return [str(self.binary), "--config", str(self.config_path)] + self.args

    def rewrite_config(self, text: str) -> None:
        self.config_text = text
        tmp = self.config_path.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(self.config_path)  # atomic, the way a ConfigMap update lands
