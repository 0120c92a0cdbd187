"""AccountView end to end: load orders, run the DAG (``dag.test()``), read back what the emulator holds.

Every order carries a reference of its own, so the session-wide emulator's orders never mix
between tests: ``order_count(reference)`` is "how many AccountView orders this App4Sales order became".
"""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backoffice_export import export_state
from backoffice_export.document import load_document
from tests.e2e.conftest import task_states
from tests.unit import factories

SEND = "accountview.send_chunk"
PDF = factories.pdf(extra=bytes(range(256)))  # a valid PDF with every byte value in it


@pytest.fixture
def accountview(sandboxes: Any) -> Iterator[Any]:
    api = sandboxes.apis["accountview"]
    api.reset()
    yield api
    api.reset()


def bind(monkeypatch: pytest.MonkeyPatch, api: Any) -> str:
    conn_id = f"av_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(api.airflow_connection()))
    return conn_id


def admin(code: str, conn_id: str, orders: list[dict[str, Any]], **settings: Any) -> dict[str, Any]:
    return {"code": code, "application_name": "Wholesale", "connector": "accountview", "connection_id": conn_id,
            "settings": settings, "customers": [{"code": "20010", "name": "Herenmode Jansen"}],
            "sales_reps": [{"code": "mvb", "user_name": "marieke.vb"}],
            "items": [{"code": f"ART{i:02d}", "description": f"Article {i}"} for i in range(1, 13)],
            "orders": orders}


def order(nr: str, lines: int, **extra: Any) -> dict[str, Any]:
    return {"internal_order_nr": nr, "customer": "20010", "sales_rep": "mvb", "order_date": "2026-11-20T10:00:00",
            "reference": f"A4S-{nr}-{uuid.uuid4().hex[:8]}", **extra,
            "lines": [{"item": f"ART{i:02d}", "quantity": str(i), "price": f"{i}.50"} for i in range(1, lines + 1)]}


def states(engine: Any, code: str) -> dict[str, export_state.OrderState]:
    return {r.internal_order_nr: r for r in export_state.states(engine, administration=code)}


def the_order(api: Any, reference: str) -> str:
    """The one AccountView order number this reference became (fails on none or several)."""
    numbers = api.numbers_for(reference)
    assert len(numbers) == 1, f"{reference} became {len(numbers)} AccountView orders"
    return numbers[0]


def writes(api: Any, number: str) -> list[str]:
    return [p.name.split("-")[1] for p in sorted(api.root.glob(f"*-SO1-{number}.json"))]


def test_a_large_order_goes_in_batches_with_its_pdf_and_a_lost_reply_duplicates_nothing(
        export_dag, sqlite_engine, accountview, monkeypatch) -> None:
    conn_id = bind(monkeypatch, accountview)
    large = order("1", 10, delivery_date="2026-12-01", notes="Before noon", attachments=[
        {"kind": "order_pdf", "file_name": "1.pdf", "description": "Order 1",
         "content_base64": base64.b64encode(PDF).decode()}])
    small, bad = order("2", 2), order("3", 2)
    bad["lines"].append({"item": "NOT-IN-APP4SALES", "quantity": "1", "price": "1.00"})
    load_document(sqlite_engine, {"administrations": [admin("av-batches", conn_id, [large, small, bad],
                                                            OrderLinesBatchCount=4, OrderNoteLabel="Note:")]})
    accountview.lose_write_replies(after=1)  # batch 2 of order 1 is stored, its reply never arrives

    run = export_dag.test()

    assert run.state == "success"
    assert task_states(run)[SEND] == ["success"]
    rows = states(sqlite_engine, "av-batches")
    number = the_order(accountview, large["reference"])
    assert (rows["1"].state, rows["1"].backoffice_order_nr, rows["1"].order_nr) == ("sent", number, number)
    assert rows["1"].destination.endswith(f"/api/v3/accountviewdata (SO1 {number})")
    lines = accountview.lines(number)
    assert [(ln["ROWID"], ln["ART_CODE"], str(ln["ORD_QTY"]), str(ln["ART_PX"])) for ln in lines] == [
        (f"{i:06d}", f"ART{i:02d}", str(i), f"{i}.50") for i in range(1, 11)]  # each line once, in order
    assert writes(accountview, number) == ["POST", "PUT", "PUT"]  # batches of 4, 4, 2; batch 2 not resent
    assert accountview.attachment(number) == PDF  # the PDF, byte for byte
    header = accountview.header(number)
    key = export_state.progress(sqlite_engine, rows["1"].order_id)["key"]  # the order's key, below its notes
    assert (header["LINK_FILE"], header["DOC_DESC"], header["COMMENT2"], header["DEL_DATE"], header["EMP_NR"]) == (
        "1.pdf", "Order 1", f"Note: Before noon\nApp4Sales key {key}", "2026-12-01", "marieke.vb")

    assert rows["2"].state == "sent" and accountview.line_count(the_order(accountview, small["reference"])) == 2
    assert rows["3"].state == "failed" and accountview.order_count(bad["reference"]) == 0
    assert rows["3"].error == ("order 3 (av-batches): OrderLine.Item: line 3 names an item that is not in the "
                               "order database")

    rerun = export_dag.test()
    assert rerun.state == "success"
    assert writes(accountview, number) == ["POST", "PUT", "PUT"]
    assert accountview.order_count(small["reference"]) == 1


