"""The network fault mechanism on its own (stack/chaos/faults/network.py): a namespace with a veth,
a server inside it, a blackhole that makes connections hang (not refuse), a delay, and a teardown
that leaves nothing behind. Needs root, iproute2 and nftables: without them these tests FAIL (the
chaos scenarios 7, 8 and 11 depend on it), they are never skipped."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

from stack.chaos.faults.network import RELAY_PORT, DatabaseNetwork

ECHO = "import socket,sys\ns=socket.create_server((sys.argv[1], int(sys.argv[2])))\nwhile True:\n c,_=s.accept(); d=c.recv(100); c.sendall(d); c.close()\n"


@pytest.fixture
def network(tmp_path):
    net = DatabaseNetwork().create()
    server = subprocess.Popen([*net.wrap, sys.executable, "-c", ECHO, net.address, "7000"])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection((net.address, 7000), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        net.start_relay(7000, tmp_path / "relay.log")
        yield net
    finally:
        server.kill()
        server.wait()
        net.teardown()


def echo(address: str, port: int, timeout: float = 2.0) -> float:
    start = time.monotonic()
    with socket.create_connection((address, port), timeout=timeout) as s:
        s.sendall(b"pizza")
        assert s.recv(100) == b"pizza"
    return time.monotonic() - start


def test_blackhole_makes_connections_hang_then_restore_serves_again(network):
    echo(network.address, 7000)
    network.blackhole()
    start = time.monotonic()
    with pytest.raises(socket.timeout):  # dropped, not refused: no RST, no ICMP
        echo(network.address, 7000, timeout=1.5)
    assert time.monotonic() - start >= 1.4
    assert network.dropped() > 0
    network.restore()
    echo(network.address, 7000)


def test_delay_adds_latency_each_way_and_goes_away(network):
    plain = echo(network.address, RELAY_PORT)
    network.delay(200)
    time.sleep(0.2)  # the relay rereads its setting every 50 ms
    slow = echo(network.address, RELAY_PORT)
    assert slow >= 0.4, f"round trip through the delayed path took {slow:.3f}s"
    network.restore()
    time.sleep(0.2)
    assert echo(network.address, RELAY_PORT) < 0.4 or plain > 0.3


def test_teardown_removes_namespace_and_veth():
    net = DatabaseNetwork().create()
    net.teardown()
    assert net.name not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert subprocess.run(["ip", "link", "show", net.host_if], capture_output=True).returncode != 0
