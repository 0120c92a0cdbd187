"""Identity scenarios on the file drops (Reflecta over SFTP, EzXml over FTPS), judged by content.

Numbers are unique per administration only, so these scenarios put two administrations on one
connection and folder, generated numbers next to numbers orders were loaded with, and a cut in
the middle of a chunk of orders that carry their own number. After the runs settle, every file
the folder received is parsed (also the ones the ERP consumed and removed on the way) and
compared with the order documents: an order stored as sent must be there exactly once, under
its stored name and number, with its own customer and lines (``misattributed`` otherwise).
Two orders with the same own number in one folder: the second is held back for review.
"""

from __future__ import annotations

import pytest

from backoffice_export.document import load_document
from tests.faults.conftest import FaultOutcome
from tests.faults.file_erp import (
    consume,
    cut_after_uploads,
    expected,
    ezxml_doc,
    judge_content,
    read_folder,
    reflecta_doc,
    settle,
)
from tests.helpers import bind_connection

SUBFOLDER = {"reflecta": "orders", "ezxml": "export"}
KIND = {"reflecta": "sftp", "ezxml": "ftps"}


def _docs(connector: str, conn_id: str, code: str, prefix: str, own: list[str | None]) -> dict:
    """Orders of one administration; ``own``: each order's own number (EzXml: its internal number,
    sent as the order number with UseInternalOrdersAsWebOrderNr), or None for a generated one."""
    if connector == "reflecta":
        return reflecta_doc(code, conn_id, prefix, own)
    if all(n is None for n in own):
        return ezxml_doc(code, conn_id, prefix, own)
    admin = ezxml_doc(code, conn_id, prefix, [None] * len(own), UseInternalOrdersAsWebOrderNr=True)
    for doc, number in zip(admin["orders"], own, strict=True):
        doc["internal_order_nr"] = number or doc["internal_order_nr"]
    return admin


def _folder(connector: str, sandboxes, folder: str, consumed: dict[str, bytes]) -> list:
    prefix, quantity = f"{folder}/{SUBFOLDER[connector]}/", "OrderedQty" if connector == "reflecta" else "Quantity"
    return [*read_folder(consumed, prefix, "WebOrderNr", quantity),
            *read_folder(sandboxes.received_files(KIND[connector]), prefix, "WebOrderNr", quantity)]


def _record(ledger, connector: str, fault: str, engine, admins: list[dict], received, runs: int,
            for_review: int) -> None:
    verdict = judge_content(engine, [a["code"] for a in admins], received, expected(*admins))
    orders = sum(len(a["orders"]) for a in admins)
    ledger.append(FaultOutcome(connector, fault, 1, orders, verdict.lost, verdict.duplicated, verdict.inconsistent,
                               runs, misattributed=verdict.misattributed))
    assert verdict.zeros == (0, 0, 0, 0), f"{connector} {fault}: lost/dup/inconsistent/misattributed"
    assert len(verdict.for_review) == for_review, verdict.for_review
    for error in verdict.for_review:
        assert "already has: not sent" in error and "(share-a)" in error


@pytest.mark.parametrize("connector", ["reflecta", "ezxml"])
def test_two_administrations_with_the_same_numbers_share_one_folder(connector, export_dag, sqlite_engine, sandboxes,
                                                                    monkeypatch, fault_ledger, files_root):
    """Both administrations' sequences start at 1 and both carry numbers 1001 and 1002; the ERP
    consumes the folder between the two administrations' runs."""
    conn_id, folder = bind_connection(monkeypatch, sandboxes, KIND[connector])
    first = _docs(connector, conn_id, "share-a", "a", [None, "1001", None, "1002"])
    second = _docs(connector, conn_id, "share-b", "b", [None, "1002", None, "1001"])
    generated_a = _docs(connector, conn_id, "share-c", "c", [None, None, None])
    generated_b = _docs(connector, conn_id, "share-d", "d", [None, None, None])
    load_document(sqlite_engine, {"administrations": [first, generated_a]})
    runs = settle(export_dag, sqlite_engine)
    consumed = consume(sandboxes, KIND[connector], folder, SUBFOLDER[connector])
    load_document(sqlite_engine, {"administrations": [second, generated_b]})
    runs += settle(export_dag, sqlite_engine)
    received = _folder(connector, sandboxes, folder, consumed)
    _record(fault_ledger, connector, "identity: 2 admins, same numbers, 1 folder", sqlite_engine,
            [first, generated_a, second, generated_b], received, runs, for_review=2)


@pytest.mark.parametrize("connector", ["reflecta", "ezxml"])
def test_generated_numbers_next_to_loaded_numbers(connector, export_dag, sqlite_engine, sandboxes, monkeypatch,
                                                  fault_ledger, files_root):
    """Orders loaded with numbers the sequences are about to hand out (Reflecta ``2``, ``3``, ``5``,
    ``6``; EzXml ``Default2`` ... as left by the former connector), in two administrations on one folder."""
    conn_id, folder = bind_connection(monkeypatch, sandboxes, KIND[connector])
    numbers = ["2", "3", "5", "6"] if connector == "reflecta" else ["Default2", "Default3", "Default5", "Default6"]
    admins = []
    for code, prefix, carried in (("share-a", "a", numbers[:2]), ("share-b", "b", numbers[2:])):
        admin = _docs(connector, conn_id, code, prefix, [None] * 6)
        admin["orders"][1]["order_nr"], admin["orders"][4]["order_nr"] = carried
        admins.append(admin)
    load_document(sqlite_engine, {"administrations": admins})
    runs = settle(export_dag, sqlite_engine)
    received = _folder(connector, sandboxes, folder, {})
    _record(fault_ledger, connector, "identity: generated next to loaded numbers", sqlite_engine, admins, received,
            runs, for_review=0)
    assert len({f.name for f in received}) == 12


@pytest.mark.parametrize("connector", ["reflecta", "ezxml"])
def test_cut_mid_chunk_on_orders_with_their_own_numbers(connector, export_dag, sqlite_engine, sandboxes, monkeypatch,
                                                        fault_ledger, files_root):
    """The connection is cut on every upload after the third; the next runs complete the chunk."""
    conn = sandboxes.airflow_connection(KIND[connector], "app4sales", "x")
    extra = {**conn.get("extra", {}), "stale_part_seconds": 0}
    conn_id, folder = bind_connection(monkeypatch, sandboxes, KIND[connector], extra=extra)
    admin = _docs(connector, conn_id, "share-a", "a", ["WEB5201", None, "WEB5203", "WEB5204", None, "WEB5206",
                                                        "WEB5207", None])
    load_document(sqlite_engine, {"administrations": [admin]})
    with cut_after_uploads(monkeypatch, sandboxes, KIND[connector], 3):
        export_dag.test()
    runs = 1 + settle(export_dag, sqlite_engine)
    received = _folder(connector, sandboxes, folder, {})
    _record(fault_ledger, connector, "identity: cut mid-chunk, own numbers", sqlite_engine, [admin], received, runs,
            for_review=0)
    kept = {o["internal_order_nr"]: o.get("order_nr") or o["internal_order_nr"] for o in admin["orders"]
            if (o.get("order_nr") or o["internal_order_nr"]).startswith("WEB")}
    files = {f.name for f in received}
    assert {f"{n}.xml" for n in kept.values()} <= files
