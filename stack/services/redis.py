"""A redis-server of the test's own (the twin of ElastiCache), which a test may kill at will."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from .. import StackError
from ..http import port_open, wait_for_port


class RedisServer:
    def __init__(self, port: int):
        self.port = port
        self.dir = Path(tempfile.mkdtemp(prefix="pizza-redis."))
        self.popen: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if not binary:
            raise StackError("redis-server is not installed: apt-get install -y redis-server")
        if port_open(self.port):
            raise StackError(f"port {self.port} is taken: another redis-server or program listens there")
        # No persistence: a test's cache starts empty and leaves nothing behind.
        self.popen = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        if not wait_for_port(self.port, self.popen):
            raise StackError(f"redis-server did not start on {self.port}")
        return self

    def kill(self) -> None:
        """Gone at once, as a crashed node would be."""
        if self.popen and self.popen.poll() is None:
            self.popen.kill()
            self.popen.wait(10)

    def stop(self) -> None:
        self.kill()
        self.popen = None
        shutil.rmtree(self.dir, ignore_errors=True)
