"""A small TCP proxy on loopback that injects network faults between a client and a sandbox.

There is no toxiproxy here; this does what the fault suite needs, per new connection:

- ``refuse``: close the listening socket's accepted connection at once (the client sees a reset
  or EOF before the protocol starts);
- ``delay``: wait before forwarding anything from the server (a slow server, past a timeout);
- ``cut_after_bytes``: forward that many bytes from the client, then cut both sides (a
  connection lost mid-upload or mid-request);
- ``stall_after_bytes``: forward that many bytes from the client, then stop answering without
  closing (a reply that never comes).

FTP passive data connections do not pass a control-port proxy: FTP faults are injected inside
the FTP sandbox instead (``FtpSandbox.faults``).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
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
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
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
            asyncio.start_server(self._handle, "127.0.0.1", 0), self._loop).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

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

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
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
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        done = asyncio.Event()

        async def upstream() -> None:
            sent = 0
            limit = faults.cut_after_bytes if faults.cut_after_bytes is not None else faults.stall_after_bytes
            while not done.is_set():
                data = await client_reader.read(65536)
                if not data:
                    break
                if limit is not None and sent + len(data) >= limit:
                    server_writer.write(data[: max(0, limit - sent)])
                    await server_writer.drain()
                    if faults.cut_after_bytes is not None:
                        client_writer.transport.abort()
                        server_writer.transport.abort()
                        done.set()
                        return
                    await done.wait()  # stall: keep both sockets open, forward nothing more
                    return
                sent += len(data)
                self.last_bytes_up = sent
                server_writer.write(data)
                await server_writer.drain()
            done.set()

        async def downstream() -> None:
            while not done.is_set():
                data = await server_reader.read(65536)
                if not data:
                    break
                if faults.delay:
                    await asyncio.sleep(faults.delay)
                client_writer.write(data)
                await client_writer.drain()
            done.set()

        try:
            await asyncio.gather(upstream(), downstream(), return_exceptions=True)
        finally:
            for writer in (client_writer, server_writer):
                with contextlib.suppress(Exception):
                    writer.close()
