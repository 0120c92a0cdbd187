"""A real deployment: api-server, scheduler, dag-processor and a Celery worker, driven over REST.

The Airflow components run as separate processes from the venv, on the local PostgreSQL
(metadata database, Celery result backend and the App4Sales order database, each a fresh
database) and Redis (the Celery broker, a database of its own). The SFTP sandbox runs inside
this test process and the components reach it through ``AIRFLOW_CONN_<ID>`` variables, exactly as
a deployment reaches its ERPs. The test then does what an operator does: unpause and trigger
the DAG through the REST API v2, wait for the run, and clear a finished chunk task through the
API, checking that the re-run sends nothing a second time.

Run it alone with ``pytest -m deployment``; it needs PostgreSQL, Redis and the ``airflow`` binary
(skipped without them, failed under ``CI=true``). It takes about a minute.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import PG_URL, PROJECT, need
from tests.deploy.airflow_processes import (
    AIRFLOW_BIN,
    AirflowProcesses,
    Deadline,
    DeploymentError,
    RestApi,
    free_port,
    tail,
)
from tests.helpers import order, reflecta_admin

pytestmark = [pytest.mark.deployment, pytest.mark.timeout(480)]

DAG_ID = "send_orders_to_backoffice"
SEND_CHUNK = "reflecta.send_chunk"
MODULE_BUDGET_SECONDS = 390.0
REDIS_URL = os.environ.get("BACKOFFICE_TEST_REDIS_URL", "redis://127.0.0.1:6379")
# A Redis database the test claims for itself (the first empty one from the top), flushed afterwards.
REDIS_DB_CANDIDATES = range(15, 7, -1)
REDIS_CLAIM_KEY = "backoffice-export:deployment-test"
ADMIN_USER = "admin"
SANDBOX_USER = "app4sales"
TERMINAL = {"success", "failed", "skipped", "upstream_failed", "removed"}


# ---------------------------------------------------------------------------- services


def _pg_admin() -> sa.Engine:
    return sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")


def _pg_reachable() -> bool:
    try:
        engine = _pg_admin()
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


def _claim_redis_db() -> tuple[Any, int] | None:
    """The first empty Redis database of the candidates, claimed with a key so parallel runs differ."""
    import redis

    token = secrets.token_hex(8)
    for number in REDIS_DB_CANDIDATES:
        client = redis.Redis.from_url(REDIS_URL, db=number, socket_connect_timeout=3)
        if client.set(REDIS_CLAIM_KEY, token, nx=True, ex=3600):
            if client.dbsize() == 1:
                return client, number
            client.delete(REDIS_CLAIM_KEY)
        client.close()
    return None


def _redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping())
    except Exception:
        return False


def _airflow_usable() -> bool:
    if not AIRFLOW_BIN.exists():
        return False
    try:
        import airflow.providers.celery  # noqa: F401
    except ImportError:
        return False
    return True


def _celery_executor_importable() -> None:
    """Installed is not enough: the provider must import with the installed Celery (fail, never skip)."""
    from importlib.metadata import version

    try:
        import airflow.providers.celery.executors.celery_executor_utils  # noqa: F401
    except ImportError as exc:
        hint = ""
        if "celery.backends.database" in str(exc):
            hint = (" The Celery provider imports celery.backends.database.retry, which Celery 5.7 removed: pin "
                    "celery and kombu to 5.6.2 in constraints.txt.")
        pytest.fail(
            f"CeleryExecutor cannot load, so the scheduler and `airflow celery worker` would die at start-up: {exc}. "
            f"Installed: celery {version('celery')}, kombu {version('kombu')}, apache-airflow-providers-celery "
            f"{version('apache-airflow-providers-celery')}.{hint}"
        )


def _database_url(name: str, drivername: str) -> str:
    return sa.make_url(PG_URL).set(drivername=drivername, database=name).render_as_string(hide_password=False)


# ---------------------------------------------------------------------------- fixtures


@dataclass
class Deployment:
    api: RestApi
    processes: AirflowProcesses
    deadline: Deadline
    orders_db: sa.Engine
    home: Path
    connections: dict[str, str]  # connection id -> sandbox folder
    timings: dict[str, float] = field(default_factory=dict)

    def failure_details(self, run_id: str | None = None) -> str:
        """Task instance states and the tails of the task logs, for assertion messages."""
        parts = []
        if run_id is not None:
            try:
                tis = self.api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances", params={"limit": 100})
                states = sorted((t["task_id"], t["map_index"], t["state"], t["try_number"])
                                for t in tis["task_instances"])
                parts.append("task instances (task, map index, state, try): " + repr(states))
            except Exception as exc:  # the message must not hide the real failure
                parts.append(f"(could not list task instances: {exc!r})")
        for log in sorted((self.home / "logs").glob("dag_id=*/**/*.log"))[-8:]:
            parts.append(f"--- task log {log.relative_to(self.home / 'logs')} ---\n{tail(log, 25)}")
        return "\n".join(parts)


@pytest.fixture(scope="module")
def deployment(sandboxes) -> Iterator[Deployment]:
    need(_airflow_usable(), f"the airflow binary with the Celery provider is not installed ({AIRFLOW_BIN})")
    need(_pg_reachable(), f"PostgreSQL is not reachable at {PG_URL}")
    need(_redis_reachable(), f"Redis is not reachable at {REDIS_URL}")
    _celery_executor_importable()
    deadline = Deadline(MODULE_BUDGET_SECONDS)
    timings: dict[str, float] = {}

    root = Path(tempfile.mkdtemp(prefix="backoffice-deploy-"))
    home = root / "airflow"
    home.mkdir()
    suffix = uuid.uuid4().hex[:10]
    meta_db, orders_db_name = f"backoffice_deploy_airflow_{suffix}", f"backoffice_deploy_orders_{suffix}"
    admin = _pg_admin()
    created: list[str] = []
    redis_claim = None
    processes: AirflowProcesses | None = None
    api: RestApi | None = None
    orders_db: sa.Engine | None = None
    try:
        with admin.connect() as conn:
            for name in (meta_db, orders_db_name):
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
                created.append(name)
        redis_claim = _claim_redis_db()
        need(redis_claim is not None, f"no empty Redis database among {list(REDIS_DB_CANDIDATES)} at {REDIS_URL}")
        redis_db = redis_claim[1]

        from backoffice_export.db.engine import create_engine, create_schema

        orders_url = sa.make_url(PG_URL).set(database=orders_db_name)
        orders_db = create_engine(orders_url)
        create_schema(orders_db)

        api_port = free_port()
        password = secrets.token_urlsafe(16)
        passwords_file = home / "simple_auth_manager_passwords.json"
        passwords_file.write_text(json.dumps({ADMIN_USER: password}))
        connections = {"deploy_sftp": f"deploy{suffix}pw", "deploy_sftp_key": f"deploy{suffix}key"}
        env = _deployment_env(home, root / "local", meta_db, orders_url, redis_db, api_port, passwords_file)
        env["AIRFLOW_CONN_DEPLOY_SFTP"] = json.dumps(
            sandboxes.airflow_connection("sftp", SANDBOX_USER, connections["deploy_sftp"]))
        env["AIRFLOW_CONN_DEPLOY_SFTP_KEY"] = json.dumps(
            sandboxes.airflow_connection("sftp_key", SANDBOX_USER, connections["deploy_sftp_key"]))
        # An ERP that is down: nothing listens on this port.
        env["AIRFLOW_CONN_DEPLOY_DOWN"] = json.dumps(
            {**sandboxes.airflow_connection("sftp", SANDBOX_USER, "down"), "host": "127.0.0.1", "port": free_port()})

        processes = AirflowProcesses(env, root / "process-logs")
        processes.run("db-migrate", "db", "migrate", timeout=deadline.remaining(120))
        timings["db migrate"] = deadline.elapsed
        processes.start("api-server", "api-server", "--host", "127.0.0.1", "--port", str(api_port), "--workers", "1")
        processes.start("scheduler", "scheduler")
        processes.start("dag-processor", "dag-processor")
        processes.start("celery-worker", "celery", "worker", "--concurrency", "2")

        api = RestApi(f"http://127.0.0.1:{api_port}", ADMIN_USER, password)
        deployment = Deployment(api, processes, deadline, orders_db, home, connections, timings)
        _wait_until_ready(deployment)
        timings["ready"] = deadline.elapsed
        yield deployment
    finally:
        errors = []
        if processes is not None:
            leftovers = processes.stop()
            if leftovers:
                print(f"deployment teardown had to kill: {leftovers}")
        if api is not None:
            api.close()
        if orders_db is not None:
            orders_db.dispose()
        if redis_claim is not None:
            try:
                redis_claim[0].flushdb()
                redis_claim[0].close()
            except Exception as exc:
                errors.append(f"flushing Redis db {redis_claim[1]}: {exc!r}")
        with admin.connect() as conn:
            for name in created:
                try:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                except Exception as exc:
                    errors.append(f"dropping {name}: {exc!r}")
        admin.dispose()
        if timings:
            print("deployment timings (s since start): " + ", ".join(f"{k} {v:.1f}" for k, v in timings.items()))
        if errors:
            print("deployment teardown problems: " + "; ".join(errors))
        shutil.rmtree(root, ignore_errors=True)


def _deployment_env(home: Path, local_root: Path, meta_db: str, orders_url: sa.URL, redis_db: int,
                    api_port: int, passwords_file: Path) -> dict[str, str]:
    """What every component gets: the settings of docs/deployment.md, with test-sized timings."""
    from cryptography.fernet import Fernet

    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("AIRFLOW", "_AIRFLOW", "BACKOFFICE_", "PYTEST_"))}
    api_url = f"http://127.0.0.1:{api_port}"
    return {
        **base,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": _database_url(meta_db, "postgresql+psycopg2"),
        "AIRFLOW__CELERY__BROKER_URL": f"{REDIS_URL.rstrip('/')}/{redis_db}",
        "AIRFLOW__CELERY__RESULT_BACKEND": _database_url(meta_db, "db+postgresql"),
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW__API__BASE_URL": api_url,
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api_url}/execution/",
        "AIRFLOW__CORE__AUTH_MANAGER":
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file),
        # The worker serves its task logs on this port (default 8793: may be taken on a shared machine).
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        # Test-sized timings.
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_SEC": "2",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "30",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        # Only the runs the test triggers: no scheduled run may race them for the orders.
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        # The project's settings.
        "AIRFLOW_CONN_APP4SALES_DB": json.dumps({
            "conn_type": "postgres", "host": orders_url.host, "port": orders_url.port or 5432,
            "login": orders_url.username, "password": orders_url.password, "schema": orders_url.database,
        }),
        "BACKOFFICE_LOCAL_ROOT": str(local_root),
        # One retry, 30 s after the first try: long enough to look at a chunk waiting for it.
        "BACKOFFICE_TASK_RETRIES": "1",
    }


def _wait_until_ready(deployment: Deployment) -> None:
    api, processes, deadline = deployment.api, deployment.processes, deployment.deadline

    def health() -> dict | None:
        body = api.client.get("/api/v2/monitor/health").json()
        healthy = (body["metadatabase"]["status"] == "healthy" and body["scheduler"]["status"] == "healthy"
                   and (body.get("dag_processor") or {}).get("status") == "healthy")
        return body if healthy else None

    processes.wait_for("the api-server, the scheduler and the dag-processor to report healthy", health, deadline,
                       cap=120)
    api.login()

    def dag_listed() -> dict | None:
        errors = api.get("/importErrors")["import_errors"]
        if errors:
            raise DeploymentError(f"the DAG folder has import errors: {errors}")
        response = api.request("GET", f"/dags/{DAG_ID}", expect=(200, 404))
        return response.json() if response.status_code == 200 else None

    processes.wait_for(f"the dag-processor to parse {DAG_ID} and the REST API to list it", dag_listed, deadline,
                       cap=90)

    worker_log = processes.log_file("celery-worker")

    def worker_ready() -> bool | None:
        return True if " ready." in worker_log.read_text(errors="replace") else None

    processes.wait_for("the Celery worker to connect to Redis and report ready", worker_ready, deadline, cap=60)


# The order document: two Reflecta administrations over SFTP (password and key login), seven orders,
# one with bad data (an item without Item.ExtraData). With chunk_size 2 that is four mapped chunks.
CHUNK_SIZE = 2
BAD_ORDER = ("deploy-pw", "3")


def _document() -> dict[str, Any]:
    return {"administrations": [
        reflecta_admin("deploy-pw", "deploy_sftp", application_name="DeployShopA", orders=[
            order("1", order_nr="PW1"),
            order("2", customer="C2", order_nr="PW2", items=("TS-M", "CAP")),
            order("3", order_nr="PW3", items=("TS-M", "NO-EXTRA")),
            order("4", order_nr="PW4", delivery_date="2026-12-01"),
        ]),
        reflecta_admin("deploy-key", "deploy_sftp_key", application_name="DeployShopB", orders=[
            order("1", order_nr="KEY1"), order("2", order_nr="KEY2"), order("3", order_nr="KEY3", items=("CAP",)),
        ]),
    ]}


EXPECTED_FILES = {
    "deploy_sftp": ["PW1.xml", "PW2.xml", "PW4.xml"],
    "deploy_sftp_key": ["KEY1.xml", "KEY2.xml", "KEY3.xml"],
}


@dataclass
class FinishedRun:
    run_id: str
    state: str
    task_instances: list[dict[str, Any]]
    files: dict[str, bytes]
    uploads: int
    seconds: float


def _wait_for_run(deployment: Deployment, run_id: str, what: str, *, cap: float) -> dict[str, Any]:
    def finished() -> dict | None:
        run = deployment.api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}")
        return run if run["state"] in {"success", "failed"} else None

    return deployment.processes.wait_for(what, finished, deployment.deadline, cap=cap,
                                         details=lambda: deployment.failure_details(run_id))


def _task_instances(deployment: Deployment, run_id: str) -> list[dict[str, Any]]:
    body = deployment.api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances", params={"limit": 100})
    assert body["total_entries"] == len(body["task_instances"])
    return body["task_instances"]


def _xcom(deployment: Deployment, run_id: str, task_id: str, map_index: int = -1, key: str = "return_value") -> Any:
    body = deployment.api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}",
                              params={"map_index": map_index})
    value = body["value"]
    return json.loads(value) if isinstance(value, str) else value


def _sandbox_files(sandboxes, deployment: Deployment) -> dict[str, bytes]:
    folders = tuple(f"{folder}/" for folder in deployment.connections.values())
    return {path: content for path, content in sandboxes.received_files("sftp").items() if path.startswith(folders)}


@pytest.fixture(scope="module")
def orders_loaded(deployment: Deployment) -> dict[str, Any]:
    from backoffice_export.document import load_document

    document = _document()
    counts = load_document(deployment.orders_db, document)
    assert counts["orders"] == 7
    return document


@pytest.fixture(scope="module")
def finished_run(deployment: Deployment, orders_loaded, sandboxes) -> FinishedRun:
    """Unpause, trigger through the REST API, wait; what the run left behind, captured at once."""
    api = deployment.api
    assert api.patch(f"/dags/{DAG_ID}", {"is_paused": False})["is_paused"] is False
    uploads_before = sandboxes.sftp.uploads_completed
    started = deployment.deadline.elapsed
    run = api.post(f"/dags/{DAG_ID}/dagRuns",
                   {"logical_date": None, "conf": {"chunk_size": CHUNK_SIZE}, "note": "deployment test"})
    assert run["run_type"] == "manual" and run["conf"] == {"chunk_size": CHUNK_SIZE}
    run_id = run["dag_run_id"]
    done = _wait_for_run(deployment, run_id, f"the triggered run {run_id} to finish", cap=150)
    deployment.timings["run finished"] = deployment.deadline.elapsed
    return FinishedRun(
        run_id=run_id,
        state=done["state"],
        task_instances=_task_instances(deployment, run_id),
        files=_sandbox_files(sandboxes, deployment),
        uploads=sandboxes.sftp.uploads_completed - uploads_before,
        seconds=deployment.deadline.elapsed - started,
    )


def _states(engine: sa.Engine) -> dict[tuple[str, str], dict[str, Any]]:
    from backoffice_export.db import schema as s

    t, o, a = s.export_state, s.orders, s.administrations
    query = (sa.select(a.c.code, o.c.internal_order_nr, t)
             .join(o, o.c.id == t.c.order_id).join(a, a.c.id == t.c.administration_id))
    with engine.connect() as conn:
        return {(row.code, row.internal_order_nr): dict(row._mapping) for row in conn.execute(query)}


# ---------------------------------------------------------------------------- tests


def test_a_run_triggered_through_the_api_delivers_every_good_order_once(
    deployment: Deployment, finished_run: FinishedRun
) -> None:
    run = finished_run
    assert run.state == "success", f"run {run.run_id} ended {run.state}\n{deployment.failure_details(run.run_id)}"

    by_task: dict[str, list[tuple[int, str]]] = {}
    for ti in run.task_instances:
        by_task.setdefault(ti["task_id"], []).append((ti["map_index"], ti["state"]))
    assert by_task["extract"] == [(-1, "success")]
    assert by_task["summary"] == [(-1, "success")]
    assert sorted(by_task[SEND_CHUNK]) == [(i, "success") for i in range(4)], by_task
    for connector in ("ezxml", "spector", "styleman", "accountview"):
        assert by_task[f"{connector}.chunks_for"] == [(-1, "success")]
        assert by_task[f"{connector}.send_chunk"] == [(-1, "skipped")]  # nothing to map over
    send_tis = [ti for ti in run.task_instances if ti["task_id"] == SEND_CHUNK]
    assert all(ti["hostname"] for ti in send_tis), "every chunk ran on a worker"
    assert sorted(ti["rendered_map_index"] for ti in send_tis) == [
        "deploy-key: 1 order from App4Sales order 3 (id 7)", "deploy-key: 2 orders from App4Sales order 1 (id 5)",
        "deploy-pw: 2 orders from App4Sales order 1 (id 1)", "deploy-pw: 2 orders from App4Sales order 3 (id 3)",
    ]

    # What the SFTP sandbox received: one file per good order, nothing half-written.
    assert run.uploads == 6
    for conn_id, names in EXPECTED_FILES.items():
        prefix = f"{deployment.connections[conn_id]}/orders/"
        assert sorted(p[len(prefix):] for p in run.files if p.startswith(prefix)) == names
    assert len(run.files) == 6, sorted(run.files)
    from lxml import etree

    pw2 = etree.fromstring(run.files[f"{deployment.connections['deploy_sftp']}/orders/PW2.xml"])
    assert pw2.findtext("OrderHeader/WebOrderNr") == "PW2"
    assert pw2.findtext("OrderHeader/CurrencyCode") == "GBP"
    assert [e.text for e in pw2.iter("ItemCode")] == ["TS100", "CP200"]

    # The export state in the order database, written by the Celery worker's task processes.
    states = _states(deployment.orders_db)
    assert len(states) == 7
    for key, row in states.items():
        assert row["run_id"] == run.run_id and row["task_id"] == SEND_CHUNK, (key, row)
        if key == BAD_ORDER:
            assert row["state"] == "failed" and row["retryable"] is False
            assert row["error"].startswith("order 3 (deploy-pw)") and "Item.ExtraData" in row["error"]
            assert "NO-EXTRA" in row["error"]
        else:
            assert row["state"] == "sent", (key, row)
            assert row["attempts"] == 1 and row["destination"].endswith(f"/orders/{row['backoffice_order_nr']}.xml")

    totals = _xcom(deployment, run.run_id, "summary")
    assert totals["reflecta"] == {"planned": 7, "sent": 6, "failed": 1}


def test_clearing_a_finished_chunk_through_the_api_sends_nothing_twice(
    deployment: Deployment, finished_run: FinishedRun, sandboxes
) -> None:
    api, run_id = deployment.api, finished_run.run_id
    assert finished_run.state == "success"
    states_before = _states(deployment.orders_db)
    bad_order_id = states_before[BAD_ORDER]["order_id"]
    # The chunk with the bad order: one order sent, one failed for its data. Found from the mapped input.
    chunks = _xcom(deployment, run_id, "reflecta.chunks_for")
    map_index = next(i for i, chunk in enumerate(chunks) if bad_order_id in chunk["ids"])
    before = {ti["map_index"]: ti for ti in finished_run.task_instances if ti["task_id"] == SEND_CHUNK}
    uploads_before, files_before = sandboxes.sftp.uploads_completed, _sandbox_files(sandboxes, deployment)
    assert files_before == finished_run.files

    body = {"dag_run_id": run_id, "task_ids": [[SEND_CHUNK, map_index]], "only_failed": False,
            "include_downstream": False, "include_upstream": False, "reset_dag_runs": True}
    # only_failed defaults to true: without it, clearing a successful task instance selects nothing.
    default_preview = api.post(f"/dags/{DAG_ID}/clearTaskInstances",
                               {k: v for k, v in body.items() if k != "only_failed"} | {"dry_run": True})
    assert default_preview["task_instances"] == []
    preview = api.post(f"/dags/{DAG_ID}/clearTaskInstances", {**body, "dry_run": True})
    assert [(t["task_id"], t["map_index"]) for t in preview["task_instances"]] == [(SEND_CHUNK, map_index)]
    cleared = api.post(f"/dags/{DAG_ID}/clearTaskInstances", {**body, "dry_run": False})
    assert [(t["task_id"], t["map_index"]) for t in cleared["task_instances"]] == [(SEND_CHUNK, map_index)]

    def rerun_done() -> dict | None:
        ti = api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{SEND_CHUNK}/{map_index}")
        return ti if ti["try_number"] > before[map_index]["try_number"] and ti["state"] in TERMINAL else None

    ti = deployment.processes.wait_for(f"the cleared {SEND_CHUNK}[{map_index}] to run again", rerun_done,
                                       deployment.deadline, cap=90, details=lambda: deployment.failure_details(run_id))
    assert ti["state"] == "success", deployment.failure_details(run_id)
    assert ti["hostname"]
    run = _wait_for_run(deployment, run_id, f"run {run_id} to finish again after the clear", cap=60)
    deployment.timings["clear re-ran"] = deployment.deadline.elapsed
    assert run["state"] == "success", deployment.failure_details(run_id)

    # The re-run found its orders sent or failed for good: it claimed none and sent none.
    assert _xcom(deployment, run_id, SEND_CHUNK, map_index) == {"sent": 0, "failed": 0, "skipped": 2,
                                                                "left_for_retry": 0}
    assert sandboxes.sftp.uploads_completed == uploads_before
    assert _sandbox_files(sandboxes, deployment) == files_before
    assert _states(deployment.orders_db) == states_before
    # Only that one mapped instance ran again.
    after = {t["map_index"]: t for t in _task_instances(deployment, run_id) if t["task_id"] == SEND_CHUNK}
    assert {i: t["try_number"] for i, t in after.items()} == {
        i: t["try_number"] + (1 if i == map_index else 0) for i, t in before.items()}


def test_a_backfill_through_the_api_reexports_its_window_once(
    deployment: Deployment, finished_run: FinishedRun, sandboxes
) -> None:
    """``POST /backfills`` (what ``airflow backfill create`` and the UI's Backfill do) over one
    15-minute interval with ``reexport_sent``: the window's sent orders go again and its unsent
    one goes, each once; an order created after the window stays pending; clearing a chunk of
    the backfill run sends nothing a third time."""
    from backoffice_export.document import load_document

    api = deployment.api
    load_document(deployment.orders_db, {"administrations": [
        reflecta_admin("deploy-pw", "deploy_sftp", application_name="DeployShopA", orders=[
            order("5", order_nr="PW5", created_at="2026-11-20T10:05:00"),
            order("6", order_nr="PW6", created_at="2026-11-20T11:30:00"),
        ])]})
    uploads_before = sandboxes.sftp.uploads_completed
    backfill = api.post("/backfills", {
        "dag_id": DAG_ID, "from_date": "2026-11-20T10:00:00Z", "to_date": "2026-11-20T10:10:00Z",
        "run_backwards": False, "dag_run_conf": {"reexport_sent": True, "chunk_size": CHUNK_SIZE},
        "reprocess_behavior": "none", "max_active_runs": 1})

    def backfill_runs_done() -> list | None:
        runs = api.get(f"/dags/{DAG_ID}/dagRuns", params={"run_type": "backfill", "limit": 50})["dag_runs"]
        return runs if runs and all(r["state"] in {"success", "failed"} for r in runs) else None

    runs = deployment.processes.wait_for(f"backfill {backfill['id']} to finish", backfill_runs_done,
                                         deployment.deadline, cap=120, details=deployment.failure_details)
    assert len(runs) == 1, runs
    run = runs[0]
    assert run["state"] == "success", deployment.failure_details(run["dag_run_id"])
    assert (run["data_interval_start"].startswith("2026-11-20T10:00")
            and run["data_interval_end"].startswith("2026-11-20T10:15")), run

    states = _states(deployment.orders_db)
    resent = {k for k, v in states.items() if v["run_id"] == run["dag_run_id"] and v["state"] == "sent"}
    # Six orders of the window were sent before and go again; PW5 is new; PW3 failed for its data.
    assert resent == {("deploy-pw", "1"), ("deploy-pw", "2"), ("deploy-pw", "4"), ("deploy-pw", "5"),
                      ("deploy-key", "1"), ("deploy-key", "2"), ("deploy-key", "3")}
    assert states[("deploy-pw", "6")]["state"] == "pending"
    assert states[BAD_ORDER]["state"] == "failed"
    assert sandboxes.sftp.uploads_completed - uploads_before == 7

    # Clearing a chunk of that backfill run re-runs it as the same run: nothing goes a third time.
    uploads_before = sandboxes.sftp.uploads_completed
    body = {"dag_run_id": run["dag_run_id"], "task_ids": [[SEND_CHUNK, 0]], "only_failed": False,
            "include_downstream": False, "include_upstream": False, "reset_dag_runs": True, "dry_run": False}
    tries_before = api.get(f"/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}/taskInstances/{SEND_CHUNK}/0")["try_number"]
    api.post(f"/dags/{DAG_ID}/clearTaskInstances", body)

    def rerun_done() -> dict | None:
        ti = api.get(f"/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}/taskInstances/{SEND_CHUNK}/0")
        return ti if ti["try_number"] > tries_before and ti["state"] in TERMINAL else None

    ti = deployment.processes.wait_for("the cleared backfill chunk to run again", rerun_done, deployment.deadline,
                                       cap=90, details=lambda: deployment.failure_details(run["dag_run_id"]))
    assert ti["state"] == "success"
    assert _xcom(deployment, run["dag_run_id"], SEND_CHUNK, 0)["sent"] == 0
    assert sandboxes.sftp.uploads_completed == uploads_before


def test_a_chunk_waiting_for_its_retry_shows_its_label_and_the_ledger_shows_it_waiting(
    deployment: Deployment, finished_run: FinishedRun
) -> None:
    """An administration whose ERP is down: while its chunk is ``up_for_retry`` the REST API (what
    the UI's grid reads) already gives the chunk's label, and the ledger lists the order as
    waiting for a retry, not as failed."""
    from backoffice_export.db import schema as s
    from backoffice_export.document import load_document

    api = deployment.api
    load_document(deployment.orders_db, {"administrations": [
        reflecta_admin("deploy-down", "deploy_down", application_name="DeployShopC", orders=[order("D1")])]})
    with deployment.orders_db.connect() as conn:
        order_id = conn.execute(sa.select(s.orders.c.id).where(s.orders.c.internal_order_nr == "D1")).scalar_one()
    assert api.patch(f"/dags/{DAG_ID}", {"is_paused": False})["is_paused"] is False
    run = api.post(f"/dags/{DAG_ID}/dagRuns", {"logical_date": None, "conf": {"chunk_size": CHUNK_SIZE}})
    run_id = run["dag_run_id"]

    def waiting_for_retry() -> dict | None:
        return next((ti for ti in _task_instances(deployment, run_id)
                     if ti["task_id"] == SEND_CHUNK and ti["state"] == "up_for_retry"), None)

    ti = deployment.processes.wait_for("the deploy-down chunk to wait for its retry", waiting_for_retry,
                                       deployment.deadline, cap=90, interval=0.5,
                                       details=lambda: deployment.failure_details(run_id))
    assert ti["try_number"] == 1
    assert ti["rendered_map_index"] == f"deploy-down: 1 order from App4Sales order D1 (id {order_id})"

    response = api.client.get("/backoffice-ledger/api/orders", params={"administration": "deploy-down"})
    assert response.status_code == 200, response.text
    [row] = response.json()["orders"]
    assert (row["internal_order_nr"], row["state"]) == ("D1", "waiting")
    assert row["error"].startswith("order D1 (deploy-down): ")
    assert api.client.get("/backoffice-ledger/api/orders", params={
        "administration": "deploy-down", "state": "failed"}).json()["total"] == 0
