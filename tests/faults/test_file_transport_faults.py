"""Faults on the file hand-off (Reflecta over SFTP and FTPS): after each, runs until settled.

Every scenario injects its fault into a real run of the export DAG, lifts it, reruns the DAG
until nothing is left to send, and then compares the ERP's folder with the export state.
"""

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
from backoffice_export.db.engine import create_engine
from backoffice_export.document import load_document
from backoffice_export.export_state import ClaimOwner
from erp_sandbox.fault_proxy import FaultProxy
from tests.conftest import PROJECT
from tests.faults.conftest import FaultOutcome
from tests.faults.file_erp import judge, reflecta_orders_in_folder
from tests.helpers import bind_connection, reflecta_admin


def _admin(code: str, conn_id: str, n: int) -> tuple[dict, dict[str, str]]:
    admin = reflecta_admin(code, conn_id)
    admin["customers"] = [{"code": f"K{i}", "name": f"Customer {i}"} for i in range(n)]
    admin["orders"] = [{"internal_order_nr": str(i), "customer": f"K{i}", "order_date": "2026-11-20T10:00:00",
                        "lines": [{"item": "TS-M", "quantity": "1", "price": "10.00"}]} for i in range(n)]
    return admin, {str(i): f"K{i}" for i in range(n)}


def _settle(dag, engine, max_runs: int = 4) -> int:
    for runs in range(1, max_runs + 1):
        dag.test()
        if not export_state.unsent_order_ids(engine):
            return runs
    return max_runs


@pytest.fixture
def proxy(sandboxes):
    with FaultProxy(sandboxes.sftp.port) as p:
        yield p


SFTP_FAULTS = {
    "sftp: connection refused": lambda sb, px: setattr(px.faults, "refuse", True),
    "sftp: connection cut mid-upload": lambda sb, px: setattr(sb.sftp.faults, "cut_after_bytes", 100),
    "sftp: authentication refused": lambda sb, px: setattr(sb.sftp.faults, "reject_auth", True),
    "sftp: permission denied on store": lambda sb, px: setattr(sb.sftp.faults, "deny_write", True),
    "sftp: permission denied on rename": lambda sb, px: setattr(sb.sftp.faults, "deny_rename", True),
}
FTPS_FAULTS = {
    "ftps: connection cut mid-upload": lambda sb: setattr(sb.ftp.faults, "cut_after_bytes", 100),
    "ftps: authentication refused": lambda sb: setattr(sb.ftp.faults, "reject_auth", True),
    "ftps: permission error on store": lambda sb: setattr(sb.ftp.faults, "deny_store", True),
    "ftps: permission error on rename": lambda sb: setattr(sb.ftp.faults, "deny_rename", True),
}


def _record(ledger, fault, engine, admin_code, erp, customers, runs) -> None:
    lost, duplicated, inconsistent = judge(engine, admin_code, erp, customers)
    ledger.append(FaultOutcome("reflecta", fault, 1, len(customers), lost, duplicated, inconsistent, runs))
    assert (lost, duplicated, inconsistent) == (0, 0, 0), f"{fault}: lost/dup/inconsistent"


@pytest.mark.parametrize("fault", list(SFTP_FAULTS))
def test_sftp_fault_then_settle(fault, export_dag, sqlite_engine, sandboxes, proxy, monkeypatch, fault_ledger):
    conn_id, folder = bind_connection(monkeypatch, sandboxes, "sftp", port=proxy.port)
    admin, customers = _admin("faulty", conn_id, 4)
    load_document(sqlite_engine, {"administrations": [admin]})
    SFTP_FAULTS[fault](sandboxes, proxy)
    try:
        export_dag.test()
    finally:
        sandboxes.sftp.faults.reset()
        proxy.faults.reset()
    runs = _settle(export_dag, sqlite_engine)
    erp = reflecta_orders_in_folder(sandboxes.received_files("sftp"), folder)
    _record(fault_ledger, fault, sqlite_engine, "faulty", erp, customers, runs)


