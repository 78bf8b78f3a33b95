"""The network between the app and PostgreSQL, made real so it can fail the way RDS fails.

`DatabaseNetwork` puts the harness's PostgreSQL in a network namespace of its own, joined to the
host by a veth pair with a /30 of its own (`ip netns`, `ip link`), and the app reaches it across
that veth. Faults act on the veth:

- `blackhole()`: every packet on the namespace's veth dropped, both ways, by nftables (no RST, no
  ICMP): established connections hang and new ones get no SYN-ACK, as when an RDS primary vanishes.
  `tc qdisc ... netem loss 100%` is used instead when the kernel has netem.
- `delay(ms)`: latency added each way. With netem: `tc qdisc ... netem delay` on both ends of the
  veth. Without it (this machine's kernel has no sch_netem), a relay inside the namespace
  (relay.py) holds every chunk `ms` each way; the app always connects through the relay, so the
  path is the same whether a delay is on or not.

Names carry the harness's pid (`pzc<pid>x<rand>`), so parallel runs never clash, and a run sweeps
away namespaces left by a harness that no longer exists (killed with SIGKILL). Teardown deletes the
namespace, which removes both ends of the veth and everything in it. Needs root, iproute2 and
nftables (.ci/run installs them); without them `DatabaseNetwork.create` raises NetworkUnavailable,
and every scenario that needs it fails saying why.
"""

from __future__ import annotations

import ipaddress
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ... import REPO_ROOT

PREFIX = "pzc"
SUPERNET = ipaddress.IPv4Network("10.213.0.0/16")
RELAY_PORT = 6432
TABLE = "pizza_chaos"


class NetworkUnavailable(RuntimeError):
    """This machine cannot build the namespace (not root, no iproute2 or nftables)."""


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(list(args), capture_output=True, text=True)
    if check and result.returncode != 0:
        raise NetworkUnavailable(f"`{' '.join(args)}` failed: {(result.stderr or result.stdout).strip()}")
    return result


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale() -> list[str]:
    """Delete namespaces of ours whose harness process is gone; returns their names."""
    removed = []
    for line in sh("ip", "netns", "list", check=False).stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        if not name.startswith(PREFIX) or "x" not in name:
            continue
        try:
            pid = int(name[len(PREFIX) :].split("x")[0], 16)
        except ValueError:
            continue
        if not _pid_alive(pid):
            sh("ip", "netns", "del", name, check=False)
            removed.append(name)
    return removed


def free_subnet() -> ipaddress.IPv4Network:
    used = sh("ip", "-4", "-o", "addr", "show", check=False).stdout
    subnets = list(SUPERNET.subnets(new_prefix=30))
    for _ in range(50):
        net = random.choice(subnets)
        if f" {net[1]}/" not in used and f" {net[2]}/" not in used:
            return net
    raise NetworkUnavailable(f"no free /30 in {SUPERNET}")


