"""Run the components of a real Airflow 3 deployment from the venv, each as its own process group.

Every component (``airflow api-server``, ``scheduler``, ``dag-processor``, ``triggerer``,
``celery worker``) is started in a new session so that its whole process group can be stopped,
with stdout/stderr in a log file whose tail goes into every error message. Task processes move
into process groups of their own (the Task SDK supervisor calls ``setpgid``), so teardown also
sweeps up any process whose environment carries this deployment's marker variable.

``RestApi`` is a small client of the public REST API v2 that logs in through the
SimpleAuthManager's ``POST /auth/token``. ``make airflow`` (``python -m local_airflow``) and the
deployment tests both build on this module.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

AIRFLOW_BIN = Path(sys.executable).with_name("airflow")
MARKER_VARIABLE = "BACKOFFICE_DEPLOYMENT_MARKER"
T = TypeVar("T")


class DeploymentError(AssertionError):
    """Something in the deployment did not come up or did not finish in time."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return f"(no {path.name})"
    text = path.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])


@dataclass
class Deadline:
    """One time budget for a whole test module; every wait takes what it needs from it."""

    seconds: float
    started: float = field(default_factory=time.monotonic)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def remaining(self, cap: float | None = None) -> float:
        left = max(0.0, self.seconds - self.elapsed)
        return left if cap is None else min(left, cap)


class AirflowProcesses:
    """The Airflow components of one deployment, started and stopped as process groups."""

    def __init__(self, env: Mapping[str, str], log_dir: Path) -> None:
        # Every process of this deployment inherits the marker; teardown finds stragglers by it.
        self.marker = f"{MARKER_VARIABLE}={uuid.uuid4().hex}"
        self.env = {**env, MARKER_VARIABLE: self.marker.split("=", 1)[1]}
        self.log_dir = log_dir
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._log_files: dict[str, Path] = {}

    def log_file(self, name: str) -> Path:
        return self.log_dir / f"{name.replace(' ', '-')}.log"

    def run(self, name: str, *args: str, timeout: float) -> None:
        """Run ``airflow <args>`` to completion (e.g. ``db migrate``); raise with its log tail on failure."""
        log = self.log_file(name)
        with log.open("wb") as out:
            try:
                result = subprocess.run([str(AIRFLOW_BIN), *args], env=self.env, stdout=out,
                                        stderr=subprocess.STDOUT, timeout=timeout, check=False)
            except subprocess.TimeoutExpired:
                raise DeploymentError(f"`airflow {' '.join(args)}` did not finish in {timeout:.0f} s\n"
                                      f"--- {log.name} ---\n{tail(log)}") from None
        if result.returncode != 0:
            raise DeploymentError(f"`airflow {' '.join(args)}` exited with {result.returncode}\n"
                                  f"--- {log.name} ---\n{tail(log)}")

    def start(self, name: str, *args: str) -> None:
        """Start ``airflow <args>`` in the background, in a process group (session) of its own."""
        log = self.log_file(name)
        self._log_files[name] = log
        with log.open("wb") as out:
            self.procs[name] = subprocess.Popen([str(AIRFLOW_BIN), *args], env=self.env, stdout=out,
                                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                                start_new_session=True)

    def check_alive(self) -> None:
        dead = {name: proc.returncode for name, proc in self.procs.items() if proc.poll() is not None}
        if dead:
            raise DeploymentError(f"Airflow components exited early: {dead}\n{self.tails()}")

    def tails(self, lines: int = 30) -> str:
        """The last lines of every component's log, for an assertion message."""
        parts = [f"--- {path.name} (last {lines} lines) ---\n{tail(path, lines)}" for path in self._log_files.values()]
        return "\n".join(parts)

    def wait_for(self, what: str, probe: Callable[[], T | None], deadline: Deadline, *, cap: float,
                 interval: float = 1.0, details: Callable[[], str] | None = None) -> T:
        """Poll ``probe`` until it returns something other than ``None``; fail with the logs if it never does.

        Raises at once if a component died meanwhile. ``cap`` bounds this wait, ``deadline`` the module.
        """
        limit = time.monotonic() + deadline.remaining(cap)
        last_error: BaseException | None = None
        while True:
            self.check_alive()
            try:
                result = probe()
            except (httpx.HTTPError, OSError) as exc:  # not up yet
                last_error, result = exc, None
            if result is not None:
                return result
            if time.monotonic() >= limit:
                extra = details() if details is not None else ""
                cause = f"\nlast error: {last_error!r}" if last_error is not None else ""
                raise DeploymentError(
                    f"timed out after {deadline.elapsed:.0f} s (module budget {deadline.seconds:.0f} s) "
                    f"waiting for {what}{cause}\n{extra}\n{self.tails()}"
                )
            time.sleep(interval)

    def stop(self, grace: float = 20.0) -> list[str]:
        """SIGTERM every process group, SIGKILL what is left after ``grace`` s; return what needed killing."""
        killed: list[str] = []
        for proc in self.procs.values():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        limit = time.monotonic() + grace
        for name, proc in self.procs.items():
            try:
                proc.wait(timeout=max(0.1, limit - time.monotonic()))
            except subprocess.TimeoutExpired:
                killed.append(name)
            # The group may outlive its leader (pool children): make sure it is gone.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
        killed.extend(self._sweep())
        return killed

    def _sweep(self) -> list[str]:
        """Kill leftovers that left our process groups, recognised by this deployment's marker variable."""
        marker = self.marker.encode()
        leftovers = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                environ = (entry / "environ").read_bytes()
            except OSError:  # gone, or not ours to read
                continue
            if marker in environ.split(b"\0"):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(int(entry.name), signal.SIGKILL)
                    leftovers.append(f"pid {entry.name}")
        return leftovers


class RestApi:
    """The public REST API v2 of the api-server, authenticated with a JWT from ``/auth/token``."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._credentials = {"username": username, "password": password}
        self.client = httpx.Client(base_url=self.base_url, timeout=30.0)

    def close(self) -> None:
        self.client.close()

    def login(self) -> None:
        response = self.client.post("/auth/token", json=self._credentials)
        if response.status_code != 201:
            raise DeploymentError(f"POST /auth/token answered {response.status_code}: {response.text}")
        self.client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def request(self, method: str, path: str, *, expect: tuple[int, ...] = (200,), **kwargs: Any) -> httpx.Response:
        response = self.client.request(method, f"/api/v2{path}", **kwargs)
        if response.status_code not in expect:
            raise DeploymentError(f"{method} /api/v2{path} answered {response.status_code}: {response.text[:2000]}")
        return response

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs).json()

    def post(self, path: str, body: Mapping[str, Any], *, expect: tuple[int, ...] = (200,)) -> Any:
        return self.request("POST", path, json=body, expect=expect).json()

    def patch(self, path: str, body: Mapping[str, Any]) -> Any:
        return self.request("PATCH", path, json=body).json()