@pytest.mark.parametrize("fault", list(FTPS_FAULTS))
def test_ftps_fault_then_settle(fault, export_dag, sqlite_engine, sandboxes, monkeypatch, fault_ledger):
    conn_id, folder = bind_connection(monkeypatch, sandboxes, "ftps")
    admin, customers = _admin("faulty", conn_id, 4)
    load_document(sqlite_engine, {"administrations": [admin]})
    FTPS_FAULTS[fault](sandboxes)
    try:
        export_dag.test()
    finally:
        sandboxes.ftp.faults.reset()
    runs = _settle(export_dag, sqlite_engine)
    erp = reflecta_orders_in_folder(sandboxes.received_files("ftps"), folder)
    _record(fault_ledger, fault, sqlite_engine, "faulty", erp, customers, runs)


def test_sftp_slow_server_past_the_timeout(export_dag, sqlite_engine, sandboxes, proxy, monkeypatch, fault_ledger):
    conn = sandboxes.airflow_connection("sftp", "app4sales", "probe")
    conn_id, folder = bind_connection(monkeypatch, sandboxes, "sftp", port=proxy.port,
                                      extra={**conn["extra"], "timeout": 1})
    admin, customers = _admin("slow", conn_id, 3)
    load_document(sqlite_engine, {"administrations": [admin]})
    # Find how many bytes connecting takes, then let the server go silent just after that.
    from backoffice_export.transport.file_drop import open_file_drop

    with open_file_drop(conn_id, "orders"):
        handshake = proxy.last_bytes_up
    proxy.faults.stall_after_bytes = handshake + 200
    started = time.monotonic()
    try:
        run = export_dag.test()
    finally:
        proxy.faults.reset()
    assert time.monotonic() - started < 60
    assert str(run.get_task_instance("reflecta.send_chunk", map_index=0).state) == "failed"
    runs = _settle(export_dag, sqlite_engine)
    erp = reflecta_orders_in_folder(sandboxes.received_files("sftp"), folder)
    _record(fault_ledger, "sftp: slow server past the timeout", sqlite_engine, "slow", erp, customers, runs)


KILLABLE_CHUNK = """
import json, sys
from backoffice_export.db.engine import create_engine
from backoffice_export.export import send_chunk
from backoffice_export.export_state import ClaimOwner
ids, owner = json.loads(sys.argv[1]), ClaimOwner(*json.loads(sys.argv[2]))
send_chunk(create_engine(sys.argv[3]), ids, owner)
"""


def test_task_killed_mid_chunk_then_its_retry_finishes(sqlite_engine, sandboxes, proxy, monkeypatch, fault_ledger,
                                                        files_root):
    """SIGKILL the process running a chunk after a few uploads; Airflow's retry (same task
    instance) resumes the orders its first try held."""
    conn_id, folder = bind_connection(monkeypatch, sandboxes, "sftp", port=proxy.port)
    admin, customers = _admin("killed", conn_id, 20)
    load_document(sqlite_engine, {"administrations": [admin]})
    ids = export.plan_chunks(sqlite_engine, 100)["reflecta"][0]["ids"]
    owner = ClaimOwner("send_orders_to_backoffice", "scheduled_kill", "reflecta.send_chunk", 0)
    proxy.faults.delay = 0.05  # slow enough to kill it mid-chunk
    start = sandboxes.sftp.uploads_completed
    child = subprocess.Popen(
        [sys.executable, "-c", KILLABLE_CHUNK, json.dumps(ids), json.dumps(list(owner.__dict__.values())),
         str(sqlite_engine.url)],
        env={**os.environ, "PYTHONPATH": str(PROJECT / "include")}, cwd=PROJECT,
    )
    deadline = time.monotonic() + 60
    while sandboxes.sftp.uploads_completed < start + 3 and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    proxy.faults.reset()
    stuck = [r for r in export_state.states(sqlite_engine, administration="killed") if r.state == "claimed"]
    assert stuck, "the kill should leave claimed orders behind"
    # Another run cannot take them while the claim holds...
    other = ClaimOwner("send_orders_to_backoffice", "scheduled_other", "reflecta.send_chunk", 0)
    assert export.send_chunk(sqlite_engine, ids, other).sent == 0
    # ...but the task's retry, the same task instance, resumes them at once.
    export.send_chunk(sqlite_engine, ids, owner)
    erp = reflecta_orders_in_folder(sandboxes.received_files("sftp"), folder)
    _record(fault_ledger, "task process killed (SIGKILL) mid-chunk", sqlite_engine, "killed", erp, customers, 2)


