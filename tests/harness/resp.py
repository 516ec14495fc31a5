"""A raw socket to a Redis-speaking server, for protocol-level tests.

Owns RESP encoding of commands and a complete RESP2 + RESP3 reply parser that keeps
every type distinguishable (an error is a RespError value, a push is a Push, a set
is a RespSet), so tests can assert exactly what went over the wire - which a client
library like redis-py deliberately hides."""

from __future__ import annotations

import select
import socket
import time
from typing import Optional


class RespError(str):
    """An error reply (-ERR ... or !<len> blob error). Returned, never raised."""

    @property
    def code(self) -> str:
        return self.split(" ", 1)[0] if self else ""


class Push(list):
    """A RESP3 out-of-band push (>), e.g. a pub/sub message."""


class RespSet(list):
    """A RESP3 set (~); kept as a list so unhashable members and order survive."""


class Verbatim(str):
    """A RESP3 verbatim string (=); .format is the 3-letter type such as 'txt'."""

    format: str = "txt"

    def __new__(cls, text: str, fmt: str = "txt") -> "Verbatim":
        obj = super().__new__(cls, text)
        obj.format = fmt
        return obj


class ProtocolError(Exception):
    """The peer sent bytes that are not valid RESP."""


class _Incomplete(Exception):
    """Not enough bytes buffered yet for a whole reply."""


def encode_command(*args) -> bytes:
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, bytes):
            b = a
        elif isinstance(a, str):
            b = a.encode()
        elif isinstance(a, (int, float)) and not isinstance(a, bool):
            b = repr(a).encode()
        else:
            raise TypeError(f"cannot send argument of type {type(a).__name__}")
        parts.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(parts)


class _Parser:
    """Parses one reply from a byte buffer; raises _Incomplete if more bytes are needed."""

    def __init__(self, buf: bytes):
        self.buf = buf
        self.pos = 0
        self.attributes: Optional[dict] = None

    def _line(self) -> bytes:
        end = self.buf.find(b"\r\n", self.pos)
        if end == -1:
            raise _Incomplete
        line = self.buf[self.pos:end]
        self.pos = end + 2
        return line

    def _exact(self, n: int) -> bytes:
        if len(self.buf) < self.pos + n + 2:
            raise _Incomplete
        data = self.buf[self.pos:self.pos + n]
        if self.buf[self.pos + n:self.pos + n + 2] != b"\r\n":
            raise ProtocolError(f"bulk payload not terminated by CRLF at offset {self.pos + n}")
        self.pos += n + 2
        return data

    @staticmethod
    def _int(raw: bytes) -> int:
        try:
            return int(raw)
        except ValueError:
            raise ProtocolError(f"bad integer {raw!r}") from None

    def parse(self):
        if self.pos >= len(self.buf):
            raise _Incomplete
        kind = self.buf[self.pos:self.pos + 1]
        self.pos += 1
        line = self._line()
        if kind == b"+":
            return line.decode("utf-8", "surrogateescape")
        if kind == b"-":
            return RespError(line.decode("utf-8", "surrogateescape"))
        if kind == b":" or kind == b"(":
            return self._int(line)
        if kind == b"$":
            n = self._int(line)
            return None if n < 0 else self._exact(n)
        if kind == b"!":
            return RespError(self._exact(self._int(line)).decode("utf-8", "surrogateescape"))
        if kind == b"=":
            body = self._exact(self._int(line))
            if len(body) < 4 or body[3:4] != b":":
                raise ProtocolError(f"bad verbatim string {body[:16]!r}")
            return Verbatim(body[4:].decode("utf-8", "surrogateescape"), body[:3].decode())
        if kind == b"_":
            if line:
                raise ProtocolError(f"bad null {line!r}")
            return None
        if kind == b",":
            text = line.decode().lower()
            if text in ("inf", "+inf"):
                return float("inf")
            if text == "-inf":
                return float("-inf")
            try:
                return float(text)
            except ValueError:
                raise ProtocolError(f"bad double {line!r}") from None
        if kind == b"#":
            if line == b"t":
                return True
            if line == b"f":
                return False
            raise ProtocolError(f"bad boolean {line!r}")
        if kind in (b"*", b"~", b">"):
            n = self._int(line)
            if n < 0:
                return None
            items = [self.parse() for _ in range(n)]
            if kind == b"~":
                return RespSet(items)
            if kind == b">":
                return Push(items)
            return items
        if kind == b"%" or kind == b"|":
            n = self._int(line)
            result = {}
            for _ in range(n):
                k = self.parse()
                v = self.parse()
                result[_hashable(k)] = v
            if kind == b"|":
                # Why: an attribute is metadata that precedes the real reply; keep it
                # aside (RawConnection.last_attributes) and return the reply itself.
                self.attributes = result
                return self.parse()
            return result
        raise ProtocolError(f"unknown RESP type byte {kind!r} at offset {self.pos - len(line) - 3}")


