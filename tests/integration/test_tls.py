"""TLS between clients and slotgate (`tls_listen`, the `tls:` section).

One slotgate per module with both listeners on (plain 7600, TLS 7602, admin 7601, plus the
port offset) in front of the session cluster, `client_auth: required`, a 1 s handshake
timeout and a 300 ms certificate watch. Certificates come from a throw-away CA made with the
openssl CLI (tests/harness/tls_certs.py). Clients: redis-py `ssl=True` and `redis-cli --tls`.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time

import pytest
import redis

from harness import Slotgate
from harness import processes
from harness.slotgate import http_get
from harness.tls_certs import make_ca

PORT_OFFSET = int(os.environ.get("SLOTGATE_TEST_PORT_OFFSET", "0"))
PLAIN_PORT = 7600 + PORT_OFFSET
ADMIN_PORT = 7601 + PORT_OFFSET
TLS_PORT = 7602 + PORT_OFFSET


class Certs:
    def __init__(self, root):
        self.root = root
        self.ca = make_ca(os.path.join(root, "ca"), "slotgate-test-ca")
        self.server = self.ca.issue("slotgate", out="server")
        self.app = self.ca.issue("app", dns=(), ips=(), client=True, out="app")
        self.reader = self.ca.issue("reader", dns=(), ips=(), client=True, out="reader")
        self.expired = self.ca.issue("app", dns=(), ips=(), client=True, expired=True,
                                     out="expired")
        self.stranger_ca = make_ca(os.path.join(root, "other"), "other-ca")
        self.stranger = self.stranger_ca.issue("app", dns=(), ips=(), client=True, out="stranger")
        # What slotgate reads: links, swapped the way a Kubernetes Secret volume is.
        self.live = os.path.join(root, "live")
        os.makedirs(self.live)
        self.install(self.server)

    def install(self, cert):
        """Points live/tls.crt and live/tls.key at `cert` with one atomic rename of a
        directory link (the ..data swap kubelet does)."""
        gen = os.path.join(self.root, "gen-%s" % cert.serial)
        os.makedirs(gen, exist_ok=True)
        shutil.copy(cert.cert, os.path.join(gen, "tls.crt"))
        shutil.copy(cert.key, os.path.join(gen, "tls.key"))
        tmp = os.path.join(self.live, "..data_tmp")
        os.symlink(gen, tmp)
        os.replace(tmp, os.path.join(self.live, "..data"))
        for name in ("tls.crt", "tls.key"):
            link = os.path.join(self.live, name)
            if not os.path.islink(link):
                os.symlink(os.path.join("..data", name), link)


@pytest.fixture(scope="module")
def certs():
    root = tempfile.mkdtemp(prefix="slotgate-tls-")
    yield Certs(root)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def gate(cluster, certs, logdir):
    config = f"""
tls_listen: 127.0.0.1:{TLS_PORT}
tls:
  cert_file: {certs.live}/tls.crt
  key_file: {certs.live}/tls.key
  ca_file: {certs.ca.cert}
  client_auth: required
  handshake_timeout: 1s
  watch_interval: 300ms
  cert_users:
    app: app
    reader: reader
clients:
  users:
    - name: app
      password: apppw
    - name: reader
      password: readerpw
      readonly: true
