"""A small TCP proxy on loopback that injects network faults between a client and a sandbox.

There is no toxiproxy here; this does what the fault suite needs, per new connection:

- ``refuse``: close the listening socket's accepted connection at once (the client sees a reset
  or EOF before the protocol starts);
- ``delay``: wait before forwarding anything from the server (a slow server, past a timeout);
- ``cut_after_bytes``: forward that many bytes from the client, then cut both sides (a
  connection lost mid-upload or mid-request);
- ``stall_after_bytes``: forward that many bytes from the client, then stop answering without
  closing (a reply that never comes).

With ``rtt`` (seconds) it also stands in for a real network: each new connection waits one round
trip (the TCP handshake), and everything it carries arrives half a round trip later in each
direction, in order, however much is in flight (latency, not a bandwidth limit).

FTP passive data connections do not pass a control-port proxy: FTP faults are injected inside
the FTP sandbox instead (``FtpSandbox.faults``). For latency, ``forward_once`` gives a data
connection a port of its own on the proxy (``FtpSandbox.passive_through`` announces it).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass
class ProxyFaults:
    refuse: bool = False
    delay: float = 0.0
    cut_after_bytes: int | None = None
    stall_after_bytes: int | None = None

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]


class FaultProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1", *, rtt: float = 0.0) -> None:
        self.target = (target_host, target_port)
        self.rtt = rtt
        self.faults = ProxyFaults()
        self.connections = 0
        self.last_bytes_up = 0  # client -> server bytes of the latest connection, to aim cuts
        self._tasks: set[asyncio.Task] = set()
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.base_events.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-proxy", daemon=True)
        self.port = 0

    def start(self) -> FaultProxy:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._handler(self.target), "127.0.0.1", 0), self._loop).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def forward_once(self, target_port: int) -> int:
        """A new port on this proxy that forwards one connection to ``target_port``, with the
        same faults and latency (an FTP passive data connection); it stops listening once used."""

        async def listen() -> int:
            handle = self._handler((self.target[0], target_port))

            async def once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
                server.close()
                await handle(reader, writer)

            server = await asyncio.start_server(once, "127.0.0.1", 0)
            return server.sockets[0].getsockname()[1]

        return asyncio.run_coroutine_threadsafe(listen(), self._loop).result(10)

    def stop(self) -> None:
        async def _close() -> None:
            for task in list(self._tasks):
                task.cancel()
            if self._server is not None:
                self._server.close()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._server.wait_closed(), 2)

        asyncio.run_coroutine_threadsafe(_close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handler(self, target: tuple[str, int]) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter],
                                                             Awaitable[None]]:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(asyncio.CancelledError):  # stop() ends connections still open
                await self._handle(reader, writer, target)

        return handle

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter,
                      target: tuple[str, int]) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self.connections += 1
        self.last_bytes_up = 0
        faults = ProxyFaults(**vars(self.faults))  # the switches as they were when this connection came
        if faults.refuse:
            client_writer.transport.abort()
            return
        if self.rtt:
            await asyncio.sleep(self.rtt)  # the TCP handshake
        try:
            server_reader, server_writer = await asyncio.open_connection(*target)
        except OSError:
            client_writer.transport.abort()
            return
        done = asyncio.Event()
        to_server = _Path(server_writer, self.rtt / 2)
        to_client = _Path(client_writer, self.rtt / 2)

        async def upstream() -> None:
            sent = 0
            limit = faults.cut_after_bytes if faults.cut_after_bytes is not None else faults.stall_after_bytes
            while not done.is_set():
                data = await client_reader.read(65536)
                if not data:
                    break
                if limit is not None and sent + len(data) >= limit:
                    await to_server.send(data[: max(0, limit - sent)])
                    await to_server.flush()
                    if faults.cut_after_bytes is not None:
                        client_writer.transport.abort()
                        server_writer.transport.abort()
                        done.set()
                        return
                    await done.wait()  # stall: keep both sockets open, forward nothing more
                    return
                sent += len(data)
                self.last_bytes_up = sent
                await to_server.send(data)
            await to_server.flush()
            done.set()

        async def downstream() -> None:
            while not done.is_set():
                data = await server_reader.read(65536)
                if not data:
                    break
                if faults.delay:
                    await asyncio.sleep(faults.delay)
                await to_client.send(data)
            await to_client.flush()
            done.set()

        try:
            await asyncio.gather(upstream(), downstream(), return_exceptions=True)
        finally:
            for path in (to_server, to_client):
                path.close()
            for writer in (client_writer, server_writer):
                with contextlib.suppress(Exception):
                    writer.close()


class _Path:
    """One direction of a connection: writes what it is sent ``delay`` seconds later, in order."""

    def __init__(self, writer: asyncio.StreamWriter, delay: float) -> None:
        self.writer, self.delay = writer, delay
        self.queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        self.task = asyncio.create_task(self._deliver()) if delay else None

    async def send(self, data: bytes) -> None:
        if self.task is None:
            self.writer.write(data)
            await self.writer.drain()
        else:
            self.queue.put_nowait((asyncio.get_running_loop().time() + self.delay, data))

    async def flush(self) -> None:
        """Wait until everything sent so far has been written."""
        if self.task is not None:
            await self.queue.join()

    def close(self) -> None:
        if self.task is not None:
            self.task.cancel()

    async def _deliver(self) -> None:
        loop = asyncio.get_running_loop()
        gone = False  # the far side hung up: what is still queued is dropped
        while True:
            due, data = await self.queue.get()
            try:
                if not gone:
                    if due > loop.time():
                        await asyncio.sleep(due - loop.time())
                    self.writer.write(data)
                    await self.writer.drain()
            except OSError:
                gone = True
            finally:
                self.queue.task_done()