def test_order_database_unavailable_during_write_back(tmp_path, sandboxes, monkeypatch, fault_ledger, files_root):
    """The database locks up right after the first upload: the chunk stops; its retry settles."""
    conn_id, folder = bind_connection(monkeypatch, sandboxes, "sftp")
    url = f"sqlite:///{tmp_path / 'orders.db'}"
    engine = create_engine(url, busy_timeout=0.5)
    from backoffice_export.db.engine import create_schema

    create_schema(engine)
    admin, customers = _admin("dbdown", conn_id, 5)
    load_document(engine, {"administrations": [admin]})
    ids = export.plan_chunks(engine, 100)["reflecta"][0]["ids"]
    owner = ClaimOwner("send_orders_to_backoffice", "scheduled_db", "reflecta.send_chunk", 0)

    locker = sa.create_engine(url).connect()
    locked = threading.Event()
    start = sandboxes.sftp.uploads_completed

    def lock_after_first_upload() -> None:
        while sandboxes.sftp.uploads_completed == start:
            time.sleep(0.001)
        locker.exec_driver_sql("BEGIN EXCLUSIVE")
        locked.set()

    thread = threading.Thread(target=lock_after_first_upload)
    thread.start()
    with pytest.raises(sa.exc.OperationalError):
        export.send_chunk(engine, ids, owner)
    thread.join()
    locker.exec_driver_sql("ROLLBACK")
    locker.close()
    assert locked.is_set()
    export.send_chunk(engine, ids, owner)  # Airflow's retry of the same task instance
    erp = reflecta_orders_in_folder(sandboxes.received_files("sftp"), folder)
    _record(fault_ledger, "order database unavailable during write-back", engine, "dbdown", erp, customers, 2)


@pytest.mark.parametrize("fault", ["ftps: connection refused", "ftps: slow server past the timeout"])
def test_ftps_connection_faults_then_settle(fault, export_dag, sqlite_engine, sandboxes, monkeypatch, fault_ledger):
    """Through a proxy on the control connection (passive data connections go straight to the
    server, so the proxy sees the login and every command)."""
    with FaultProxy(sandboxes.ftp.port) as ftp_proxy:
        conn = sandboxes.airflow_connection("ftps", "app4sales", "probe")
        conn_id, folder = bind_connection(monkeypatch, sandboxes, "ftps", port=ftp_proxy.port,
                                          extra={**conn["extra"], "timeout": 1})
        admin, customers = _admin("ftpsconn", conn_id, 3)
        load_document(sqlite_engine, {"administrations": [admin]})
        if fault.endswith("refused"):
            ftp_proxy.faults.refuse = True
        else:
            ftp_proxy.faults.delay = 2.0
        try:
            run = export_dag.test()
        finally:
            ftp_proxy.faults.reset()
        assert str(run.get_task_instance("reflecta.send_chunk", map_index=0).state) == "failed"
        runs = _settle(export_dag, sqlite_engine)
    erp = reflecta_orders_in_folder(sandboxes.received_files("ftps"), folder)
    _record(fault_ledger, fault, sqlite_engine, "ftpsconn", erp, customers, runs)
