"""Reflecta orders through a real scheduler, with one and then with several chunks at a time.

Airflow runs as a deployment does (``tests/deploy/airflow_processes``): api-server, scheduler
with the LocalExecutor, and dag-processor, each its own process, metadata and order database on
the local PostgreSQL (fresh databases, dropped afterwards). Chunks run in the pool
``erp_reflecta``; the first run gives it one slot, the second as many as asked, each over a
fresh backlog of the same size. The run's wall time is its start to its end as Airflow records
them.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.generate import Target, generate
from tests.deploy.airflow_processes import AirflowProcesses, Deadline, RestApi, free_port

PROJECT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("BACKOFFICE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DAG_ID = "send_orders_to_backoffice"
POOL = "erp_reflecta"
ADMIN = "admin"
BUDGET_SECONDS = 3600.0


@dataclass
class SlotRun:
    slots: int
    orders: int
    chunk_size: int
    seconds: float
    sent: int
    task_instances: int
    xcom_bytes: int


@dataclass
class SchedulerFigures:
    runs: list[SlotRun] = field(default_factory=list)


def _url(name: str, drivername: str) -> str:
    return sa.make_url(PG_URL).set(drivername=drivername, database=name).render_as_string(hide_password=False)


def _environment(home: Path, meta_db: str, orders_url: sa.URL, api_port: int, passwords: Path,
                 connection: dict[str, Any], parallelism: int) -> dict[str, str]:
    from cryptography.fernet import Fernet

    base = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "_AIRFLOW", "BACKOFFICE_"))}
    api_url = f"http://127.0.0.1:{api_port}"
    return {
        **base,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": str(parallelism),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": _url(meta_db, "postgresql+psycopg2"),
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
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "AIRFLOW_CONN_APP4SALES_DB": json.dumps({
            "conn_type": "postgres", "host": orders_url.host, "port": orders_url.port or 5432,
            "login": orders_url.username, "password": orders_url.password, "schema": orders_url.database}),
        "AIRFLOW_CONN_BENCH_REFLECTA": json.dumps(connection),
        "BACKOFFICE_LOCAL_ROOT": str(home.parent / "local"),
        "BACKOFFICE_TASK_RETRIES": "0",
        "BACKOFFICE_POOL_PREFIX": "erp_",
    }


def run(root: Path, connection: dict[str, Any], orders: int, chunk_size: int, slots: int) -> SchedulerFigures:
    """Two runs of ``orders`` Reflecta orders: the pool at one slot, then at ``slots``."""
    from backoffice_export.db.engine import create_engine, create_schema

    root.mkdir(parents=True, exist_ok=True)
    home = root / "airflow"
    home.mkdir(exist_ok=True)
    suffix = uuid.uuid4().hex[:10]
    meta_db, orders_db = f"bench_airflow_{suffix}", f"bench_orders_{suffix}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    created: list[str] = []
    processes: AirflowProcesses | None = None
    api: RestApi | None = None
    engine: sa.Engine | None = None
    figures = SchedulerFigures()
    try:
        with admin.connect() as conn:
            for name in (meta_db, orders_db):
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
                created.append(name)
        orders_url = sa.make_url(PG_URL).set(database=orders_db)
        engine = create_engine(orders_url)
        create_schema(engine)
        password = secrets.token_urlsafe(16)
        passwords = home / "passwords.json"
        passwords.write_text(json.dumps({ADMIN: password}))
        api_port = free_port()
        env = _environment(home, meta_db, orders_url, api_port, passwords, connection, parallelism=max(4, slots))
        processes = AirflowProcesses(env, root / "logs")
        deadline = Deadline(BUDGET_SECONDS)
        processes.run("db-migrate", "db", "migrate", timeout=300)
        processes.start("api-server", "api-server", "--host", "127.0.0.1", "--port", str(api_port), "--workers", "1")
        processes.start("scheduler", "scheduler")
        processes.start("dag-processor", "dag-processor")
        api = RestApi(f"http://127.0.0.1:{api_port}", ADMIN, password)
        _wait_until_ready(api, processes, deadline)
        api.patch(f"/dags/{DAG_ID}", {"is_paused": False})
        for number, pool_slots in enumerate((1, slots)):
            target = Target(f"reflecta-{number}", "reflecta", "bench_reflecta", {"CompanyCode": "01"})
            generate(engine, [target], orders)
            _set_pool(api, pool_slots)
            figures.runs.append(_timed_run(api, processes, deadline, engine, meta_db, f"bench-{target.name}",
                                           orders, chunk_size, pool_slots))
            print(f"scheduler: {orders} orders, pool of {pool_slots}: {figures.runs[-1].seconds:.1f} s", flush=True)
    finally:
        if processes is not None:
            processes.stop()
        if api is not None:
            api.close()
        if engine is not None:
            engine.dispose()
        with admin.connect() as conn:
            for name in created:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        shutil.rmtree(home / "logs", ignore_errors=True)
    return figures


def _wait_until_ready(api: RestApi, processes: AirflowProcesses, deadline: Deadline) -> None:
    def health() -> bool | None:
        body = api.client.get("/api/v2/monitor/health").json()
        return True if (body["scheduler"]["status"] == "healthy"
                        and (body.get("dag_processor") or {}).get("status") == "healthy") else None

    processes.wait_for("Airflow to report healthy", health, deadline, cap=180)
    api.login()

    def listed() -> bool | None:
        return True if api.request("GET", f"/dags/{DAG_ID}", expect=(200, 404)).status_code == 200 else None

    processes.wait_for(f"the dag-processor to parse {DAG_ID}", listed, deadline, cap=120)


def _set_pool(api: RestApi, slots: int) -> None:
    exists = api.request("GET", f"/pools/{POOL}", expect=(200, 404)).status_code == 200
    if exists:
        api.patch(f"/pools/{POOL}", {"pool": POOL, "slots": slots, "include_deferred": False})
    else:
        api.post("/pools", {"name": POOL, "slots": slots, "description": "Reflecta endpoint"}, expect=(201,))


def _timed_run(api: RestApi, processes: AirflowProcesses, deadline: Deadline, engine: sa.Engine, meta_db: str,
               administration: str, orders: int, chunk_size: int, slots: int) -> SlotRun:
    from backoffice_export import export_state

    run_id = api.post(f"/dags/{DAG_ID}/dagRuns", {"logical_date": None, "conf": {"chunk_size": chunk_size}},
                      expect=(200,))["dag_run_id"]

    def finished() -> dict | None:
        body = api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}")
        return body if body["state"] in {"success", "failed"} else None

    done = processes.wait_for(f"run {run_id}", finished, deadline, cap=deadline.remaining(), interval=2.0)
    seconds = (_time(done["end_date"]) - _time(done["start_date"]))
    task_instances = api.get(f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances", params={"limit": 1})["total_entries"]
    sent = sum(1 for row in export_state.states(engine, administration=administration) if row.state == "sent")
    meta = sa.create_engine(_url(meta_db, "postgresql+psycopg"))
    with meta.connect() as conn:
        xcom_bytes = conn.execute(sa.text("SELECT coalesce(sum(length(value::text)), 0) FROM xcom "
                                          "WHERE dag_id = :dag AND run_id = :run"),
                                  {"dag": DAG_ID, "run": run_id}).scalar_one()
    meta.dispose()
    if done["state"] != "success" or sent != orders:
        raise RuntimeError(f"run {run_id} ended {done['state']} with {sent} of {orders} orders sent\n"
                           f"{processes.tails()}")
    return SlotRun(slots, orders, chunk_size, seconds, sent, task_instances, int(xcom_bytes))


def _time(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()