"""
    sg = Slotgate(cluster.seeds, port=PLAIN_PORT, admin_port=ADMIN_PORT, config_text=config,
                  workdir=logdir / f"slotgate-tls-{PLAIN_PORT}")
    sg.start()
    yield sg
    sg.stop()
    sg.cleanup(keep_workdir=True)


def tls_client(certs, cert=None, ca=None, **kw):
    cert = cert or certs.app
    return redis.Redis(host="127.0.0.1", port=TLS_PORT, ssl=True,
                       ssl_ca_certs=ca or certs.ca.cert, ssl_certfile=cert.cert,
                       ssl_keyfile=cert.key, ssl_check_hostname=False, socket_timeout=10, **kw)


def served_serial(certs):
    ctx = ssl.create_default_context(cafile=certs.ca.cert)
    ctx.check_hostname = False
    ctx.load_cert_chain(certs.app.cert, certs.app.key)
    with socket.create_connection(("127.0.0.1", TLS_PORT), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            return s.getpeercert()["serialNumber"]


def metric(port, name_and_labels):
    _, text = http_get(port, "/metrics")
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name_and_labels):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_redis_py_over_tls_pipelines_and_carries_a_1mb_value_while_plain_clients_work(gate, certs):
    c = tls_client(certs)
    big = os.urandom(1 << 20)
    assert c.set("tls:big{a}", big)
    assert c.get("tls:big{a}") == big
    pipe = c.pipeline(transaction=False)
    for i in range(200):
        pipe.set(f"tls:p:{i}", i)
        pipe.get(f"tls:p:{i}")
    replies = pipe.execute()
    assert replies[1::2] == [str(i).encode() for i in range(200)]
    # MGET split across the masters, over TLS.
    assert c.mget([f"tls:p:{i}" for i in range(50)]) == [str(i).encode() for i in range(50)]
    # The plain listener is on at the same time (with AUTH: clients.users is set).
    plain = redis.Redis(host="127.0.0.1", port=PLAIN_PORT, username="app", password="apppw")
    assert plain.get("tls:p:7") == b"7"
    processes.wait_until(
        lambda: metric(ADMIN_PORT, 'slotgate_tls_handshakes_total{side="client"}') >= 1, 5,
        "handshakes counted (published once a second)")


def test_redis_cli_tls_talks_to_slotgate(gate, certs):
    out = subprocess.run(
        ["redis-cli", "--tls", "--cacert", certs.ca.cert, "--cert", certs.app.cert, "--key",
         certs.app.key, "-h", "127.0.0.1", "-p", str(TLS_PORT), "SET", "tls:cli", "ok"],
        capture_output=True, text=True, timeout=10)
    assert out.stdout.strip() == "OK", out
    out = subprocess.run(
        ["redis-cli", "--tls", "--cacert", certs.ca.cert, "--cert", certs.app.cert, "--key",
         certs.app.key, "-h", "127.0.0.1", "-p", str(TLS_PORT), "GET", "tls:cli"],
        capture_output=True, text=True, timeout=10)
    assert out.stdout.strip() == "ok", out


def test_a_client_certificate_mapped_to_a_user_is_logged_in_as_that_user(gate, certs):
    reader = tls_client(certs, cert=certs.reader)
    assert reader.get("tls:p:1") == b"1"
    with pytest.raises(redis.ResponseError):
        reader.set("tls:p:1", "changed")
    app = tls_client(certs)
    assert app.set("tls:mapped", "yes")


@pytest.mark.parametrize("case", ["no_certificate", "expired", "other_ca", "server_not_trusted"])
def test_bad_client_certificates_fail_the_handshake_and_leave_other_clients_alone(gate, certs,
                                                                                case):
    other = tls_client(certs)
    assert other.set("tls:bystander", "1")
    before = metric(ADMIN_PORT, "slotgate_tls_handshake_failures_total")
    ctx = ssl.create_default_context(cafile=certs.ca.cert)
    ctx.check_hostname = False
    if case == "expired":
        ctx.load_cert_chain(certs.expired.cert, certs.expired.key)
    elif case == "other_ca":
        ctx.load_cert_chain(certs.stranger.cert, certs.stranger.key)
    elif case == "server_not_trusted":
        ctx = ssl.create_default_context(cafile=certs.stranger_ca.cert)
        ctx.check_hostname = False
        ctx.load_cert_chain(certs.app.cert, certs.app.key)
    with pytest.raises((ssl.SSLError, ConnectionError, OSError)) as err:
        with socket.create_connection(("127.0.0.1", TLS_PORT), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                # TLS 1.3: the server's verdict on the client certificate arrives after the
                # client's handshake finished, with the first read.
                s.sendall(b"*1\r\n$4\r\nPING\r\n")
                assert s.recv(100) == b""
                raise ConnectionError("closed without a reply")
    text = str(err.value).lower()
    expected = {"no_certificate": "certificate required", "expired": "certificate",
                "other_ca": "unknown ca", "server_not_trusted": "certificate verify failed"}
    assert expected[case] in text or "closed without a reply" in text, text
    # Other clients never notice, and the failure was counted (and logged with the peer).
    assert other.get("tls:bystander") == b"1"
    assert other.incr("tls:bystander") == 2
    if case != "server_not_trusted":
        processes.wait_until(
            lambda: metric(ADMIN_PORT, "slotgate_tls_handshake_failures_total") > before, 5,
            "the failure counted")
        assert "TLS handshake with client 127.0.0.1:" in gate.log_text()


def test_a_stalled_handshake_is_closed_after_the_handshake_timeout(gate, certs):
    with socket.create_connection(("127.0.0.1", TLS_PORT), timeout=5) as raw:
        raw.sendall(b"\x16\x03\x01")  # the start of a record, then nothing
        start = time.monotonic()
        raw.settimeout(5)
        assert raw.recv(100) == b""
        assert time.monotonic() - start < 4
    processes.wait_until(
        lambda: metric(ADMIN_PORT, 'slotgate_tls_handshake_failures_total{reason="timeout"') >= 1,
        5, "the timeout counted")


def test_plain_bytes_on_the_tls_port_get_a_protocol_failure_not_a_crash(gate, certs):
    with socket.create_connection(("127.0.0.1", TLS_PORT), timeout=5) as raw:
        raw.sendall(b"*1\r\n$4\r\nPING\r\n")
        raw.settimeout(5)
        data = raw.recv(100)
        assert b"PONG" not in data
    assert tls_client(certs).ping()


def test_a_rotated_certificate_reaches_new_handshakes_and_old_connections_keep_working(gate, certs):
    old = tls_client(certs)
    assert old.set("tls:rot", "1")
    assert served_serial(certs) == certs.server.serial
    renewed = certs.ca.issue("slotgate", out="server-renewed")
    certs.install(renewed)
    processes.wait_until(lambda: served_serial(certs) == renewed.serial, 5,
                         "the renewed certificate served")
    assert old.incr("tls:rot") == 2  # the connection made before the rotation goes on
    # A broken certificate keeps the one in use (logged and counted).
    broken = os.path.join(certs.root, "gen-broken")
    os.makedirs(broken)
    with open(os.path.join(broken, "tls.crt"), "w") as f:
        f.write("not a certificate\n")
    shutil.copy(renewed.key, os.path.join(broken, "tls.key"))
    tmp = os.path.join(certs.live, "..data_tmp")
    os.symlink(broken, tmp)
    os.replace(tmp, os.path.join(certs.live, "..data"))
    processes.wait_until(
        lambda: metric(ADMIN_PORT, 'slotgate_tls_certificate_reloads_total{result="failed"}') >= 1,
        5, "the failed reload counted")
    assert served_serial(certs) == renewed.serial
    # SIGHUP loads the files too.
    again = certs.ca.issue("slotgate", out="server-again")
    certs.install(again)
    gate.send_signal(__import__("signal").SIGHUP)
    processes.wait_until(lambda: served_serial(certs) == again.serial, 5, "SIGHUP reload")
    assert old.get("tls:rot") == b"2"
