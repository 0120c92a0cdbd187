"""Two export runs overlapping on PostgreSQL over the same 1,000 orders: none sent twice.

Each run plans its chunks from the same backlog and works through them on two threads, as two
runs' mapped chunk tasks would on a Celery deployment; the order database is PostgreSQL, where
claims use ``FOR UPDATE SKIP LOCKED``. Half the orders have no number yet, so the runs also
race for Reflecta's order-number sequence.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from backoffice_export import export, export_state
from backoffice_export.document import load_document
from backoffice_export.export_state import ClaimOwner
from tests.faults.conftest import FaultOutcome
from tests.faults.file_erp import reflecta_orders_in_folder
from tests.helpers import bind_connection, reflecta_admin

ORDERS = 1000


def test_two_overlapping_runs_send_each_order_once(pg_engine, sandboxes, monkeypatch, files_root, fault_ledger):
    conn_id, folder = bind_connection(monkeypatch, sandboxes, "sftp")
    admin = reflecta_admin("overlap", conn_id)
    admin["customers"] = [{"code": f"K{i}", "name": f"Customer {i}"} for i in range(ORDERS)]
    admin["orders"] = [
        {"internal_order_nr": str(i), "customer": f"K{i}", "order_date": "2026-11-20T10:00:00",
         **({"order_nr": f"N{i}"} if i % 2 else {}),
         "lines": [{"item": "TS-M", "quantity": "1", "price": "10.00"}]}
        for i in range(ORDERS)
    ]
    load_document(pg_engine, {"administrations": [admin]})
    uploads_before = sandboxes.sftp.uploads_completed
    start = threading.Barrier(2)

    def run(run_id: str) -> int:
        plan = export.plan_chunks(pg_engine, 50)["reflecta"]
        start.wait()
        with ThreadPoolExecutor(2) as pool:
            results = pool.map(lambda c: export.send_chunk(pg_engine, c[1]["ids"], ClaimOwner(
                "send_orders_to_backoffice", run_id, "reflecta.send_chunk", c[0])), enumerate(plan))
            return sum(r.sent for r in results)

    with ThreadPoolExecutor(2) as runs:
        sent = list(runs.map(run, ["scheduled_a", "scheduled_b"]))

    states = export_state.states(pg_engine, administration="overlap")
    erp = reflecta_orders_in_folder(sandboxes.received_files("sftp"), folder)
    duplicates = sum(len(numbers) - 1 for numbers in erp.values() if len(numbers) > 1)
    numbers = Counter(r.order_nr for r in states)
    assert sum(sent) == ORDERS and all(s > 0 for s in sent), sent
    assert Counter(r.state for r in states) == {"sent": ORDERS}
    assert sandboxes.sftp.uploads_completed - uploads_before == ORDERS
    assert duplicates == 0 and len(erp) == ORDERS
    assert max(numbers.values()) == 1  # no order number drawn twice
    fault_ledger.append(FaultOutcome("reflecta", "two runs overlapping on PostgreSQL", 1, ORDERS,
                                     ORDERS - len(erp), duplicates, 0, 1))
    print(f"run A sent {sent[0]}, run B sent {sent[1]}, duplicates at the ERP: {duplicates}")
