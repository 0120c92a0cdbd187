"""The auth manager docker-compose.yaml runs (FAB), on a real api-server, set up as compose does.

``airflow-init`` migrates the metadata database and creates the administrator with ``airflow
users create`` (the image's entrypoint, asked by ``_AIRFLOW_DB_MIGRATE`` and
``_AIRFLOW_WWW_USER_CREATE``); then the api-server runs with ``FabAuthManager``. This does the
same from the venv, on a fresh PostgreSQL database, and checks what a user of the stack meets:
the login page, ``POST /auth/token`` for the REST API, and the export ledger, which FAB's roles
open to a Viewer and close to a user without one.

Why FAB and not the SimpleAuthManager the other deployment tests use: FAB is what Airflow's own
docker-compose.yaml runs, the image's entrypoint creates its admin user, and ops get real users
and roles; the SimpleAuthManager is Airflow's development auth manager.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import yaml

from tests.conftest import PG_URL, PROJECT, need
from tests.deploy.airflow_processes import AIRFLOW_BIN, AirflowProcesses, Deadline, free_port

pytestmark = [pytest.mark.deployment, pytest.mark.timeout(300)]

FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
USERS = {"admin": "Admin", "viewer": "Viewer", "nobody": "Public"}


def _fab_installed() -> bool:
    try:
        import airflow.providers.fab.auth_manager.fab_auth_manager  # noqa: F401
    except ImportError:
        return False
    return True


def test_the_compose_file_runs_the_fab_auth_manager() -> None:
    compose = yaml.safe_load((PROJECT / "docker-compose.yaml").read_text())
    assert compose["x-airflow-common"]["environment"]["AIRFLOW__CORE__AUTH_MANAGER"] == FAB_AUTH_MANAGER


@pytest.fixture(scope="module")
def fab_api() -> Iterator[tuple[str, dict[str, str]]]:
    """An api-server with FabAuthManager on a fresh metadata database; yields its URL and passwords."""
    need(AIRFLOW_BIN.exists(), f"the airflow binary is not installed ({AIRFLOW_BIN})")
    need(_fab_installed(), "apache-airflow-providers-fab is not installed (requirements-dev.txt)")
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect():
            pass
    except Exception:
        need(False, f"PostgreSQL is not reachable at {PG_URL}")
    from cryptography.fernet import Fernet

    from backoffice_export.db.engine import create_engine, create_schema

    suffix = uuid.uuid4().hex[:10]
    meta_db, orders_db = f"backoffice_fab_airflow_{suffix}", f"backoffice_fab_orders_{suffix}"
    root = Path(tempfile.mkdtemp(prefix="backoffice-fab-"))
    processes: AirflowProcesses | None = None
    created: list[str] = []
    try:
        with admin.connect() as conn:
            for name in (meta_db, orders_db):
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
                created.append(name)
        orders_url = sa.make_url(PG_URL).set(database=orders_db)
        orders = create_engine(orders_url)
        create_schema(orders)
        orders.dispose()
        port = free_port()
        env = {
            "PATH": os.environ["PATH"],
            "AIRFLOW_HOME": str(root / "airflow"),
            "AIRFLOW__CORE__AUTH_MANAGER": FAB_AUTH_MANAGER,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN":
                sa.make_url(PG_URL).set(drivername="postgresql+psycopg2", database=meta_db)
                .render_as_string(hide_password=False),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__FERNET_KEY": Fernet.generate_key().decode(),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW_CONN_APP4SALES_DB": json.dumps({
                "conn_type": "postgres", "host": orders_url.host, "port": orders_url.port or 5432,
                "login": orders_url.username, "password": orders_url.password, "schema": orders_db}),
        }
        deadline = Deadline(240)
        processes = AirflowProcesses(env, root / "logs")
        processes.run("db-migrate", "db", "migrate", timeout=deadline.remaining(150))
        passwords = {user: secrets.token_urlsafe(12) for user in USERS}
        for user, role in USERS.items():  # what the entrypoint's _AIRFLOW_WWW_USER_CREATE runs, per user
            # --password=…: a password may start with "-", which argparse would take for an option.
            processes.run(f"users-create-{user}", "users", "create", "--username", user,
                          f"--password={passwords[user]}", "--firstname", user, "--lastname", "Test", "--email",
                          f"{user}@example.test", "--role", role, timeout=deadline.remaining(90))
        processes.start("api-server", "api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1")
        base = f"http://127.0.0.1:{port}"

        def healthy() -> bool | None:
            return True if httpx.get(f"{base}/api/v2/monitor/health", timeout=5).status_code == 200 else None

        processes.wait_for("the api-server with the FAB auth manager", healthy, deadline, cap=120)
        yield base, passwords
    finally:
        if processes is not None:
            processes.stop()
        with admin.connect() as conn:
            for name in created:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        shutil.rmtree(root, ignore_errors=True)


def _token(base: str, user: str, password: str) -> httpx.Response:
    return httpx.post(f"{base}/auth/token", json={"username": user, "password": password}, timeout=30)


def _bearer(base: str, user: str, password: str) -> dict[str, Any]:
    response = _token(base, user, password)
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_the_admin_made_by_init_logs_in_to_the_ui_and_the_rest_api(fab_api) -> None:
    base, passwords = fab_api
    login_page = httpx.get(f"{base}/auth/login/", timeout=30, follow_redirects=True)
    assert login_page.status_code == 200 and 'name="password"' in login_page.text
    assert _token(base, "admin", "not-the-password").status_code == 401
    headers = _bearer(base, "admin", passwords["admin"])
    assert httpx.get(f"{base}/api/v2/dags", headers=headers, timeout=30).status_code == 200
    assert httpx.get(f"{base}/api/v2/dags", timeout=30).status_code == 401


def test_fab_roles_decide_who_reads_the_export_ledger(fab_api) -> None:
    base, passwords = fab_api
    for user, allowed in (("admin", True), ("viewer", True), ("nobody", False)):
        response = httpx.get(f"{base}/backoffice-ledger/api/orders", headers=_bearer(base, user, passwords[user]),
                             timeout=30)
        assert response.status_code == (200 if allowed else 403), (user, response.text)
        if allowed:
            assert response.json()["total"] == 0
    assert httpx.get(f"{base}/backoffice-ledger/api/orders", timeout=30).status_code == 401
