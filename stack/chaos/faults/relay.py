"""A TCP relay that adds a fixed latency each way: `netem delay` where the kernel has no netem.

    python -m stack.chaos.faults.relay LISTEN_HOST LISTEN_PORT TARGET_HOST TARGET_PORT CONTROL_FILE

Runs inside the database's network namespace, in front of PostgreSQL; the app's connections cross
the veth to reach it, so the namespace's nftables blackhole cuts them like any other packet. Each
chunk is held `delay` ms (read from CONTROL_FILE, 0 when absent) before it is passed on, in order,
without limiting throughput: latency, not bandwidth, as netem's `delay` does. Keepalives on the
client side end the upstream session when a client vanished behind a blackhole, so PostgreSQL does
not keep its backend forever.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import time
from pathlib import Path


class Delay:
    def __init__(self, control: Path):
        self.control, self.seconds, self.checked = control, 0.0, 0.0

    def now(self) -> float:
        clock = time.monotonic()
        if clock - self.checked > 0.05:
            self.checked = clock
            try:
                self.seconds = float(self.control.read_text().strip() or 0) / 1000
            except (OSError, ValueError):
                self.seconds = 0.0
        return self.seconds


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: Delay) -> None:
    queue: asyncio.Queue = asyncio.Queue()

    async def send():
        while True:
            due, data = await queue.get()
            if data is None:
                break
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()

    sender = asyncio.create_task(send())
    try:
        while data := await reader.read(65536):
            queue.put_nowait((time.monotonic() + delay.now(), data))
    except OSError:
        pass
    queue.put_nowait((0.0, None))
    try:
        await sender
    except OSError:
        pass
    finally:
        writer.close()


def keepalive(sock: socket.socket) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for option, value in (("TCP_KEEPIDLE", 5), ("TCP_KEEPINTVL", 2), ("TCP_KEEPCNT", 2)):
        if hasattr(socket, option):
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, option), value)


async def main(listen_host: str, listen_port: int, target_host: str, target_port: int, control: Path) -> None:
    delay = Delay(control)

    async def handle(client_reader, client_writer):
        keepalive(client_writer.get_extra_info("socket"))
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(target_host, target_port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, upstream_writer, delay), pipe(upstream_reader, client_writer, delay))

    server = await asyncio.start_server(handle, listen_host, listen_port, backlog=512)
    print(f"relay {listen_host}:{listen_port} -> {target_host}:{target_port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    host, port, target, target_port, control = sys.argv[1:6]
    asyncio.run(main(host, int(port), target, int(target_port), Path(control)))
