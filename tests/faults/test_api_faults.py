"""Faults on the ERP APIs (Spector, StyleMan, AccountView): after each, the DAG runs until settled; then the
emulator's orders are compared with the export state: exactly one ERP order per App4Sales order.

The network faults go through a TCP fault proxy in front of the emulator; the HTTP ones are the
emulator's own switches (5xx, a reply lost after the order was stored, refused credentials, a
reply slower than the client's timeout).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from backoffice_export import export_state
from backoffice_export.document import load_document
from erp_sandbox.fault_proxy import FaultProxy
from tests.faults.conftest import FaultOutcome
from tests.faults.test_file_transport_faults import _settle
from tests.helpers import reflecta_admin

ORDERS = 4
LINES = 3  # AccountView sends them one batch each (OrderLinesBatchCount 1)


def _admin(connector: str, conn_id: str) -> dict[str, Any]:
    admin = reflecta_admin(f"api-{connector}", conn_id, settings={})
    admin["connector"] = connector
    admin["sales_reps"] = [{"code": "rep", "user_id": 7, "user_name": "rep"}]
    admin["items"] = [{"code": "TS-M", "description": "T-shirt", "vat_percentage": "21", "sales_price": "12.50"}]
    admin["customers"] = [{"code": "C1", "name": "Boutique", "guid": "0b5e1c9e-1f0e-4c2b-9a57-3f1c2d4e5f60"}]
    admin["orders"] = [
        {"internal_order_nr": str(i), "guid": str(uuid.uuid4()), "reference": f"A4S-{uuid.uuid4().hex[:12]}",
         "customer": "C1", "sales_rep": "rep", "order_date": "2026-11-20T10:00:00",
         "lines": [{"item": "TS-M", "quantity": str(n), "price": "12.50"} for n in range(1, LINES + 1)]}
        for i in range(ORDERS)
    ]
    return admin


def _count(connector: str, api: Any, order: dict[str, Any], company: str | None) -> int:
    """ERP orders for this App4Sales order; for AccountView, -1 when its lines are not all there once."""
    if connector == "spector":
        return api.order_count(f"api-spector/{order['internal_order_nr']}", company)
    if connector == "accountview":
        count = api.order_count(order["reference"])
        numbers = api.numbers_for(order["reference"])
        if count == 1 and api.line_count(numbers[0]) != LINES:
            return -1
        return count
    return api.order_count(order["guid"])


FAULTS: dict[str, Callable[[Any, FaultProxy], None]] = {
    "connection refused": lambda api, proxy: setattr(proxy.faults, "refuse", True),
    "connection cut mid-request": lambda api, proxy: setattr(proxy.faults, "cut_after_bytes", 300),
    "slow server past the timeout": lambda api, proxy: setattr(api.faults, "delay_seconds", 1.5),
    "authentication refused": lambda api, proxy: setattr(api.faults, "reject_auth", True),
    "HTTP 5xx": lambda api, proxy: setattr(api.faults, "fail_next", 6),
    "reply lost after the ERP stored the order": lambda api, proxy: setattr(api.faults, "lose_reply_after_store", 2),
    "HTTP 5xx after the ERP stored the order": lambda api, proxy: setattr(api.faults, "fail_after_stored", 2),
}
BATCH_FAULTS = {
    "a batch failing mid-order": lambda api, proxy: api.fail_writes(times=3, after=1),
}


CASES = [(c, f) for c in ("spector", "styleman", "accountview") for f in FAULTS] + [
    ("accountview", f) for f in BATCH_FAULTS]


@pytest.mark.parametrize(("connector", "fault"), CASES)
def test_api_fault_then_settle(connector, fault, export_dag, sqlite_engine, sandboxes, monkeypatch, fault_ledger):
    api = sandboxes.apis[connector]
    company = api.new_company() if connector == "spector" else None
    conn = api.airflow_connection(company) if company else api.airflow_connection()
    with FaultProxy(api.port) as proxy:
        conn_id = f"api_{connector}"
        slow = fault == "slow server past the timeout"
        conn = {**conn, "port": proxy.port, "extra": {**conn.get("extra", {}), "timeout": 1 if slow else 10}}
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
        admin = _admin(connector, conn_id)
        if connector == "accountview":
            admin["settings"] = {"OrderLinesBatchCount": 1}
        load_document(sqlite_engine, {"administrations": [admin]})
        {**FAULTS, **BATCH_FAULTS}[fault](api, proxy)
        try:
            export_dag.test()
        finally:
            api.faults.reset()
            proxy.faults.reset()
            if hasattr(api, "fail_writes"):
                api.fail_writes(times=0)
        if slow:
            time.sleep(2)  # the task's retry comes after its retry delay, when the slow request is done
        runs = _settle(export_dag, sqlite_engine)
    lost = duplicated = inconsistent = 0
    states = {r.internal_order_nr: r for r in export_state.states(sqlite_engine, administration=admin["code"])}
    for order in admin["orders"]:
        count = _count(connector, api, order, company)
        row = states[order["internal_order_nr"]]
        duplicated += max(0, count - 1)
        lost += row.state != "sent"
        inconsistent += (row.state == "sent") != (count == 1) or count < 0
    fault_ledger.append(FaultOutcome(connector, fault, 1, ORDERS, lost, duplicated, inconsistent, runs))
    if os.environ.get("DEBUG_API_FAULTS"):
        for r in api.recorded():
            print("REC", r["method"], r["path"], r["query"], str(r["body"])[:120])
    assert (lost, duplicated, inconsistent) == (0, 0, 0), ([(r.state, r.error) for r in states.values()],
                                                          [_count(connector, api, o, company) for o in admin["orders"]])
    assert os.environ.get(f"AIRFLOW_CONN_{conn_id.upper()}")
