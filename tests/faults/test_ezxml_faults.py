"""Faults on EzXml's FTPS hand-off: after each, the DAG runs until settled; then the ERP's
export folder is compared with the export state (one file per order, under its number)."""

from __future__ import annotations

import pytest

from backoffice_export.document import load_document
from tests.faults.conftest import FaultOutcome
from tests.faults.file_erp import ezxml_orders_in_folder, judge
from tests.faults.test_file_transport_faults import FTPS_FAULTS, _admin, _settle
from tests.helpers import bind_connection


@pytest.mark.parametrize("fault", list(FTPS_FAULTS))
def test_ezxml_ftps_fault_then_settle(fault, export_dag, sqlite_engine, sandboxes, monkeypatch, fault_ledger):
    conn_id, folder = bind_connection(monkeypatch, sandboxes, "ftps")
    admin, customers = _admin("ezfaulty", conn_id, 4)
    admin.update(connector="ezxml", settings={"OrderFormat": "Default"})
    load_document(sqlite_engine, {"administrations": [admin]})
    FTPS_FAULTS[fault](sandboxes)
    try:
        export_dag.test()
    finally:
        sandboxes.ftp.faults.reset()
    runs = _settle(export_dag, sqlite_engine)
    erp = ezxml_orders_in_folder(sandboxes.received_files("ftps"), folder)
    lost, duplicated, inconsistent = judge(sqlite_engine, "ezfaulty", erp, customers)
    fault_ledger.append(FaultOutcome("ezxml", fault, 1, len(customers), lost, duplicated, inconsistent, runs))
    assert (lost, duplicated, inconsistent) == (0, 0, 0)
