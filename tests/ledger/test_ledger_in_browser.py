"""The ledger in a real ``airflow api-server``, looked at by a real headless Chromium.

Two API servers for the module, each with its own AIRFLOW_HOME and SQLite metadata database
(``airflow db migrate``), this project's ``plugins/`` folder and ``app4sales_db`` pointing at
one SQLite order database seeded like the query tests: ``open`` (SimpleAuthManager, every user
an admin, no login) for the browser, ``login`` (a real SimpleAuthManager login) for the auth checks.

Chromium: ``--dump-dom`` for the ledger page, a filtered URL and the Airflow UI page that holds
the ledger in its navigation; ``--screenshot`` of that UI page; and one click through the
DevTools protocol to follow a task-instance link out of the UI's iframe. Without Chromium or the
``airflow`` command the tests skip (fail under CI=true). Screenshots go to ``docs/screenshots/``
only with ``BACKOFFICE_SCREENSHOTS=1`` (for the docs), otherwise to a temp folder.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PROJECT, need
from tests.ledger.test_ledger_app import TI_1001, TI_2001, LedgerDom, selected
from tests.ledger.test_ledger_queries import XSS_ERROR, seed_ledger

CHROMIUM = Path(os.environ.get("BACKOFFICE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
AIRFLOW = Path(sys.executable).with_name("airflow")
STARTUP_TIMEOUT = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _http(url: str, *, headers: dict[str, str] | None = None, body: dict | None = None,
          timeout: float = 10) -> tuple[int, bytes]:
    """(status, body) of a request to a loopback test server; error statuses are returned, not raised."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 (http on loopback only)
        url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


