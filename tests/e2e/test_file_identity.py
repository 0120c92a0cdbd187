"""Order identity in a shared drop folder (Reflecta over SFTP, EzXml over FTPS), checked by content.

Each test loads order documents, runs the export DAG, and parses every file the ERP's folder
received (including files the ERP already consumed and removed): each order stored as sent must
be in exactly one file, under its stored number, with its own customer and lines.
"""

from __future__ import annotations

from backoffice_export import export_state
from backoffice_export.document import load_document
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


def _states(engine, admin: str) -> dict[str, export_state.OrderState]:
    return {r.internal_order_nr: r for r in export_state.states(engine, administration=admin)}


def test_reflecta_generated_numbers_skip_the_numbers_orders_carry(export_dag, sqlite_engine, sandboxes, monkeypatch,
                                                                  files_root):
    """Issue 22, defect 1: an order loaded with number 2, then two without: no file is overwritten."""
    conn_id, folder = bind_connection(monkeypatch, sandboxes, "sftp")
    admin = reflecta_doc("gen-next", conn_id, "g", ["2", None, None, "WEB1"])
    load_document(sqlite_engine, {"administrations": [admin]})
    assert settle(export_dag, sqlite_engine) == 1
    received = read_folder(sandboxes.received_files("sftp"), f"{folder}/orders/", "WebOrderNr")
    verdict = judge_content(sqlite_engine, ["gen-next"], received, expected(admin))
    assert verdict.zeros == (0, 0, 0, 0) and verdict.for_review == []
    states = _states(sqlite_engine, "gen-next")
    assert [states[n].order_nr for n in ("g1", "g4")] == ["2", "WEB1"]
    assert len({r.order_nr for r in states.values()}) == 4
    assert "2" not in {states["g2"].order_nr, states["g3"].order_nr}


def test_reflecta_two_administrations_sharing_one_folder_never_overwrite_each_other(
    export_dag, sqlite_engine, sandboxes, monkeypatch, files_root
):
    """Issue 22, defect 1: two administrations on one connection and folder. Generated numbers do
    not collide, not even with files the ERP already consumed; two orders with the same own number:
    the second is held back for review, naming the other order."""
    conn_id, folder = bind_connection(monkeypatch, sandboxes, "sftp")
    first = reflecta_doc("share-a", conn_id, "a", [None, None, "1001"])
    load_document(sqlite_engine, {"administrations": [first]})
    settle(export_dag, sqlite_engine)
    imported = consume(sandboxes, "sftp", folder, "orders")  # the ERP took 1.xml, 2.xml and 1001.xml away
    assert len(imported) == 3

    second = reflecta_doc("share-b", conn_id, "b", [None, "1001", None])
    load_document(sqlite_engine, {"administrations": [second]})
    settle(export_dag, sqlite_engine)
    received = [*read_folder(imported, f"{folder}/orders/", "WebOrderNr"),
                *read_folder(sandboxes.received_files("sftp"), f"{folder}/orders/", "WebOrderNr")]
    verdict = judge_content(sqlite_engine, ["share-a", "share-b"], received, expected(first, second))
    assert verdict.zeros == (0, 0, 0, 0)
    assert len(verdict.for_review) == 1
    held = _states(sqlite_engine, "share-b")["b2"]
    assert held.state == "failed" and held.order_nr == "1001"
    assert held.error.startswith("order b2 (share-b): Order.OrderNr")
    assert "1001.xml" in held.error and "order a3 (share-a)" in held.error
    assert len({f.name for f in received}) == 5


def test_reflecta_cut_mid_chunk_keeps_the_numbers_orders_came_with(export_dag, sqlite_engine, sandboxes, monkeypatch,
                                                                   files_root):
    """Issue 22, defect 2: after an upload cut mid-chunk, WEB5204 is still WEB5204 (only a number
    the connector generated is reset)."""
    extra = {**sandboxes.airflow_connection("sftp", "app4sales", "x")["extra"], "stale_part_seconds": 0}
    conn_id, folder = bind_connection(monkeypatch, sandboxes, "sftp", extra=extra)
    admin = reflecta_doc("cut-own", conn_id, "w", ["WEB5201", None, "WEB5203", "WEB5204", None, "WEB5206"])
    load_document(sqlite_engine, {"administrations": [admin]})
    with cut_after_uploads(monkeypatch, sandboxes, "sftp", 3):
        export_dag.test()
    cut = _states(sqlite_engine, "cut-own")["w4"]
    assert cut.state == "failed" and cut.order_nr == "WEB5204"

    settle(export_dag, sqlite_engine)
    states = _states(sqlite_engine, "cut-own")
    for internal, own in {"w1": "WEB5201", "w3": "WEB5203", "w4": "WEB5204", "w6": "WEB5206"}.items():
        assert (states[internal].state, states[internal].order_nr, states[internal].backoffice_order_nr) == (
            "sent", own, own)
    received = read_folder(sandboxes.received_files("sftp"), f"{folder}/orders/", "WebOrderNr")
    verdict = judge_content(sqlite_engine, ["cut-own"], received, expected(admin))
    assert verdict.zeros == (0, 0, 0, 0) and verdict.for_review == []


def test_ezxml_two_administrations_sharing_one_folder_never_overwrite_each_other(
    export_dag, sqlite_engine, sandboxes, monkeypatch, files_root
):
    """Issue 22 for EzXml: each administration numbers Default1, Default2, ... on its own; in one
    shared folder the second administration's numbers skip the first's, also after the ERP
    consumed the files. With internal numbers, the same number twice is held back for review."""
    conn_id, folder = bind_connection(monkeypatch, sandboxes, "ftps")
    first = ezxml_doc("ez-share-a", conn_id, "a", [None, None])
    first_internal = ezxml_doc("ez-share-c", conn_id, "c", [None], UseInternalOrdersAsWebOrderNr=True)
    first_internal["orders"][0]["internal_order_nr"] = "1001"
    load_document(sqlite_engine, {"administrations": [first, first_internal]})
    settle(export_dag, sqlite_engine)
    imported = consume(sandboxes, "ftps", folder, "export")
    assert len(imported) == 3

    second = ezxml_doc("ez-share-b", conn_id, "b", [None, None])
    second_internal = ezxml_doc("ez-share-d", conn_id, "d", [None], UseInternalOrdersAsWebOrderNr=True)
    second_internal["orders"][0]["internal_order_nr"] = "1001"
    load_document(sqlite_engine, {"administrations": [second, second_internal]})
    settle(export_dag, sqlite_engine)
    received = [*read_folder(imported, f"{folder}/export/", "WebOrderNr", quantity_tag="Quantity"),
                *read_folder(sandboxes.received_files("ftps"), f"{folder}/export/", "WebOrderNr",
                             quantity_tag="Quantity")]
    admins = [first, first_internal, second, second_internal]
    verdict = judge_content(sqlite_engine, [a["code"] for a in admins], received, expected(*admins))
    assert verdict.zeros == (0, 0, 0, 0)
    assert len(verdict.for_review) == 1
    held = _states(sqlite_engine, "ez-share-d")["1001"]
    assert held.state == "failed"
    assert held.error.startswith("order 1001 (ez-share-d): Order.InternalOrderNr")
    assert "1001.xml" in held.error and "order 1001 (ez-share-c)" in held.error
    generated = [f.name for f in received if f.name.startswith("Default")]
    assert len(generated) == len(set(generated)) == 4
