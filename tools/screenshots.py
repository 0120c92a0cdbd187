"""Screenshots of the real Airflow UI for docs/runbook.md.

    .venv/bin/python tools/screenshots.py                # writes docs/screenshots/*.png
    .venv/bin/python tools/screenshots.py --out /tmp/x   # somewhere else
    .venv/bin/python tools/screenshots.py --serve        # after the shots, keep the UI up until Ctrl-C

Needs Playwright for Python in the venv (``.venv/bin/pip install playwright``; a tool of this
script only, not in requirements.txt) and Debian's Chromium at ``/usr/bin/chromium``
(``BACKOFFICE_CHROMIUM`` overrides it): ``playwright install`` cannot download browsers here.

What it does, all in a fresh temp folder (nothing under ``.local/`` is touched):

1. An ``AIRFLOW_HOME`` with a SQLite metadata database (``airflow db migrate``), the loopback
   sandboxes (``erp_sandbox.Sandboxes``) and a SQLite order database
   (``AIRFLOW_CONN_APP4SALES_DB``).
2. A real ``airflow api-server`` on a free loopback port (SimpleAuthManager with every user an
   admin, this project's ``plugins/`` for the ledger page). It also serves the Execution API that
   the task processes talk to.
3. The demo's order document as it is, ``include/demo/reflecta.json``: demo-fashion over SFTP
   (5001 with backoffice number WEB5001, 5002, and the bad-data order 5003) and demo-shoes over
   FTPS (801), whose Airflow connection ``demo_reflecta_ftps`` points at a closed port: an ERP
   outage. The ERP connections live in the metadata database (created through the REST API), as
   an operator would keep them.
4. ``dag.test(use_executor=True)`` of ``send_orders_to_backoffice`` (``chunk_size`` 2,
   ``BACKOFFICE_TASK_RETRIES=0``): the LocalExecutor runs each task in its own supervised
   process, which writes the task log files the UI shows (plain ``dag.test()`` runs tasks in
   this process and leaves no log files). demo-shoes' chunk fails; every other chunk goes.
5. ``resend_orders`` runs once for demo-fashion's WEB5001 (by backoffice number) and 5002 (by
   App4Sales number), as for an ERP that lost them. 801 stays waiting for a retry, next to the
   bad-data order 5003, which failed for good.
6. Headless Chromium (Playwright) takes 1400x900 screenshots of the UI pages the runbook names.

Every UI step waits for an explicit selector or text and fails with a message naming what it
waited for, on which URL, and where a screenshot of the page at that moment went
(``<out>/_failed-<name>.png``), so a changed Airflow UI is reported, not silently mis-shot.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
AIRFLOW = Path(sys.executable).with_name("airflow")
CHROMIUM = Path(os.environ.get("BACKOFFICE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1400, "height": 900}
EXPORT_DAG = "send_orders_to_backoffice"
RESEND_DAG = "resend_orders"
SANDBOX_USER = "app4sales"
CHUNK_SIZE = 2
OUTAGE = {"code": "demo-shoes", "connection_id": "demo_reflecta_ftps"}  # the demo administration whose ERP is down
RESEND = {"administration": "demo-fashion", "order_numbers": ["WEB5001", "5002"]}
UI_TIMEOUT_MS = 30_000
# 10:00 to 11:45 on the day of the demo orders: eight 15-minute windows, [10:00, 12:00).
BACKFILL_WINDOW = (("2026/11/20", "10:00"), ("2026/11/20", "11:45"))


class ScreenshotError(RuntimeError):
    """A step of the script could not be done; the message says which and why."""


def say(message: str) -> None:
    print(f"[screenshots] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def quoted(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


def rest(base: str, method: str, path: str, body: Any = None, timeout: float = 20) -> tuple[int, Any]:
    """(status, JSON body) of a REST call; SIMPLE_AUTH_MANAGER_ALL_ADMINS makes every call an admin's."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 (http on loopback only)
        f"{base}{path}", data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")