class ApiServer:
    """``airflow api-server`` in its own AIRFLOW_HOME; nothing inherited from this process's AIRFLOW_*."""

    def __init__(self, home: Path, orders_db: Path, **settings: str) -> None:
        self.home = home
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = home / "api-server.log"
        self.process: subprocess.Popen | None = None
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        self.env.update({
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT / "plugins"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__AUTH_MANAGER":
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
            "AIRFLOW__API__BASE_URL": self.base,
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(48),
            "AIRFLOW_CONN_APP4SALES_DB": json.dumps({"conn_type": "sqlite", "host": str(orders_db)}),
            **settings,
        })

    def migrate(self) -> None:
        result = subprocess.run([str(AIRFLOW), "db", "migrate"], env=self.env, capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    def start(self) -> None:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [str(AIRFLOW), "api-server", "--apps", "core", "--host", "127.0.0.1", "--port", str(self.port),
                 "--workers", "1"],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )

    def wait_until_up(self, deadline: float) -> None:
        assert self.process is not None
        while True:
            assert self.process.poll() is None, f"api-server exited ({self.process.returncode}):\n{_tail(self.log)}"
            try:
                if _http(f"{self.base}/api/v2/monitor/health", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            assert time.monotonic() < deadline, f"api-server did not answer in time:\n{_tail(self.log)}"
            time.sleep(0.3)

    def terminate(self) -> None:
        """Ask the server and its uvicorn worker to end: the session we started them in, nothing else."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)

    def wait_or_kill(self, deadline: float) -> None:
        # uvicorn stops at once, but the process lingers ~10 s after it (idle worker threads);
        # a test server on a throwaway SQLite file loses nothing to SIGKILL.
        if self.process is None:
            return
        try:
            self.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ApiServer]]:
    """Two API servers on one seeded order database, started side by side.

    ``open``: every user an admin, no login (what the browser looks at).
    ``login``: SimpleAuthManager's real login, one viewer ``alice`` (for the auth checks).
    """
    need(CHROMIUM.exists(), f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    need(AIRFLOW.exists(), f"the airflow command is not next to {sys.executable}")
    from backoffice_export.db.engine import create_engine, create_schema

    root = tmp_path_factory.mktemp("ledger-airflow")
    orders_db = root / "orders.db"
    engine = create_engine(f"sqlite:///{orders_db}")
    create_schema(engine)
    seed_ledger(engine)
    engine.dispose()

    (root / "open").mkdir()
    (root / "login").mkdir()
    passwords = root / "login" / "passwords.json"
    passwords.write_text(json.dumps({"alice": secrets.token_urlsafe(12)}))
    started = {
        "open": ApiServer(root / "open", orders_db, AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="True"),
        "login": ApiServer(root / "login", orders_db, AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="False",
                           AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="alice:viewer",
                           AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(passwords)),
    }
    started["open"].migrate()  # one migration, copied: both servers start from the same metadata db
    for db_file in (root / "open").glob("airflow.db*"):
        shutil.copy(db_file, root / "login" / db_file.name)
    try:
        for server in started.values():
            server.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        for server in started.values():
            server.wait_until_up(deadline)
        yield started
    finally:
        for server in started.values():
            server.terminate()
        deadline = time.monotonic() + 3
        for server in started.values():
            server.wait_or_kill(deadline)


@pytest.fixture(scope="module")
def api_server(servers) -> str:
    return servers["open"].base


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.environ.get("BACKOFFICE_SCREENSHOTS") == "1":
        folder = PROJECT / "docs" / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path_factory.mktemp("screenshots")


def chromium(tmp_path: Path, *args: str, timeout: float = 45) -> str:
    profile = tmp_path / f"chromium-{secrets.token_hex(4)}"
    result = subprocess.run([str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_the_plugin_is_registered(api_server):
    status, body = _http(f"{api_server}/api/v2/plugins")
    assert status == 200
    plugin = next(p for p in json.loads(body)["plugins"] if p["name"] == "backoffice_export_ledger")
    assert plugin["fastapi_apps"][0]["url_prefix"] == "/backoffice-ledger"
    view = plugin["external_views"][0]
    assert (view["destination"], view["url_route"], view["href"]) == ("nav", "backoffice-ledger", "backoffice-ledger/")


def test_the_ledger_page_shows_every_order_with_its_task_link(api_server, tmp_path):
    dom = LedgerDom(chromium(tmp_path, "--dump-dom", f"{api_server}/backoffice-ledger/"))
    assert set(dom.rows) == {"1001", "1002", "1003", "2001", "2002", "2003"}
    assert dom.rows["1001"]["erp-order-nr"] == "R-5001" and dom.rows["1001"]["state"] == "sent"
    assert dom.rows["1002"]["error"] == XSS_ERROR  # shown as text: the browser built no <script> from it
    assert dom.links["1001"] == TI_1001 and dom.links["2001"] == TI_2001
    assert [v for v, _ in dom.options["connector"]] == ["", "ezxml", "reflecta"]


def test_a_filtered_url(api_server, tmp_path):
    url = f"{api_server}/backoffice-ledger/?administration=shop-nl&state=failed"
    dom = LedgerDom(chromium(tmp_path, "--dump-dom", url))
    assert set(dom.rows) == {"1002"}
    assert (selected(dom, "administration"), selected(dom, "state"), selected(dom, "connector")) == (
        "shop-nl", "failed", "")


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", header[16:24])


def test_the_ledger_sits_in_the_airflow_ui_navigation(api_server, tmp_path, screenshots):
    shot = screenshots / "ledger.png"
    shot.unlink(missing_ok=True)
    # The UI is a React app: virtual time lets it fetch its config and the plugin list, and the
    # ledger load in its iframe, before Chromium dumps the DOM and takes the screenshot.
    dom = chromium(tmp_path, "--virtual-time-budget=10000", "--window-size=1400,900", f"--screenshot={shot}",
                   "--dump-dom", f"{api_server}/plugin/backoffice-ledger")
    assert 'aria-label="Exports"' in dom and 'href="/plugin/backoffice-ledger"' in dom  # the nav entry
    assert 'src="backoffice-ledger/"' in dom and 'title="Exports"' in dom  # the ledger's iframe
    assert _png_size(shot) == (1400, 900)
    assert shot.stat().st_size > 30_000  # a rendered table, not a blank page


class DevTools:
    """Just enough of the Chrome DevTools protocol to run JavaScript in a page (aiohttp websocket)."""

    def __init__(self, ws) -> None:
        self.ws = ws
        self.next_id = 0

    async def call(self, method: str, **params) -> dict:
        self.next_id += 1
        await self.ws.send_json({"id": self.next_id, "method": method, "params": params})
        while True:
            message = await self.ws.receive_json()
            if message.get("id") == self.next_id:
                assert "error" not in message, message
                return message["result"]

    async def js(self, expression: str):
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = await self.js(expression)
            if value:
                return value
            await asyncio.sleep(0.2)
        raise AssertionError(f"timed out waiting for {expression}")


# Order 1001's task-instance link, inside the ledger's iframe in the Airflow UI (same origin).
LINK_OF_1001 = """(() => {
  const frame = document.querySelector('iframe[title="Exports"]');
  const rows = frame?.contentDocument ? [...frame.contentDocument.querySelectorAll('tr[data-order-id]')] : [];
  return rows.find(tr => tr.querySelector('td.order-nr').textContent === '1001')?.querySelector('a[data-airflow-ui]');
})()"""


async def _follow_task_link(base: str, profile: Path) -> tuple[str, str]:
    import aiohttp

    browser = subprocess.Popen(
        [str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
         "--window-size=1400,900", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 20
        while not port_file.exists() or not port_file.read_text().strip():
            assert time.monotonic() < deadline, "Chromium did not open its DevTools port"
            await asyncio.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/json/list") as response:
                target = next(t for t in await response.json() if t["type"] == "page")
            async with session.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                tools = DevTools(ws)
                await tools.call("Page.navigate", url=f"{base}/plugin/backoffice-ledger")
                await tools.wait_for(f"!!{LINK_OF_1001}")
                await tools.js(f"{LINK_OF_1001}.click()")
                # The outer UI moved on: its URL is the task instance's and the ledger's frame is gone.
                path = await tools.wait_for("location.pathname.startsWith('/dags/')"
                                            " && !document.querySelector('iframe[title=\"Exports\"]')"
                                            " && location.pathname")
                shown = await tools.wait_for("document.body.innerText.includes('reflecta.send_chunk')"
                                             " && document.body.innerText")
                return path, shown
    finally:
        browser.terminate()
        try:
            browser.wait(timeout=10)
        except subprocess.TimeoutExpired:
            browser.kill()
            browser.wait()


def test_a_task_link_inside_the_ui_opens_the_task_instance_in_the_ui_itself(api_server, tmp_path):
    """The UI's iframe is sandboxed without top navigation: the page moves the outer UI instead."""
    path, shown = asyncio.run(_follow_task_link(api_server, tmp_path / "devtools-profile"))
    assert path == TI_1001
    assert "send_orders_to_backoffice" in shown and "Map Index" in shown  # the UI's task-instance header


def test_with_a_real_login_the_ledger_wants_an_airflow_token(servers):
    """Airflow does not guard plugin apps: the ledger's own check does, exactly like the REST API."""
    server = servers["login"]
    base = server.base
    for path in ("/backoffice-ledger/", "/backoffice-ledger/api/orders", "/backoffice-ledger/icon.svg",
                 "/api/v2/dags"):
        assert _http(base + path)[0] == 401, path

    password = json.loads(Path(server.env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]).read_text())["alice"]
    status, body = _http(f"{base}/auth/token", body={"username": "alice", "password": password})
    assert status == 201, body
    token = json.loads(body)["access_token"]

    status, body = _http(f"{base}/backoffice-ledger/api/orders", headers={"Authorization": f"Bearer {token}"})
    assert status == 200 and json.loads(body)["total"] == 6
    # The UI's own session: the _token cookie the browser sends to the iframe's page.
    status, body = _http(f"{base}/backoffice-ledger/", headers={"Cookie": f"_token={token}"})
    assert status == 200 and b"R-5001" in body
    assert _http(f"{base}/backoffice-ledger/", headers={"Authorization": "Bearer not-a-token"})[0] == 403
