"""Shared fixtures: an embedded Airflow, order databases (SQLite and PostgreSQL), sandboxes.

Environment is set before Airflow is first imported: Airflow reads its configuration once.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="backoffice-tests-"))
os.environ.update({
    "AIRFLOW_HOME": str(_SESSION_DIR / "airflow"),
    "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT / "dags"),
    "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT / "plugins"),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "BACKOFFICE_LOCAL_ROOT": str(_SESSION_DIR / "local"),
    "BACKOFFICE_TASK_RETRIES": "0",
})
IN_CI = os.environ.get("CI", "").lower() == "true"
PG_URL = os.environ.get("BACKOFFICE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def need(condition: bool, reason: str) -> None:
    """Skip with a clear reason when a local service is missing; under CI, missing is a failure."""
    if not condition:
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: every service must be present)")
        pytest.skip(reason)


@pytest.fixture
def files_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "files"
    monkeypatch.setenv("BACKOFFICE_FILES_ROOT", str(root))
    return root


@pytest.fixture
def sqlite_engine(tmp_path: Path):
    from backoffice_export.db.engine import create_engine, create_schema

    engine = create_engine(f"sqlite:///{tmp_path / 'app4sales.db'}")
    create_schema(engine)
    yield engine
    engine.dispose()


def _pg_available() -> bool:
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(PG_URL)
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture
def pg_engine():
    """A fresh PostgreSQL database per test on the local server, dropped afterwards."""
    import sqlalchemy as sa

    from backoffice_export.db.engine import create_engine, create_schema

    need(_pg_available(), f"PostgreSQL is not reachable at {PG_URL}")
    name = f"backoffice_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(PG_URL).set(database=name)
    engine = create_engine(url)
    create_schema(engine)
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request):
    """Run a test on both supported order databases."""
    return request.getfixturevalue("sqlite_engine" if request.param == "sqlite" else "pg_engine")


@pytest.fixture(scope="session")
def sandboxes() -> Iterator[object]:
    from erp_sandbox import Sandboxes

    with Sandboxes(_SESSION_DIR / "sandbox", "app4sales") as boxes:
        yield boxes


@pytest.fixture(scope="session")
def airflow_db() -> None:
    from airflow.utils import db

    db.initdb()


@pytest.fixture
def use_engine_as_app4sales_db(monkeypatch: pytest.MonkeyPatch):
    """Point the ``app4sales_db`` Airflow connection at a test engine's database."""
    from backoffice_export.db.engine import engine_for_connection

    def bind(engine) -> None:
        url = engine.url
        if url.get_backend_name() == "sqlite":
            conn = {"conn_type": "sqlite", "host": url.database}
        else:
            conn = {"conn_type": "postgres", "host": url.host, "port": url.port, "login": url.username,
                    "schema": url.database}
        monkeypatch.setenv("AIRFLOW_CONN_APP4SALES_DB", json.dumps(conn))
        engine_for_connection.cache_clear()

    yield bind
    engine_for_connection.cache_clear()


@pytest.fixture
def export_dag(airflow_db, sqlite_engine, use_engine_as_app4sales_db, files_root):
    """The export DAG, its order database bound to the test's SQLite file."""
    from airflow.dag_processing.dagbag import DagBag

    use_engine_as_app4sales_db(sqlite_engine)
    bag = DagBag(str(PROJECT / "dags"))
    assert bag.import_errors == {}
    return bag.get_dag("send_orders_to_backoffice")