def call(base: str, method: str, path: str, body: Any = None) -> Any:
    status, answer = rest(base, method, path, body)
    if status >= 300:
        raise ScreenshotError(f"{method} {path} answered {status}: {answer}")
    return answer


# ----------------------------------------------------------------------------- the environment


@dataclass
class Setup:
    root: Path
    port: int = field(default_factory=free_port)

    @property
    def home(self) -> Path:
        return self.root / "airflow"

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def orders_db(self) -> Path:
        return self.root / "orders.db"

    def environment(self) -> dict[str, str]:
        """What this process and the api-server share; nothing AIRFLOW_* or BACKOFFICE_* inherited."""
        from cryptography.fernet import Fernet

        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "_AIRFLOW", "BACKOFFICE_"))}
        env.update({
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{self.home / 'airflow.db'}",
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            # One task at a time: both databases are SQLite files.
            "AIRFLOW__CORE__PARALLELISM": "1",
            "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
            "AIRFLOW__CORE__AUTH_MANAGER":
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__API__BASE_URL": self.base,
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base}/execution/",
            "AIRFLOW_CONN_APP4SALES_DB": json.dumps({"conn_type": "sqlite", "host": str(self.orders_db)}),
            "BACKOFFICE_LOCAL_ROOT": str(self.root / "local"),
            "BACKOFFICE_TASK_RETRIES": "0",
        })
        return env


