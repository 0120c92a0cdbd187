"""The benchmark's ERP side: one process per connector, as each ERP is a server of its own.

A connector's process runs its SFTP or FTPS sandbox or its ERP API emulator (an HTTP API also a
second emulator for the floor, so the floor's orders never meet the pipeline's), and in front of
each a ``FaultProxy`` that adds ``rtt`` seconds of round trip. FTP data connections cross the
proxy too: the FTP sandbox announces a proxy port for each passive data connection. Apart, no
server waits on another's interpreter lock, which one process for all of them made noisy.

Each process prints one JSON line, its connector's Airflow connections: ``latency`` (through the
proxy), ``floor`` (the floor's destination, through a proxy) and ``direct`` (no proxy). It stops
when its stdin closes.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
USER = "app4sales"
CONNECTORS = ("reflecta", "ezxml", "spector", "styleman", "accountview")
HTTP_CONNECTORS = ("spector", "styleman", "accountview")


def _through(conn: dict[str, Any], proxy: Any, **changes: Any) -> dict[str, Any]:
    return {**conn, "port": proxy.port, **changes}


def serve(root: Path, rtt: float, connector: str) -> None:
    """The child: start ``connector``'s servers and their proxies, say where they are, serve until stdin closes."""
    from erp_sandbox import ERP_API_MODULES, Sandboxes
    from erp_sandbox.fault_proxy import FaultProxy

    sandboxes = Sandboxes(root / "sandbox", USER)  # only this connector's servers are started

    def started(server: Any) -> Any:
        server.start()
        stack.callback(server.stop)
        return server

    with contextlib.ExitStack() as stack:
        if connector in HTTP_CONNECTORS:
            api = started(sandboxes.apis[connector])
            floor_api = started(importlib.import_module(ERP_API_MODULES[connector]).Api(root / "floor"))
            direct = api.airflow_connection()
            latency = _through(direct, stack.enter_context(FaultProxy(api.port, rtt=rtt)))
            # StyleMan's floor logs in with basic auth: the same headers on every request, no token.
            floor = floor_api.airflow_connection("basic") if connector == "styleman" else floor_api.airflow_connection()
            floor = _through(floor, stack.enter_context(FaultProxy(floor_api.port, rtt=rtt)))
        elif connector == "reflecta":
            proxy = stack.enter_context(FaultProxy(started(sandboxes.sftp).port, rtt=rtt))
            direct = sandboxes.airflow_connection("sftp", USER, connector)
            latency, floor = _through(direct, proxy), _through(direct, proxy, schema="floor")
        else:
            proxy = stack.enter_context(FaultProxy(started(sandboxes.ftp).port, rtt=rtt))
            sandboxes.ftp.passive_through = proxy.forward_once  # data connections cross the proxy too
            conn = sandboxes.airflow_connection("ftps", USER, connector)
            latency, floor = _through(conn, proxy), _through(conn, proxy, schema="floor")
            # So "direct" (the memory figures, no round trip) is an FTPS server of its own.
            plain = Sandboxes(root / "direct", USER)
            started(plain.ftp)
            direct = plain.airflow_connection("ftps", USER, connector)
        print(json.dumps({"latency": latency, "floor": floor, "direct": direct}), flush=True)
        sys.stdin.read()


class RemoteSandboxes:
    """The parent's handle on the server processes: the connections that reach their servers."""

    def __init__(self, root: Path, rtt: float) -> None:
        self.root, self.rtt = root, rtt
        self._processes: list[subprocess.Popen[str]] = []
        self.latency: dict[str, dict[str, Any]] = {}
        self.floor: dict[str, dict[str, Any]] = {}
        self.direct: dict[str, dict[str, Any]] = {}

    def __enter__(self) -> RemoteSandboxes:
        try:
            for connector in CONNECTORS:
                self._processes.append(subprocess.Popen(
                    [sys.executable, "-m", "bench.servers", str(self.root / connector), str(self.rtt), connector],
                    cwd=PROJECT, text=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=os.environ.copy()))
            for connector, process in zip(CONNECTORS, self._processes, strict=True):
                assert process.stdout is not None
                line = process.stdout.readline()
                if not line:
                    raise RuntimeError(f"the benchmark's {connector} server process exited "
                                       f"({process.wait(timeout=30)}) before serving")
                described = json.loads(line)
                self.latency[connector] = described["latency"]
                self.floor[connector] = described["floor"]
                self.direct[connector] = described["direct"]
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        for process in self._processes:
            assert process.stdin is not None
            process.stdin.close()
        for process in self._processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        self._processes = []


if __name__ == "__main__":
    serve(Path(sys.argv[1]), float(sys.argv[2]), sys.argv[3])
