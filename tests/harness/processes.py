"""Child processes of the test harness: spawning, waiting, and guaranteed clean-up.

Owns the registry of every process the harness starts. Three independent nets make
sure nothing outlives a test run:
  * callers stop what they start (fixture finalizers, RedisCluster.stop, Slotgate.stop);
  * an atexit hook kills whatever is still registered (Ctrl-C, an exception in a fixture);
  * children get PR_SET_PDEATHSIG=SIGKILL, so even a SIGKILLed pytest takes them along.
Detached processes (the demo) skip the last two on purpose: they must outlive us.
"""

from __future__ import annotations

import atexit
import ctypes
import errno
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Callable, Iterable, Optional, TypeVar

T = TypeVar("T")

_PR_SET_PDEATHSIG = 1
_registry: set[subprocess.Popen] = set()


def _die_with_parent() -> None:
    # Runs in the child between fork and exec. If the harness dies without running
    # its atexit hook (SIGKILL, OOM), the kernel kills the child too.
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except Exception:  # noqa: BLE001 - best effort only, never block the exec
        pass


def spawn(argv: list[str], log_path: Path, *, env: Optional[dict] = None,
          cwd: Optional[Path] = None, detach: bool = False) -> subprocess.Popen:
    """Start argv with stdout+stderr appended to log_path.

    The child gets its own session so a Ctrl-C in the terminal reaches only pytest,
    which then stops children in an orderly way. detach=True leaves the child running
    after this interpreter exits (used by the demo)."""
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [str(a) for a in argv],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=str(cwd) if cwd else None,
            start_new_session=True,
            preexec_fn=None if detach else _die_with_parent,
        )
    if not detach:
        _registry.add(proc)
    return proc


def terminate(proc: Optional[subprocess.Popen], sig: int = signal.SIGTERM,
              timeout: float = 10.0) -> Optional[int]:
    """Send sig, wait up to timeout, then SIGKILL. Returns the exit code (negative = signal)."""
    if proc is None:
        return None
    try:
        if proc.poll() is None:
            try:
                proc.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        return proc.returncode
    finally:
        _registry.discard(proc)


def kill_all() -> None:
    """Kill every registered child immediately (atexit / emergency path)."""
    for proc in list(_registry):
        try:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=5)
        except Exception:  # noqa: BLE001 - keep killing the rest
            pass
        _registry.discard(proc)


def running_children() -> list[subprocess.Popen]:
    return [p for p in _registry if p.poll() is None]


atexit.register(kill_all)


def wait_until(predicate: Callable[[], T], timeout: float, what: str,
               interval: float = 0.05, describe: Optional[Callable[[], str]] = None) -> T:
    """Poll predicate until it returns a truthy value; return that value.

    Exceptions from the predicate count as "not yet" (a server still starting up
    refuses connections). On timeout raise TimeoutError naming `what`, the last
    exception, and describe() if given."""
    deadline = time.monotonic() + timeout
    last_exc: Optional[BaseException] = None
    delay = min(interval, 0.01)
    while True:
        try:
            value = predicate()
            if value:
                return value
            last_exc = None
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as exc:  # noqa: BLE001 - retried until the deadline
            last_exc = exc
        if time.monotonic() >= deadline:
            msg = f"timed out after {timeout:g}s waiting for {what}"
            if last_exc is not None:
                msg += f" (last error: {last_exc!r})"
            if describe is not None:
                try:
                    msg += "\n" + describe()
                except Exception as exc:  # noqa: BLE001
                    msg += f"\n(describe failed: {exc!r})"
            raise TimeoutError(msg)
        time.sleep(delay)
        delay = min(delay * 2, interval)


def port_in_use(host: str, port: int) -> bool:
    """True if something listens on host:port or the port cannot be bound."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return True
            raise
    return False


def check_ports_free(host: str, ports: Iterable[int]) -> None:
    busy = [p for p in ports if port_in_use(host, p)]
    if busy:
        raise RuntimeError(
            f"ports already in use on {host}: {busy} - a leftover redis-server/slotgate "
            f"from an earlier run? (`ss -ltnp` shows the owner)")


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 64 * 1024))
            data = f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return f"(no log at {path})"
    return "\n".join(data.splitlines()[-lines:])


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still "exists"; treat it as gone.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def pid_cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


def proc_status_kib(pid: int, field: str) -> int:
    """A memory figure of /proc/PID/status in KiB: "VmRSS" (now), "VmHWM" (peak)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"{field} not in /proc/{pid}/status")
