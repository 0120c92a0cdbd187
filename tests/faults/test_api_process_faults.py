"""The task process killed mid-chunk, and the order database lost during write-back, for an API
connector (Spector): the retry of the same task instance settles it, one ERP order per order."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
import sqlalchemy as sa

from backoffice_export import export, export_state
from backoffice_export.db.engine import create_engine, create_schema
from backoffice_export.document import load_document
from backoffice_export.export_state import ClaimOwner
from tests.conftest import PROJECT
from tests.faults.conftest import FaultOutcome
from tests.faults.test_api_faults import _admin
from tests.faults.test_file_transport_faults import KILLABLE_CHUNK

OWNER = ClaimOwner("send_orders_to_backoffice", "scheduled_api", "spector.send_chunk", 0)


def _spector(sandboxes, monkeypatch, engine, orders: int):
    api = sandboxes.apis["spector"]
    company = api.new_company()
    monkeypatch.setenv("AIRFLOW_CONN_API_SPECTOR", json.dumps(api.airflow_connection(company)))
    admin = _admin("spector", "api_spector")
    admin["orders"] = [dict(admin["orders"][0], internal_order_nr=str(i), guid=None) for i in range(orders)]
    load_document(engine, {"administrations": [admin]})
    ids = export.plan_chunks(engine, 100)["spector"][0]["ids"]
    return api, company, admin, ids


def _judge(engine, api, company, admin) -> tuple[int, int, int]:
    lost = duplicated = inconsistent = 0
    for row in export_state.states(engine, administration=admin["code"]):
        count = api.order_count(f"{row.administration}/{row.internal_order_nr}", company)
        duplicated += max(0, count - 1)
        lost += row.state != "sent"
        inconsistent += (row.state == "sent") != (count == 1)
    return lost, duplicated, inconsistent


def test_spector_task_killed_mid_chunk_then_its_retry_finishes(sqlite_engine, sandboxes, monkeypatch, fault_ledger,
                                                              files_root):
    api, company, admin, ids = _spector(sandboxes, monkeypatch, sqlite_engine, 20)
    api.faults.delay_seconds = 0.05
    child = subprocess.Popen(
        [sys.executable, "-c", KILLABLE_CHUNK, json.dumps(ids), json.dumps(list(OWNER.__dict__.values())),
         str(sqlite_engine.url)],
        env={**os.environ, "PYTHONPATH": str(PROJECT / "include")}, cwd=PROJECT,
    )
    deadline = time.monotonic() + 60
    while len(api.orders(company)) < 3 and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.005)
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    api.faults.reset()
    assert any(r.state == "claimed" for r in export_state.states(sqlite_engine, administration=admin["code"]))
    export.send_chunk(sqlite_engine, ids, OWNER)  # Airflow's retry: the same task instance
    result = _judge(sqlite_engine, api, company, admin)
    fault_ledger.append(FaultOutcome("spector", "task process killed (SIGKILL) mid-chunk", 1, len(ids), *result, 2))
    assert result == (0, 0, 0)


def test_spector_order_database_unavailable_during_write_back(tmp_path, sandboxes, monkeypatch, fault_ledger,
                                                              files_root):
    url = f"sqlite:///{tmp_path / 'orders.db'}"
    engine = create_engine(url, busy_timeout=0.5)
    create_schema(engine)
    api, company, admin, ids = _spector(sandboxes, monkeypatch, engine, 5)
    locker = sa.create_engine(url).connect()

    def lock_after_first_order() -> None:
        while not api.orders(company):
            time.sleep(0.001)
        locker.exec_driver_sql("BEGIN EXCLUSIVE")

    thread = threading.Thread(target=lock_after_first_order)
    thread.start()
    with pytest.raises(sa.exc.OperationalError):
        export.send_chunk(engine, ids, OWNER)
    thread.join()
    locker.exec_driver_sql("ROLLBACK")
    locker.close()
    export.send_chunk(engine, ids, OWNER)  # Airflow's retry: the same task instance
    result = _judge(engine, api, company, admin)
    fault_ledger.append(FaultOutcome("spector", "order database unavailable during write-back", 1, len(ids),
                                     *result, 2))
    assert result == (0, 0, 0)
