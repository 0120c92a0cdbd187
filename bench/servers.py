"""The benchmark's ERP side, in a process of its own, as a real ERP is.

The sandboxes (SFTP, FTPS, the ERP API emulators) are Python servers. Run inside the process
that exports, they would take turns with it on one interpreter lock: the server's work would be
billed to the client, and a client that prepares the next order while the ERP handles this one
could never show it. So the benchmark starts them in a child process (the machine's second core)
and talks to them over loopback only, through Airflow connections, like the product does.

The child prints one JSON line: the Airflow connections of every benchmark target, those of
untouched API emulators for the floor (a set per floor pass, ``FLOOR_PASSES``: an untimed
warm-up, then the floor taken beside the pipeline's chunks). It stops when its stdin closes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
USER = "app4sales"
EZXML_FORMATS = ("Default", "CSV", "Reflecta")
HTTP_CONNECTORS = ("spector", "styleman", "accountview")
FLOOR_PASSES = ("warm-up", "beside")


def describe(sandboxes: Any, floor_apis: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """What the parent needs to reach the servers: connections by id (targets, then floor passes)."""
    connections: dict[str, Any] = {"bench_reflecta": sandboxes.airflow_connection("sftp", USER, "bench-reflecta")}
    for fmt in EZXML_FORMATS:
        connections[f"bench_ezxml_{fmt.lower()}"] = sandboxes.airflow_connection(
            "ftps", USER, f"bench-ezxml-{fmt.lower()}")
    for connector in HTTP_CONNECTORS:
        connections[f"bench_{connector}"] = sandboxes.apis[connector].airflow_connection()
    floor = {floor_pass: {name: (api.airflow_connection("basic") if name == "styleman" else api.airflow_connection())
                          for name, api in apis.items()}
             for floor_pass, apis in floor_apis.items()}
    return {"connections": connections, "floor": floor}


def serve(root: Path) -> None:
    """The child: start the servers, say where they are, serve until stdin closes."""
    import importlib

    from erp_sandbox import ERP_API_MODULES, Sandboxes

    floor_apis = {floor_pass: {name: importlib.import_module(ERP_API_MODULES[name]).Api(root / "floor" / floor_pass)
                               for name in HTTP_CONNECTORS}
                  for floor_pass in FLOOR_PASSES}
    every_floor_api = [api for apis in floor_apis.values() for api in apis.values()]
    with Sandboxes(root / "sandbox", USER) as sandboxes:
        for api in every_floor_api:
            api.start()
        try:
            print(json.dumps(describe(sandboxes, floor_apis)), flush=True)
            sys.stdin.read()
        finally:
            for api in every_floor_api:
                api.stop()


class RemoteSandboxes:
    """The parent's handle on the server process: the connections that reach its servers."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._process: subprocess.Popen[str] | None = None
        self.connections: dict[str, dict[str, Any]] = {}
        self.floor: dict[str, dict[str, dict[str, Any]]] = {}  # floor pass -> connector -> connection

    def __enter__(self) -> RemoteSandboxes:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bench.servers", str(self.root)], cwd=PROJECT, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=os.environ.copy())
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            self._process.wait(timeout=30)
            raise RuntimeError(f"the benchmark's server process exited ({self._process.returncode}) before serving")
        described = json.loads(line)
        self.connections, self.floor = described["connections"], described["floor"]
        return self

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

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
    serve(Path(sys.argv[1]))
