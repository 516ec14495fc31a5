"""slotgate's key_slot() agrees with a real Redis on CLUSTER KEYSLOT.

The C++ side cannot be called from here without a binding, so the two meet in a
committed vector file, tests/unit/cluster/keyslot_vectors.txt (one line per key:
hex-encoded key, a space, the slot). The Catch2 test unit_cluster checks key_slot()
against every line; this test checks every line against a real redis-server.

Regenerate the file (fixed seed, so the keys are reproducible) with:
    SLOTGATE_REGEN=1 /usr/bin/python3 -m pytest tests/integration/test_keyslot.py
"""

import os
import pathlib
import random
import shutil
import subprocess
import time

import pytest
import redis

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
VECTORS = REPO_ROOT / "tests" / "unit" / "cluster" / "keyslot_vectors.txt"
PORT = 7201
SEED = 20240613
RANDOM_KEYS = 6000

# Hash-tag corner cases that Redis's rule (first '{', first '}' after it, empty tag means
# the whole key) decides; every one must be in the vector file.
SPECIAL_KEYS = [
    b"", b"{", b"}", b"{}", b"}{", b"{}{}", b"{{}}", b"{{a}}", b"a{}{b}", b"foo{bar}{zap}",
    b"foo{{bar}}zap", b"{bar", b"bar}", b"foo{}bar", b"{user1000}.following",
    b"{user1000}.followers", b"foo", b"bar", b"123456789", b"{a}", b"a", b"x{a}y", b"{a}{b}",
    b"{}a{b}", b"a{b", b"a}b{c}", b"{\x00}", b"\x00", b"\xff\xfe{\xff}", b"{ }", b"{{", b"}}",
    b"{{}", b"{}}", b"{a{b}c}", b"{a}}", b"{\n}",
]


def random_keys(rng):
    """Keys of every shape: random bytes, brace-heavy text, and explicit hash tags."""
    alphabet = b"{}{}ab\x00\xff:._-{}"
    keys = []
    for i in range(RANDOM_KEYS):
        kind = i % 4
        if kind == 0:  # arbitrary binary
            keys.append(bytes(rng.randrange(256) for _ in range(rng.randrange(0, 40))))
        elif kind == 1:  # few symbols, many braces: exercises every tag shape
            keys.append(bytes(rng.choice(alphabet) for _ in range(rng.randrange(0, 12))))
        elif kind == 2:  # prefix{tag}suffix with a possibly empty or binary tag
            def part(n):
                return bytes(rng.randrange(256) for _ in range(rng.randrange(0, n)))
            keys.append(part(8) + b"{" + part(6) + b"}" + part(8))
        else:  # application-looking keys
            keys.append(("user:%d:%s" % (rng.randrange(10**6), rng.choice(["a", "{b}", "{}"])))
                        .encode())
    return keys


def read_vectors():
    vectors = []
    for line in VECTORS.read_text().splitlines():
        hexkey, slot = line.split(" ")
        vectors.append((bytes.fromhex(hexkey), int(slot)))
    return vectors


def server_slots(client, keys):
    slots = []
    for start in range(0, len(keys), 500):
        pipe = client.pipeline(transaction=False)
        for key in keys[start:start + 500]:
            pipe.execute_command("CLUSTER", "KEYSLOT", key)
        slots.extend(int(s) for s in pipe.execute())
    return slots


@pytest.fixture(scope="module")
def cluster_node(tmp_path_factory, request):
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    workdir = tmp_path_factory.mktemp("keyslot")
    proc = subprocess.Popen(
        [server, "--port", str(PORT), "--bind", "127.0.0.1", "--cluster-enabled", "yes",
         "--cluster-config-file", str(workdir / "nodes.conf"), "--dir", str(workdir),
         "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop():
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    request.addfinalizer(stop)
    client = redis.Redis(host="127.0.0.1", port=PORT)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail("redis-server on port %d did not start" % PORT)
            time.sleep(0.05)
    yield client
    client.close()


def test_vector_file_matches_cluster_keyslot(cluster_node):
    if os.environ.get("SLOTGATE_REGEN") == "1":
        keys = list(dict.fromkeys(SPECIAL_KEYS + random_keys(random.Random(SEED))))
        slots = server_slots(cluster_node, keys)
        VECTORS.write_text("".join("%s %d\n" % (k.hex(), s) for k, s in zip(keys, slots)))

    vectors = read_vectors()
    assert len(vectors) >= 5000
    keys = [k for k, _ in vectors]
    missing = [k for k in SPECIAL_KEYS if k not in set(keys)]
    assert not missing, "vector file lacks special keys %r; regenerate it" % missing
    expected = server_slots(cluster_node, keys)
    mismatches = [(k, s, e) for (k, s), e in zip(vectors, expected) if s != e]
    assert not mismatches[:10], "%d vectors disagree with CLUSTER KEYSLOT" % len(mismatches)
