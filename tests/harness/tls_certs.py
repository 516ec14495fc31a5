"""A throw-away certificate authority for TLS tests, made with the `openssl` CLI.

make_ca(dir) -> CA; ca.issue(name, ...) -> Cert with .cert/.key paths and .serial (hex, upper
case as OpenSSL prints it). EC P-256 keys: generating one takes milliseconds.

    python3 tls_certs.py DIR    writes ca.crt, server.{crt,key} (localhost, 127.0.0.1),
                                client.{crt,key} (CN client) into DIR (used by unit tests).
"""

import os
import shutil
import subprocess
import tempfile
import sys
from dataclasses import dataclass


def _openssl(*args, cwd=None):
    subprocess.run(["openssl", *args], check=True, cwd=cwd, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


@dataclass
class Cert:
    cert: str
    key: str
    serial: str


class CA:
    def __init__(self, directory, name="slotgate-test-ca"):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.key = os.path.join(directory, name + ".key")
        self.cert = os.path.join(directory, name + ".crt")
        self._next_serial = 0x1000 + (abs(hash(directory)) % 0x1000) * 0x100
        _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", self.key)
        _openssl("req", "-x509", "-new", "-key", self.key, "-sha256", "-days", "2",
                 "-subj", "/CN=" + name, "-out", self.cert)

    def issue(self, name, dns=("localhost",), ips=("127.0.0.1",), days=2, expired=False,
              client=False, out=None):
        """A certificate for CN=name signed by this CA; expired=True makes one that ended
        yesterday. out: the file stem (default name)."""
        stem = os.path.join(self.dir, out or name)
        key, csr, crt, ext = stem + ".key", stem + ".csr", stem + ".crt", stem + ".ext"
        self._next_serial += 1
        serial = "%X" % self._next_serial
        serial = "0" * (len(serial) % 2) + serial  # whole bytes, as OpenSSL prints serials
        sans = ["DNS:" + d for d in dns] + ["IP:" + i for i in ips]
        with open(ext, "w") as f:
            if sans:
                f.write("subjectAltName=" + ",".join(sans) + "\n")
            f.write("extendedKeyUsage=%s\n" % ("clientAuth,serverAuth" if client else
                                                "serverAuth,clientAuth"))
        _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key)
        _openssl("req", "-new", "-key", key, "-subj", "/CN=" + name, "-out", csr)
        args = ["x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey", self.key,
                "-set_serial", "0x" + serial, "-extfile", ext, "-sha256", "-out", crt]
        if expired:
            # Valid from two days ago to yesterday (openssl x509 has no -not_after in 3.0).
            args = ["ca", "-batch", "-config", self._ca_config(), "-in", csr, "-out", crt,
                    "-startdate", "20000101000000Z", "-enddate", "20000102000000Z",
                    "-extfile", ext, "-notext"]
            with open(os.path.join(self.dir, "serial"), "w") as f:
                f.write(serial + "\n")
        else:
            args += ["-days", str(days)]
        _openssl(*args)
        os.chmod(key, 0o600)
        return Cert(crt, key, serial)

    def _ca_config(self):
        path = os.path.join(self.dir, "ca.cnf")
        index = os.path.join(self.dir, "index.txt")
        if not os.path.exists(index):
            open(index, "w").close()
        with open(path, "w") as f:
            f.write("[ca]\ndefault_ca=d\n[d]\ndatabase=%s\nnew_certs_dir=%s\n"
                    "certificate=%s\nprivate_key=%s\nserial=%s\ndefault_md=sha256\n"
                    "policy=p\nunique_subject=no\n[p]\ncommonName=supplied\n"
                    % (index, self.dir, self.cert, self.key, os.path.join(self.dir, "serial")))
        return path


def make_ca(directory, name="slotgate-test-ca"):
    return CA(directory, name)


if __name__ == "__main__":
    d = sys.argv[1]
    ca = make_ca(d, "ca")
    ca.issue("server", out="server")
    ca.issue("client", dns=(), ips=(), client=True, out="client")
    other = make_ca(os.path.join(d, "other"), "other-ca")
    other.issue("stranger", out="stranger")


def node_pki(prefix, ca_name, node_name):
    """Generator for a module fixture: a CA, one certificate for Redis servers on 127.0.0.1 /
    localhost signed by it, and an unrelated CA (the "wrong CA" cases). Yields the paths as a
    dict (root, ca, cert, key, other_ca); the files are removed afterwards."""
    root = tempfile.mkdtemp(prefix=prefix)
    ca = make_ca(os.path.join(root, "ca"), ca_name)
    node = ca.issue(node_name, dns=("localhost",), ips=("127.0.0.1",), out="node")
    other = make_ca(os.path.join(root, "other"), "other-ca")
    yield {"root": root, "ca": ca.cert, "cert": node.cert, "key": node.key, "other_ca": other.cert}
    shutil.rmtree(root, ignore_errors=True)
