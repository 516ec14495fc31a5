"""How slotgate finds and follows the cluster: DNS-name seeds, dead seeds, and a
client that pipelines far more than it reads (backpressure, not unbounded memory)."""
import socket
import time

import pytest


def test_seed_given_as_a_dns_name(cluster, make_slotgate):
    # A headless Service is a DNS name: "localhost" stands in for it here.
    port = cluster.seeds[0].split(":")[1]
    sg = make_slotgate(seeds=[f"localhost:{port}"])
    c = sg.client()
    for i in range(20):
        assert c.set(f"dns:{i}", i)
        assert c.get(f"dns:{i}") == str(i).encode()


def test_dead_seeds_before_a_live_one(cluster, make_slotgate):
    # Seeds are tried in turn; the ones that refuse connections do not stop discovery.
    sg = make_slotgate(seeds=["127.0.0.1:1", "no-such-host.invalid:6379", cluster.seeds[2]])
    assert sg.client().set("deadseed", "v")
    assert sg.client().get("deadseed") == b"v"


def test_no_reachable_seed_keeps_running_and_recovers_nothing_silently(make_slotgate):
    # Nothing answers: slotgate stays up, answers PING, and keyed commands get a clear
    # CLUSTERDOWN after the hold instead of hanging.
    sg = make_slotgate(seeds=["127.0.0.1:1"], config_text="cluster:\n  failover_hold: 1s\n")
    conn = sg.raw()
    try:
        assert conn.command("PING") == "PONG"
        err = conn.command("GET", "k", timeout=10)
        assert str(err).startswith("CLUSTERDOWN"), err
    finally:
        conn.close()


def test_pipeline_beyond_max_pipeline_size_is_paced_not_dropped(cluster, make_slotgate):
    # 3 MB of SETs in one burst against a 256 KB pipeline budget: slotgate stops
    # reading until replies drain, and every command still gets its reply in order.
    sg = make_slotgate(config_text="clients:\n  max_pipeline_size: 256kb\n  max_request_size: 64kb\n")
    value = "x" * 1000
    n = 3000
    payload = b"".join(
        f"*3\r\n$3\r\nSET\r\n${len(f'bp:{i}')}\r\nbp:{i}\r\n${len(value)}\r\n{value}\r\n".encode()
        for i in range(n))
    s = socket.create_connection((sg.host, sg.port))
    s.settimeout(30)
    s.sendall(payload)
    expected = b"+OK\r\n" * n
    got = b""
    deadline = time.monotonic() + 30
    while len(got) < len(expected) and time.monotonic() < deadline:
        got += s.recv(65536)
    s.close()
    assert got == expected
    assert sg.client().get(f"bp:{n - 1}") == value.encode()