class DatabaseNetwork:
    def __init__(self):
        tag = f"{os.getpid():x}x{random.randrange(16**3):03x}"
        self.name = PREFIX + tag  # the namespace
        self.host_if, self.ns_if = "pzh" + tag, "pzn" + tag  # <= 15 characters
        self.subnet: ipaddress.IPv4Network | None = None
        self.relay: subprocess.Popen | None = None
        self.control = Path(tempfile.mkdtemp(prefix="pizza-chaos-net.")) / "delay_ms"
        self.netem = False
        self.cut = False
        self.delay_ms = 0

    # --- building and removing ------------------------------------------------------------------
    @property
    def host_address(self) -> str:
        assert self.subnet is not None, "the network is not built"
        return str(self.subnet[1])

    @property
    def address(self) -> str:
        """The database's side: PostgreSQL and the relay listen here."""
        assert self.subnet is not None, "the network is not built"
        return str(self.subnet[2])

    @property
    def wrap(self) -> list[str]:
        """Prefix that runs a command inside the namespace."""
        return ["ip", "netns", "exec", self.name]

    def create(self) -> DatabaseNetwork:
        if os.geteuid() != 0:
            raise NetworkUnavailable("the network scenarios need root (ip netns, nftables); run as root or in CI (.ci/run)")
        for tool in ("ip", "tc", "nft"):
            if not shutil.which(tool):
                raise NetworkUnavailable(f"`{tool}` is missing: apt-get install -y iproute2 nftables")
        sweep_stale()
        self.subnet = free_subnet()
        try:
            sh("ip", "netns", "add", self.name)
            sh("ip", "link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if)
            sh("ip", "link", "set", self.ns_if, "netns", self.name)
            sh("ip", "addr", "add", f"{self.host_address}/30", "dev", self.host_if)
            sh("ip", "link", "set", self.host_if, "up")
            sh(*self.wrap, "ip", "addr", "add", f"{self.address}/30", "dev", self.ns_if)
            sh(*self.wrap, "ip", "link", "set", self.ns_if, "up")
            sh(*self.wrap, "ip", "link", "set", "lo", "up")
            # Which delay mechanism this kernel offers (netem is a module many VM kernels lack).
            self.netem = sh(*self.wrap, "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "0ms", check=False).returncode == 0
            if self.netem:
                sh(*self.wrap, "tc", "qdisc", "del", "dev", "lo", "root", check=False)
            sh(*self.wrap, "nft", "add", "table", "inet", TABLE)
        except Exception:
            self.teardown()
            raise
        return self

    def start_relay(self, target_port: int, log: Path) -> None:
        """The app's way in: ADDRESS:6432 inside the namespace, forwarding to PostgreSQL."""
        self.control.write_text("0")
        with open(log, "ab") as out:
            self.relay = subprocess.Popen(
                [
                    *self.wrap,
                    sys.executable,
                    "-m",
                    "stack.chaos.faults.relay",
                    self.address,
                    str(RELAY_PORT),
                    self.address,
                    str(target_port),
                    str(self.control),
                ],
                cwd=REPO_ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        import socket

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection((self.address, RELAY_PORT), timeout=1).close()
                return
            except OSError:
                if self.relay.poll() is not None:
                    break
                time.sleep(0.1)
        raise NetworkUnavailable(f"the relay in {self.name} did not start; see {log}")

    def url_through_relay(self, database_url: str) -> str:
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(database_url)
        return urlunsplit(parts._replace(netloc=f"{parts.username}@{self.address}:{RELAY_PORT}"))

    def teardown(self) -> None:
        if self.relay is not None and self.relay.poll() is None:
            import signal

            try:
                os.killpg(self.relay.pid, signal.SIGTERM)
                self.relay.wait(5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.relay.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        sh("ip", "netns", "del", self.name, check=False)  # removes both veth ends and the rules
        sh("ip", "link", "del", self.host_if, check=False)  # in case the namespace never got its end
        shutil.rmtree(self.control.parent, ignore_errors=True)

    # --- faults -----------------------------------------------------------------------------------
    def _netem(self, *spec: str) -> None:
        for wrap, dev in (([], self.host_if), (self.wrap, self.ns_if)):
            sh(*wrap, "tc", "qdisc", "replace", "dev", dev, "root", "netem", *spec)

    def _netem_off(self) -> None:
        for wrap, dev in (([], self.host_if), (self.wrap, self.ns_if)):
            sh(*wrap, "tc", "qdisc", "del", "dev", dev, "root", check=False)

    def blackhole(self) -> None:
        """Drop every packet crossing the veth, both ways, silently."""
        if self.netem:
            self._netem("loss", "100%")
        else:
            rules = (
                f"add chain inet {TABLE} input {{ type filter hook input priority -10; policy accept; }}\n"
                f"add chain inet {TABLE} output {{ type filter hook output priority -10; policy accept; }}\n"
                f"add rule inet {TABLE} input iifname {self.ns_if} counter drop\n"
                f"add rule inet {TABLE} output oifname {self.ns_if} counter drop\n"
            )
            subprocess.run([*self.wrap, "nft", "-f", "-"], input=rules, text=True, check=True, capture_output=True)
        self.cut = True

    def restore(self) -> None:
        """Undo blackhole() and delay()."""
        if self.netem:
            self._netem_off()
        sh(*self.wrap, "nft", "flush", "table", "inet", TABLE, check=False)
        sh(*self.wrap, "nft", "delete", "chain", "inet", TABLE, "input", check=False)
        sh(*self.wrap, "nft", "delete", "chain", "inet", TABLE, "output", check=False)
        self.control.write_text("0")
        self.cut, self.delay_ms = False, 0

    def delay(self, ms: int) -> str:
        """Add `ms` each way; returns the mechanism used (for the report)."""
        if self.netem:
            self._netem("delay", f"{ms}ms")
            mechanism = f"tc netem delay {ms}ms on both ends of the veth"
        else:
            self.control.write_text(str(ms))
            mechanism = f"{ms} ms each way by the relay in the namespace (this kernel has no sch_netem)"
        self.delay_ms = ms
        return mechanism

    def dropped(self) -> int:
        """Packets the nftables rules dropped so far (proof the blackhole was real)."""
        out = sh(*self.wrap, "nft", "list", "table", "inet", TABLE, check=False).stdout
        return sum(int(part.split()[0]) for part in out.split("packets ")[1:] if part.split()[0].isdigit())