class ApiServer:
    """``airflow api-server`` as a subprocess in its own session, stopped by its process group."""

    def __init__(self, setup: Setup, env: dict[str, str]) -> None:
        self.setup = setup
        self.env = env
        self.log = setup.root / "api-server.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90) -> None:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(  # noqa: S603 (the venv's own airflow command)
                [str(AIRFLOW), "api-server", "--host", "127.0.0.1", "--port", str(self.setup.port),
                 "--workers", "1"],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise ScreenshotError(f"airflow api-server exited ({self.process.returncode}):\n{tail(self.log)}")
            try:
                if self.request("GET", "/api/v2/monitor/health", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise ScreenshotError(f"airflow api-server did not answer within {timeout:.0f} s:\n{tail(self.log)}")
            time.sleep(0.3)

    def request(self, method: str, path: str, body: Any = None, timeout: float = 20) -> tuple[int, Any]:
        return rest(self.setup.base, method, path, body, timeout)

    def call(self, method: str, path: str, body: Any = None) -> Any:
        return call(self.setup.base, method, path, body)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def rest_connection(connection_id: str, conn: dict[str, Any]) -> dict[str, Any]:
    """A sandbox connection dict (``Sandboxes.airflow_connection``) as the REST API's connection body."""
    return {"connection_id": connection_id, "conn_type": conn["conn_type"], "host": conn["host"],
            "port": conn["port"], "login": conn["login"], "password": conn.get("password"),
            "schema": conn["schema"], "extra": json.dumps(conn.get("extra", {}))}


@dataclass
class Runs:
    export_run: str
    resend_run: str
    labels: dict[int, str]  # reflecta.send_chunk map index -> its label (map_index_template)
    failed_chunks: list[int]


def latest_run(base: str, dag_id: str) -> str:
    runs = call(base, "GET", f"/api/v2/dags/{dag_id}/dagRuns?order_by=-run_after&limit=1")["dag_runs"]
    if not runs:
        raise ScreenshotError(f"{dag_id} has no run on {base}")
    return runs[0]["dag_run_id"]


def runs_from_api(base: str) -> Runs:
    """What the screenshots show, read back from the API server: the latest run of each DAG."""
    export_run = latest_run(base, EXPORT_DAG)
    mapped = call(base, "GET", f"/api/v2/dags/{EXPORT_DAG}/dagRuns/{quoted(export_run)}/taskInstances/"
                               "reflecta.send_chunk/listMapped?limit=100")["task_instances"]
    return Runs(
        export_run=export_run,
        resend_run=latest_run(base, RESEND_DAG),
        labels={t["map_index"]: t.get("rendered_map_index") or "" for t in mapped},
        failed_chunks=sorted(t["map_index"] for t in mapped if t["state"] == "failed"),
    )


def run_dag(dag_id: str, **kwargs: Any) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(str(PROJECT / "dags"))
    if bag.import_errors:
        raise ScreenshotError(f"DAG import errors: {bag.import_errors}")
    return bag.get_dag(dag_id).test(use_executor=True, **kwargs)


def prepare(setup: Setup, server: ApiServer, sandboxes: Any) -> Runs:
    """Load the demo orders, run the export (with the outage), resend two orders."""
    from backoffice_export.db.engine import create_schema, engine_for_connection
    from backoffice_export.document import load_document, read_document

    document = read_document(PROJECT / "include" / "demo" / "reflecta.json")
    connections = {
        "demo_reflecta_sftp": sandboxes.airflow_connection("sftp", SANDBOX_USER, "demofashion"),
        OUTAGE["connection_id"]: {**sandboxes.airflow_connection("ftps", SANDBOX_USER, "demoshoes"),
                                  "port": free_port()},  # nothing listens there: the ERP is down
    }
    for conn_id, conn in connections.items():
        server.call("POST", "/api/v2/connections", rest_connection(conn_id, conn))

    engine = engine_for_connection("app4sales_db")
    create_schema(engine)
    counts = load_document(engine, document)
    say(f"loaded {counts['orders']} orders in {counts['administrations']} administrations")

    say(f"running {EXPORT_DAG} (chunk_size {CHUNK_SIZE}) with the LocalExecutor ...")
    run = run_dag(EXPORT_DAG, run_conf={"chunk_size": CHUNK_SIZE, "reexport_sent": False})
    failed = sorted((ti.map_index, ti.rendered_map_index) for ti in run.get_task_instances()
                    if ti.task_id == "reflecta.send_chunk" and ti.state == "failed")
    say(f"export run {run.run_id}: {run.state}; failed chunks {failed}")
    if [label.split(":")[0] for _, label in failed] != [OUTAGE["code"]]:
        raise ScreenshotError(f"expected {OUTAGE['code']}'s chunk (and only that) to fail, got {failed}")

    say(f"running {RESEND_DAG} for {RESEND} ...")
    run = run_dag(RESEND_DAG, run_conf=RESEND)
    say(f"resend run {run.run_id}: {run.state}")
    if str(run.state) != "success":
        raise ScreenshotError(f"the resend run ended {run.state}, expected success")
    return runs_from_api(setup.base)


# ----------------------------------------------------------------------------- the screenshots


class Ui:
    """One Chromium page per screenshot (fresh local storage: no view mode carried over)."""

    def __init__(self, browser: Any, base: str, out: Path) -> None:
        self.browser = browser
        self.base = base
        self.out = out
        self.taken: list[tuple[str, str]] = []
        self.page: Any = None
        self.name = ""

    @contextmanager
    def shot(self, name: str, what: str) -> Iterator[Ui]:
        """Open a fresh page; on leaving, screenshot it to ``<out>/<name>.png``."""
        context = self.browser.new_context(viewport=VIEWPORT, timezone_id="UTC", locale="en-GB")
        self.page = context.new_page()
        self.page.set_default_timeout(UI_TIMEOUT_MS)
        self.name = name
        try:
            yield self
            self.page.wait_for_timeout(600)  # let transitions and late fetches settle
            path = self.out / f"{name}.png"
            self.page.screenshot(path=str(path))
            self.taken.append((path.name, what))
            say(f"took {path.name}: {what}")
        finally:
            context.close()

    def fail(self, message: str) -> ScreenshotError:
        failed = self.out / f"_failed-{self.name}.png"
        try:
            self.page.screenshot(path=str(failed))
            where = f"; the page as it was: {failed}"
        except Exception:  # the report matters more than the picture
            where = ""
        return ScreenshotError(f"{self.name}: {message} (on {self.page.url}){where}")

    def goto(self, path: str, ready: str, what: str) -> None:
        self.page.goto(self.base + path)
        self.wait(ready, what)

    def wait(self, selector: str, what: str, *, timeout: int = UI_TIMEOUT_MS) -> Any:
        """The first visible match of ``selector``; a clear error naming ``what`` when it does not come."""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        locator = self.page.locator(selector).first
        try:
            locator.wait_for(state="visible", timeout=timeout)
        except PlaywrightTimeout:
            raise self.fail(f"waited {timeout / 1000:.0f} s for {what} (selector {selector!r})") from None
        return locator

    def click(self, selector: str, what: str) -> None:
        self.wait(selector, what).click()

    def text(self, text: str, what: str) -> Any:
        return self.wait(f"text={text}", what)

    def dialog(self) -> str:
        return "[role=dialog][data-state=open]"


def wrap_log_lines(ui: Ui) -> None:
    """Log Settings -> Wrap, so a long line is read whole in the screenshot."""
    ui.click('[aria-label="Log Settings"]', "the log settings button")
    ui.click('[data-testid="log-settings-wrap"]', "the Wrap item of the log settings")
    ui.page.keyboard.press("Escape")


def take_screenshots(base: str, out: Path, runs: Runs) -> list[tuple[str, str]]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("_failed-*.png"):
        stale.unlink()
    export_run = f"/dags/{EXPORT_DAG}/runs/{quoted(runs.export_run)}"
    chunk = f"{export_run}/tasks/reflecta.send_chunk"
    bad_data = [i for i, label in runs.labels.items() if label.startswith("demo-fashion: 1 ")]
    if not runs.failed_chunks or not bad_data:
        raise ScreenshotError(f"the export run {runs.export_run} is not the one this script makes: reflecta chunks "
                              f"{runs.labels}, failed {runs.failed_chunks}")
    outage_chunk, bad_data_chunk = runs.failed_chunks[0], bad_data[0]
    outage_label = runs.labels[outage_chunk]
    resend_task = f"/dags/{RESEND_DAG}/runs/{quoted(runs.resend_run)}/tasks/resend"

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        ui = Ui(browser, base, out)
        try:
            with ui.shot("dag-overview", "the export DAG: schedule, pause toggle, failed tasks, recent failed logs"):
                ui.goto(f"/dags/{EXPORT_DAG}", "text=Recent Failed Task Logs", "the DAG overview")
                ui.text("Failed Tasks", "the Failed Tasks counter")

            with ui.shot("trigger-export", "Trigger -> Single Run of the export DAG with its Params"):
                ui.goto(f"/dags/{EXPORT_DAG}", '[aria-label="Trigger Dag"]', "the Trigger button")
                ui.click('[aria-label="Trigger Dag"]', "the Trigger button")
                ui.wait(f'{ui.dialog()} input[name="element_chunk_size"]', "the chunk_size field of the trigger form")
                ui.text("reexport_sent", "the reexport_sent Param")

            with ui.shot("graph-failed-chunk", "graph of the export run: reflecta.send_chunk [3], one failed"):
                ui.goto(export_run, '[aria-label="Show Graph (Press g)"]', "the graph view button")
                ui.click('[aria-label="Show Graph (Press g)"]', "the graph view button")
                group = ui.wait('.react-flow__node:has-text("reflecta"):has-text("Task Group")', "the reflecta group")
                group.locator("text=/\\+ \\d+ Tasks/").first.click()  # open that group only
                node = ui.wait('.react-flow__node:has-text("send_chunk [3]")', "the mapped reflecta.send_chunk node")
                node.hover()  # its tooltip counts the failed and successful instances
                ui.text("1 Failed", "the node's tooltip")

            with ui.shot("grid-failed-chunk", "grid with the task groups open and the run's task instances"):
                ui.goto(export_run, '[aria-label="Expand all task groups"]', "the expand-all button of the grid")
                ui.click('[aria-label="Expand all task groups"]', "the expand-all button of the grid")
                ui.text(outage_label, "the failed chunk's label in the task instance list")

            with ui.shot("mapped-instances", "the mapped instances of reflecta.send_chunk with their labels"):
                ui.goto(f"{chunk}/mapped", f"text={outage_label}", "the failed chunk's label")
                ui.text("Total Failed", "the Total Failed counter")

            with ui.shot("failed-chunk-log", "the log of a failed chunk (ERP down)"):
                ui.goto(f"{chunk}/mapped/{outage_chunk}", "text=cannot connect", "the order line naming the error")
                wrap_log_lines(ui)
                ui.click("text=ChunkIncomplete:", "the exception line (folds its traceback)")
                open_log_group(ui, "Post Execute")
                ui.text("[backoffice-export]", "the failure alert's log line")
                log_line(ui, "waiting for a retry", "the chunk's counts line")

            with ui.shot("clear-mapped-instance", "the Clear dialog of that mapped instance"):
                ui.goto(f"{chunk}/mapped/{outage_chunk}", '[aria-label="Press shift+c to clear"]', "the Clear button")
                ui.click('[aria-label="Press shift+c to clear"]', "the Clear button")
                ui.wait(f"{ui.dialog()} >> text=Affected Tasks", "the Clear dialog's affected tasks")
                ui.wait(f"{ui.dialog()} table >> text=reflecta.send_chunk", "the chunk in the affected tasks")

            with ui.shot("bad-data-chunk-log", "the log of a chunk with a bad-data order: the task succeeded"):
                ui.goto(f"{chunk}/mapped/{bad_data_chunk}", "text=Item.ExtraData", "the bad order's error line")
                wrap_log_lines(ui)
                log_line(ui, "sent 0, failed 1", "the chunk's counts line")

            with ui.shot("summary-log", "the summary task's log, source task.stdout: counts per connector"):
                # The outage left orders waiting for a retry, so the summary fails (the run shows red).
                ui.goto(f"{export_run}/tasks/summary", "text=wait for a retry", "the summary's closing line")
                only_source(ui, "task.stdout")
                ui.text("reflecta: planned", "the summary's reflecta line")
                ui.text("accountview: planned", "the summary's last line")

            with ui.shot("trigger-backfill", "Trigger -> Backfill with a date range and reexport_sent"):
                ui.goto(f"/dags/{EXPORT_DAG}", '[aria-label="Trigger Dag"]', "the Trigger button")
                ui.click('[aria-label="Trigger Dag"]', "the Trigger button")
                ui.click(f'{ui.dialog()} label:has-text("Backfill")', "the Backfill choice")
                fill_backfill_dates(ui, *BACKFILL_WINDOW)
                ui.wait(f"{ui.dialog()} >> text=/\\d+ runs? will be triggered/", "the number of runs of the window")
                box = ui.wait(f'{ui.dialog()} input[name="element_reexport_sent"]', "the reexport_sent switch")
                box.evaluate("e => e.closest('label') ? e.closest('label').click() : e.click()")
                ui.wait(f'{ui.dialog()} input[name="element_reexport_sent"]:checked', "reexport_sent switched on")
                # Airflow 3.3's form sends the Run Parameters only with this box ticked (else dag_run_conf null).
                ui.click(f'{ui.dialog()} label:has-text("Override parameters on existing runs")', "the override box")
                ui.wait(f'{ui.dialog()} label:has-text("Override parameters on existing runs") input:checked',
                        "the override box ticked")
                ui.wait(f'{ui.dialog()} >> text=Date Range', "the Date Range heading").scroll_into_view_if_needed()
                ui.page.locator(f'{ui.dialog()} >> text=Date Range').first.evaluate(
                    "e => e.scrollIntoView({block: 'start'})")

            with ui.shot("resend-trigger-form", "resend_orders' trigger form with its Params filled in"):
                ui.goto(f"/dags/{RESEND_DAG}", '[aria-label="Trigger Dag"]', "the Trigger button")
                ui.click('[aria-label="Trigger Dag"]', "the Trigger button")
                ui.wait(f'{ui.dialog()} input[name="element_administration"]', "the administration field").fill(
                    RESEND["administration"])
                ui.wait(f'{ui.dialog()} textarea[name="element_order_numbers"]', "the order_numbers field").fill(
                    "\n".join(RESEND["order_numbers"]))
                ui.page.locator(f"{ui.dialog()} h2").first.click()  # leave the field: the form validates
                ui.wait(f'{ui.dialog()} button:has-text("Trigger"):not([disabled])', "an enabled Trigger button")

            with ui.shot("resend-log", "the resend task's log, source task.stdout: one line per order number"):
                ui.goto(resend_task, "text=Done. Returned value", "the resend task's return value")
                only_source(ui, "task.stdout")
                for number in RESEND["order_numbers"]:
                    ui.text(f"{number}: sent as", f"the result line of {number}")

            with ui.shot("ledger-all", "the export ledger: sent, waiting for a retry, failed for good"):
                ui.goto("/plugin/backoffice-ledger", 'iframe[title="Exports"]', "the ledger's iframe")
                frame = ui.page.frame_locator('iframe[title="Exports"]')
                try:
                    frame.locator('tr[data-order-id] >> text=waiting').first.wait_for(timeout=UI_TIMEOUT_MS)
                    frame.locator('tr[data-order-id] >> text=failed').first.wait_for(timeout=UI_TIMEOUT_MS)
                except Exception as error:
                    raise ui.fail(f"the ledger does not show a waiting and a failed order: {error}") from None

            with ui.shot("ledger-failed", "the export ledger filtered to failed orders"):
                ui.goto("/plugin/backoffice-ledger", 'iframe[title="Exports"]', "the ledger's iframe")
                frame = ui.page.frame_locator('iframe[title="Exports"]')
                try:
                    frame.locator("select#filter-state").select_option("failed", timeout=UI_TIMEOUT_MS)
                    frame.locator('#filters button[type="submit"]').click(timeout=UI_TIMEOUT_MS)
                    frame.locator('tr[data-order-id] >> text=failed').first.wait_for(timeout=UI_TIMEOUT_MS)
                    frame.locator("text=Item.ExtraData").first.wait_for(timeout=UI_TIMEOUT_MS)
                except Exception as error:
                    raise ui.fail(f"could not filter the ledger to failed orders: {error}") from None
        finally:
            browser.close()
    return ui.taken


def open_log_group(ui: Ui, name: str) -> None:
    """Unfold a collapsed group of the log (``::group::`` lines, e.g. Pre Execute / Post Execute).

    What a task print()s reaches the log through a buffered pipe, stamped when it arrives: such
    lines often land after "Done. Returned value ..." and inside the folded "Post Execute" group.
    """
    summary = ui.wait(f'[data-testid="summary-{name}"]', f"the {name} group of the log")
    if summary.inner_text().lstrip().startswith("▶"):  # ▼ when it is open already
        summary.click()


def only_source(ui: Ui, source: str) -> None:
    """The log's source filter: e.g. ``task.stdout``, what the task print()ed, without Airflow's lines."""
    ui.click('button:has-text("All Sources")', "the log's source filter")
    ui.click(f'[role=option][data-value="{source}"]', f"the {source} source")
    ui.page.keyboard.press("Escape")


def log_line(ui: Ui, text: str, what: str) -> None:
    """A line of the task log, looked for in Post Execute too when it is not in sight."""
    if not ui.page.locator(f"text={text}").first.is_visible():
        open_log_group(ui, "Post Execute")
    ui.text(text, what)


def fill_backfill_dates(ui: Ui, start: tuple[str, str], end: tuple[str, str]) -> None:
    """The backfill form's From / To pickers: a popover each, with a date and a time field."""
    pickers = ui.page.locator(f'{ui.dialog()} [data-testid="datetime-input"]')
    ui.wait(f'{ui.dialog()} [data-testid="datetime-input"]', "the From date picker")
    if pickers.count() < 2:
        raise ui.fail(f"expected From and To date pickers in the backfill form, found {pickers.count()}")
    for index, (day, clock) in enumerate((start, end)):
        pickers.nth(index).click()
        popover = '[role=dialog][data-state=open][data-placement]'
        ui.wait(f'{popover} input[placeholder="YYYY/MM/DD"]', "the date field of the picker").fill(day)
        ui.wait(f'{popover} input[placeholder="HH:mm"]', "the time field of the picker").fill(clock)
        ui.page.locator(f"{ui.dialog()} h2").first.click()  # close the popover, not the dialog
        ui.page.wait_for_timeout(300)


@contextmanager
def environment(setup: Setup) -> Iterator[ApiServer]:
    env = setup.environment()
    os.environ.clear()
    os.environ.update(env)
    setup.home.mkdir(parents=True)
    say(f"temp folder {setup.root}; airflow db migrate ...")
    result = subprocess.run([str(AIRFLOW), "db", "migrate"],  # noqa: S603 (the venv's own airflow command)
                            env=env, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise ScreenshotError(f"airflow db migrate failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    server = ApiServer(setup, env)
    try:
        say(f"starting airflow api-server on {setup.base} ...")
        server.start()
        yield server
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=PROJECT / "docs" / "screenshots", help="where the PNGs go")
    parser.add_argument("--serve", action="store_true", help="after the screenshots, keep the UI up until Ctrl-C")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (logs, databases)")
    parser.add_argument("--ui", metavar="URL", help="only take the screenshots, of a UI that --serve keeps up")
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        raise SystemExit(f"Chromium not found at {CHROMIUM} (apt-get install chromium, or set BACKOFFICE_CHROMIUM)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        raise SystemExit("Playwright is not installed: .venv/bin/pip install playwright") from None
    if args.ui:
        try:
            report(take_screenshots(args.ui.rstrip("/"), args.out, runs_from_api(args.ui.rstrip("/"))))
        except ScreenshotError as error:
            say(f"FAILED: {error}")
            return 1
        return 0
    if not AIRFLOW.exists():
        raise SystemExit(f"the airflow command is not next to {sys.executable}")

    # A plain kill (SIGTERM) unwinds like Ctrl-C does, so the api-server is stopped and the temp folder removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    setup = Setup(Path(tempfile.mkdtemp(prefix="backoffice-screenshots-")))
    try:
        with environment(setup) as server:
            from erp_sandbox import Sandboxes

            with Sandboxes(setup.root / "sandbox", SANDBOX_USER) as sandboxes:
                runs = prepare(setup, server, sandboxes)
            report(take_screenshots(setup.base, args.out, runs))
            if args.serve:
                say(f"the UI stays up at {setup.base} (take the shots again with --ui {setup.base}); Ctrl-C ends it")
                try:
                    while True:
                        time.sleep(3600)
                except KeyboardInterrupt:
                    pass
    except ScreenshotError as error:
        say(f"FAILED: {error}")
        return 1
    finally:
        if args.keep:
            say(f"kept {setup.root}")
        else:
            shutil.rmtree(setup.root, ignore_errors=True)
    return 0


def report(taken: list[tuple[str, str]]) -> None:
    say(f"{len(taken)} screenshots:")
    for name, what in taken:
        say(f"  {name}: {what}")


if __name__ == "__main__":
    sys.exit(main())