def test_a_failure_in_a_middle_batch_then_a_clean_resume_sends_every_line_once(
        export_dag, sqlite_engine, accountview, monkeypatch, capfd) -> None:
    conn_id = bind(monkeypatch, accountview)
    first, second = order("1", 9), order("2", 3)
    load_document(sqlite_engine, {"administrations": [admin("av-resume", conn_id, [first, second],
                                                            OrderLinesBatchCount=3, UnitModule=True)]})
    accountview.fail_writes(after=1, times=3, status=503)  # batch 2 of order 1 fails on every try of this run

    run = export_dag.test()

    assert task_states(run)[SEND] == ["failed"]  # a transient failure: Airflow retries the chunk
    rows = states(sqlite_engine, "av-resume")
    number = the_order(accountview, first["reference"])
    assert rows["1"].state == "failed" and rows["1"].order_nr == number  # the number came with batch 1
    assert "HTTP 503" in rows["1"].error and "gave up after 3 attempts" in rows["1"].error
    assert rows["2"].state == "failed" and "not sent yet" in rows["2"].error  # handed back, untouched
    assert [ln["ART_CODE"] for ln in accountview.lines(number)] == ["ART01", "ART02", "ART03"]
    assert accountview.order_count(second["reference"]) == 0
    assert export_state.progress(sqlite_engine, rows["1"].order_id)["batches"] == 1

    accountview.reset()
    rerun = export_dag.test()

    assert rerun.state == "success" and task_states(rerun)[SEND] == ["success"]
    rows = states(sqlite_engine, "av-resume")
    assert (rows["1"].state, rows["1"].backoffice_order_nr, rows["1"].attempts) == ("sent", number, 2)
    assert the_order(accountview, first["reference"]) == number  # still one AccountView order
    lines = accountview.lines(number)
    assert [ln["ROWID"] for ln in lines] == [f"{i:06d}" for i in range(1, 10)]  # every line exactly once
    assert [str(ln["ORD_QTYU"]) for ln in lines] == [str(i) for i in range(1, 10)]
    assert writes(accountview, number) == ["POST", "PUT", "PUT"]  # the refused tries stored nothing
    assert rows["2"].state == "sent" and accountview.line_count(the_order(accountview, second["reference"])) == 3

    # No secret of the connection, nor any access token issued, in output, stored errors or XCom.
    out, err = capfd.readouterr()
    errors = " ".join(r.error or "" for r in export_state.states(sqlite_engine, administration="av-resume"))
    metadata = sqlite3.connect(Path(os.environ["AIRFLOW_HOME"]) / "airflow.db")
    xcom = " ".join(str(v) for (v,) in metadata.execute("SELECT value FROM xcom WHERE run_id IN (?, ?)",
                                                         (run.run_id, rerun.run_id)))
    metadata.close()
    secrets = [accountview.client_secret, accountview.refresh_token, *accountview.tokens_issued()]
    assert len(secrets) >= 3
    for secret in secrets:
        for where, text in (("output", out + err), ("stored errors", errors), ("xcom", xcom)):
            assert secret not in text, f"a secret reached the {where}"
