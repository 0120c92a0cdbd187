"""``make airflow`` as a child process, for the tests and the event benchmark that drive it.

``Launched`` starts ``python -m local_airflow`` in a fresh ``AIRFLOW_HOME`` and local root, waits
for its "Airflow is up" line, hands out a logged-in REST client, and stops it the way a user
does: one SIGINT (Ctrl-C) to the launcher, which stops every component it started.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from local_airflow.processes import DeploymentError, RestApi, free_port, tail

UP_LINE = re.compile(r"Airflow is up: (http://\S+)")


def isolated_env(root: Path, **settings: str) -> dict[str, str]:
    """The caller's environment without Airflow or project settings, plus ``settings``, under ``root``."""
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("AIRFLOW", "_AIRFLOW", "BACKOFFICE_", "PYTEST_"))}
    return {**base, "AIRFLOW_HOME": str(root / "airflow"), "BACKOFFICE_LOCAL_ROOT": str(root / "local"),
            "BACKOFFICE_TASK_RETRIES": "0", **settings}


class Launched:
    """One ``python -m local_airflow`` child process and what it serves."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)
        self.home = Path(self.env["AIRFLOW_HOME"])
        self.local_root = Path(self.env["BACKOFFICE_LOCAL_ROOT"])
        self.log = self.local_root / "make-airflow.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.api: RestApi | None = None

    @property
    def sandbox(self) -> Path:
        return self.local_root / "sandbox"

    def start(self, timeout: float = 300) -> RestApi:
        self.local_root.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "local_airflow", "--port", str(free_port()),
                                          "--timeout", str(timeout)],
                                         env=self.env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        limit = time.monotonic() + timeout + 30
        while not self.url:
            match = UP_LINE.search(self.log.read_text(errors="replace"))
            if match:
                self.url = match.group(1)
            elif self.proc.poll() is not None or time.monotonic() > limit:
                self.stop()
                raise DeploymentError(f"make airflow did not come up\n--- {self.log} ---\n{tail(self.log, 60)}")
            else:
                time.sleep(0.5)
        passwords = json.loads((self.home / "simple_auth_manager_passwords.json").read_text())
        self.api = RestApi(self.url, "admin", passwords["admin"])
        self.api.login()
        return self.api

    def stop(self, timeout: float = 90) -> int | None:
        """Ctrl-C, as a user would; return the launcher's exit code (``None`` if it had to be killed)."""
        if self.api is not None:
            self.api.close()
        if self.proc is None:
            return None
        with contextlib.suppress(ProcessLookupError):
            self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
            return None

    def processes_left(self) -> list[str]:
        """Processes still running with this deployment's ``AIRFLOW_HOME`` (none after a clean stop)."""
        marker = f"AIRFLOW_HOME={self.home}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                    found.append(f"{entry.name}: {command}")
            except OSError:
                continue
        return found

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""
