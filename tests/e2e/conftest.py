"""End-to-end: real ``dag.test()`` runs against the loopback sandboxes."""

from __future__ import annotations

import pytest

from tests.conftest import PROJECT


@pytest.fixture
def export_dag(airflow_db, sqlite_engine, use_engine_as_app4sales_db, files_root):
    """The export DAG, its order database bound to the test's SQLite file."""
    from airflow.dag_processing.dagbag import DagBag

    use_engine_as_app4sales_db(sqlite_engine)
    bag = DagBag(str(PROJECT / "dags"))
    assert bag.import_errors == {}
    return bag.get_dag("send_orders_to_backoffice")


def task_states(run) -> dict[str, list[str]]:
    states: dict[str, list[str]] = {}
    for ti in run.get_task_instances():
        states.setdefault(ti.task_id, []).append(str(ti.state))
    return states