def _hashable(v):
    if isinstance(v, list):
        return tuple(_hashable(x) for x in v)
    if isinstance(v, dict):
        return tuple((k, _hashable(x)) for k, x in v.items())
    return v


def parse_reply(buf: bytes):
    """Parse one complete reply from buf. Returns (value, bytes_consumed) or None if incomplete."""
    p = _Parser(buf)
    try:
        value = p.parse()
    except _Incomplete:
        return None
    return value, p.pos


class RawConnection:
    """One TCP connection; send bytes or commands, read replies one at a time."""

    def __init__(self, host: str = "127.0.0.1", port: int = 6379, connect_timeout: float = 5.0):
        self.host = host
        self.port = port
        self.sock = socket.create_connection((host, port), timeout=connect_timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.last_attributes: Optional[dict] = None
        self._eof = False

    # -- sending ---------------------------------------------------------------
    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_command(self, *args) -> None:
        self.send(encode_command(*args))

    def command(self, *args, timeout: float = 5.0):
        self.send_command(*args)
        return self.read_reply(timeout=timeout)

    # -- receiving -------------------------------------------------------------
    def _recv(self, timeout: float) -> bool:
        """Read what is available within timeout. False on timeout; raises on EOF."""
        if self._eof:
            raise ConnectionError(f"connection to {self.host}:{self.port} closed by peer")
        ready, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        if not ready:
            return False
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self._eof = True
            raise ConnectionError(
                f"connection to {self.host}:{self.port} closed by peer"
                + (f" with {len(self.buf)} unparsed bytes buffered" if self.buf else ""))
        self.buf += chunk
        return True

    def read_reply(self, timeout: float = 5.0):
        """Return the next reply. Raises TimeoutError if none arrives completely in time,
        ConnectionError if the peer closes first, ProtocolError on malformed input."""
        deadline = time.monotonic() + timeout
        while True:
            p = _Parser(self.buf)
            try:
                value = p.parse()
                self.buf = self.buf[p.pos:]
                self.last_attributes = p.attributes
                return value
            except _Incomplete:
                pass
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(
                    f"no complete reply from {self.host}:{self.port} within {timeout:g}s"
                    f" (buffered: {self.buf[:200]!r})")
            self._recv(remaining)

    def read_replies(self, n: int, timeout: float = 5.0) -> list:
        deadline = time.monotonic() + timeout
        return [self.read_reply(timeout=max(0.0, deadline - time.monotonic())) for _ in range(n)]

    def is_closed(self, timeout: float = 0.5) -> bool:
        """True if the peer closes the connection within timeout. Data that arrives
        meanwhile is kept for read_reply()."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if not self._recv(max(0.0, deadline - time.monotonic())):
                    return False
            except (ConnectionError, OSError):
                return True
            if time.monotonic() >= deadline:
                return False

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> "RawConnection":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def error_text(reply) -> str:
    """The text of an error reply; fails the test when the reply is not an error."""
    assert isinstance(reply, RespError), f"expected an error reply, got {reply!r}"
    return str(reply)
