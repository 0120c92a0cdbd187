"""The benchmark's ERP side, in a process of its own, as a real ERP is.

One process runs the SFTP and FTPS sandboxes and the ERP API emulators (a second set of
emulators for the floor, so the floor's orders never meet the pipeline's), and in front of each
a ``FaultProxy`` that adds ``rtt`` seconds of round trip. FTP data connections cross the proxy
too: the FTP sandbox announces a proxy port for each passive data connection.

The process prints one JSON line, the Airflow connections per connector: ``latency`` (through
the proxies), ``floor`` (the floor's destinations, through the proxies) and ``direct`` (no
proxy). It stops when its stdin closes.
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


def serve(root: Path, rtt: float) -> None:
    """The child: start the servers and their proxies, say where they are, serve until stdin closes."""
    from erp_sandbox import ERP_API_MODULES, Sandboxes
    from erp_sandbox.fault_proxy import FaultProxy

    with contextlib.ExitStack() as stack:
        sandboxes = stack.enter_context(Sandboxes(root / "sandbox", USER))
        floor_apis = {name: importlib.import_module(ERP_API_MODULES[name]).Api(root / "floor")
                      for name in HTTP_CONNECTORS}
        for api in floor_apis.values():
            api.start()
            stack.callback(api.stop)
        sftp_proxy = stack.enter_context(FaultProxy(sandboxes.sftp.port, rtt=rtt))
        ftp_proxy = stack.enter_context(FaultProxy(sandboxes.ftp.port, rtt=rtt))
        sandboxes.ftp.passive_through = ftp_proxy.forward_once

        direct = {"reflecta": sandboxes.airflow_connection("sftp", USER, "reflecta"),
                  "ezxml": sandboxes.airflow_connection("ftps", USER, "ezxml")}
        latency = {"reflecta": _through(direct["reflecta"], sftp_proxy),
                   "ezxml": _through(direct["ezxml"], ftp_proxy)}
        floor = {"reflecta": _through(direct["reflecta"], sftp_proxy, schema="floor"),
                 "ezxml": _through(direct["ezxml"], ftp_proxy, schema="floor")}
        for name in HTTP_CONNECTORS:
            direct[name] = sandboxes.apis[name].airflow_connection()
            proxy = stack.enter_context(FaultProxy(sandboxes.apis[name].port, rtt=rtt))
            latency[name] = _through(direct[name], proxy)
            # StyleMan's floor logs in with basic auth: the same headers on every request, no token.
            api = floor_apis[name]
            own = api.airflow_connection("basic") if name == "styleman" else api.airflow_connection()
            floor[name] = _through(own, stack.enter_context(FaultProxy(floor_apis[name].port, rtt=rtt)))
        print(json.dumps({"latency": latency, "floor": floor, "direct": direct}), flush=True)
        sys.stdin.read()


class RemoteSandboxes:
    """The parent's handle on the server process: the connections that reach its servers."""

    def __init__(self, root: Path, rtt: float) -> None:
        self.root, self.rtt = root, rtt
        self._process: subprocess.Popen[str] | None = None
        self.latency: dict[str, dict[str, Any]] = {}
        self.floor: dict[str, dict[str, Any]] = {}
        self.direct: dict[str, dict[str, Any]] = {}

    def __enter__(self) -> RemoteSandboxes:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bench.servers", str(self.root), str(self.rtt)], cwd=PROJECT, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=os.environ.copy())
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            self._process.wait(timeout=30)
            raise RuntimeError(f"the benchmark's server process exited ({self._process.returncode}) before serving")
        described = json.loads(line)
        self.latency, self.floor, self.direct = described["latency"], described["floor"], described["direct"]
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._process is not None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
            self._process = None


if __name__ == "__main__":
    serve(Path(sys.argv[1]), float(sys.argv[2]))
