"""Spector end to end: load orders, run the DAG, read back what the Spector emulator received.

Every test posts to an SBM company of its own on the session's emulator, and asserts the
emulator holds exactly one order per App4Sales order that was sent (and none for the others).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from backoffice_export import export_state
from backoffice_export.document import load_document
from tests.e2e.conftest import task_states
from tests.helpers import order

D = Decimal


@pytest.fixture
def spector(sandboxes: Any) -> Iterator[Any]:
    api = sandboxes.apis["spector"]
    api.faults.reset()
    yield api
    api.faults.reset()
    api.unknown_customers.clear()
    api.unknown_articles.clear()


def bind(monkeypatch: pytest.MonkeyPatch, api: Any, **extra: Any) -> tuple[str, str]:
    """A connection to a fresh SBM company of the emulator; returns (connection id, company)."""
    company = api.new_company()
    conn = api.airflow_connection(company)
    conn["extra"].update(extra)
    conn_id = f"spector_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
    return conn_id, company


def spector_admin(code: str, conn_id: str, orders: list[dict[str, Any]],
                  settings: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "code": code, "application_name": code.replace("-", "_"), "connector": "spector", "connection_id": conn_id,
        "default_currency": "EUR", "settings": settings or {},
        "price_lists": [{"code": "SEK-LIST", "currency_iso": "SEK"}],
        "sales_reps": [{"code": "jdv", "user_id": 17, "full_name": "Jan de Vries"}],
        "customers": [
            {"code": "C1", "name": "Boutique Amsterdam", "extra_data": "Key account", "delivery_method": "DHL"},
            {"code": "C2", "name": "Stockholm Mode AB", "price_list_code": "SEK-LIST", "vat_liable": False},
            {"code": "GONE-E2E", "name": "Closed shop"},
        ],
        "items": [
            {"code": "SHIRT", "description": "T-shirt", "vat_percentage": "21", "sales_price": "12.50"},
            {"code": "CAP", "description": "Cap", "vat_percentage": "21", "sales_price": "8.00"},
            {"code": "NEW-E2E", "description": "Not in Spector's register", "vat_percentage": "21"},
            {"code": "NO-NAME", "vat_percentage": "21"},
        ],
        "orders": orders,
    }


def states(engine: Any, admin: str) -> dict[str, export_state.OrderState]:
    return {r.internal_order_nr: r for r in export_state.states(engine, administration=admin)}


def stored(api: Any, company: str, key: str) -> dict[str, Any]:
    [payload] = [o for o in api.orders(company).values() if o["externalOrderNo"] == key]
    return payload


def test_orders_reach_spector_once_with_their_numbers_written_back(
        export_dag: Any, sqlite_engine: Any, sandboxes: Any, spector: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    conn_id, company = bind(monkeypatch, spector)
    spector.unknown_customers.add("GONE-E2E")
    spector.unknown_articles.add("NEW-E2E")
    load_document(sqlite_engine, {"administrations": [spector_admin("spx-main", conn_id, settings={
        "PublishedCommentOnOrder": "Thank you!", "StockSiteID": "3"}, orders=[
        order("1", items=("SHIRT", "CAP"), sales_rep="jdv", notes="Deliver before noon", your_reference="PO-7",
              webshop_discount_percentage="2.5"),
        order("2", customer="C2", items=("NEW-E2E",)),  # Spector's non-fatal result 2
        order("3", customer="GONE-E2E", items=("SHIRT",)),  # Spector's fatal result 20
        order("4", items=("SHIRT", "NO-NAME")),  # refused by validation before sending
        order("5", items=("CAP",)),
    ])]})

    run = export_dag.test()
    assert run.state == "success"
    assert task_states(run)["spector.send_chunk"] == ["success"]  # data errors do not fail the task

    rows = states(sqlite_engine, "spx-main")
    for nr in ("1", "2", "5"):
        assert rows[nr].state == "sent" and spector.order_count(f"spx-main/{nr}", company) == 1
        assert rows[nr].order_nr == rows[nr].backoffice_order_nr  # written back onto the App4Sales order
        assert rows[nr].order_nr in spector.orders(company)
        assert rows[nr].destination == f"{spector.base_url}/api/v2/orders/{rows[nr].order_nr}"
    # Result 2's remark is stored on the order (the ledger shows it); a plain result 1 has none.
    assert rows["2"].remark == ("Spector result 2: Order created; articles not in the register were added as "
                                "text rows: NEW-E2E")
    assert rows["1"].remark is None and rows["5"].remark is None
    assert rows["3"].state == "failed" and rows["3"].order_nr is None
    assert rows["3"].error == ("order 3 (spx-main): Spector did not accept the order (HTTP 200): "
                               "result 20: Customer GONE-E2E not found")
    assert rows["4"].state == "failed"
    assert rows["4"].error == ("order 4 (spx-main): Item.Description: line 2 (item NO-NAME): "
                               "articleName is required but missing")
    assert spector.order_count("spx-main/3", company) == spector.order_count("spx-main/4", company) == 0
    assert len(spector.orders(company)) == 3

    first = stored(spector, company, "spx-main/1")
    assert (first["customerId"], first["currency"], first["customerReference"]) == ("C1", "EUR", "PO-7")
    assert first["internalComment"] == "Key account\nDeliver before noon"
    assert (first["externalDeliveryMethod"], first["publishedComment"]) == ("DHL", "Thank you!")
    assert first["stockSiteId"] == 3
    assert first["ourReferenceUserId"] == 17 and first["orderDate"] == first["deliveryDate"] == "2026-11-20"
    assert [(r["lineNumber"], r["articleNumber"], r["priceExclVAT"], r["numberOfItems"], r["vatPercentage"])
            for r in first["lines"]] == [(1, "SHIRT", D("12.1875"), 2, 21), (2, "CAP", D("12.1875"), 2, 21)]
    second = stored(spector, company, "spx-main/2")
    assert second["currency"] == "SEK" and second["lines"][0]["vatPercentage"] == 0

    rerun = export_dag.test()
    assert rerun.state == "success"
    assert len(spector.orders(company)) == 3
    assert states(sqlite_engine, "spx-main")["3"].attempts == 1  # a refused order waits for a fix
    secrets = (spector.api_key, spector.integration_token)
    errors = " ".join(r.error or "" for r in states(sqlite_engine, "spx-main").values())
    recorded = "".join(p.read_text() for p in spector.root.glob("*.json"))
    assert not [s for s in secrets if s in errors or s in recorded]


def test_5xx_lost_replies_and_errors_after_storing_still_create_each_order_once(
        export_dag: Any, sqlite_engine: Any, spector: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    conn_id, company = bind(monkeypatch, spector)
    load_document(sqlite_engine, {"administrations": [spector_admin("spx-flaky", conn_id, orders=[
        order("1", items=("SHIRT",)), order("2", items=("CAP",)), order("3", items=("SHIRT",))])]})
    # Order 1: 503, then its retry is stored but the reply is lost; order 2: stored, then answered 502.
    spector.faults.fail_next = 1
    spector.faults.lose_reply_after_store = 1
    spector.faults.fail_after_stored = 1

    run = export_dag.test()
    assert task_states(run)["spector.send_chunk"] == ["success"]
    rows = states(sqlite_engine, "spx-flaky")
    assert {nr: r.state for nr, r in rows.items()} == {"1": "sent", "2": "sent", "3": "sent"}
    assert {nr: spector.order_count(f"spx-flaky/{nr}", company) for nr in rows} == {"1": 1, "2": 1, "3": 1}
    assert sorted(r.order_nr for r in rows.values()) == sorted(spector.orders(company))
    assert {r.attempts for r in rows.values()} == {1}  # recovered inside the run, no rerun needed


def test_a_slow_reply_past_the_timeout_is_not_sent_twice_by_the_next_run(
        export_dag: Any, sqlite_engine: Any, spector: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    conn_id, company = bind(monkeypatch, spector, timeout=0.5)
    load_document(sqlite_engine, {"administrations": [spector_admin("spx-slow", conn_id, orders=[
        order("1", items=("SHIRT",)), order("2", items=("CAP",))])]})
    spector.faults.delay_seconds = 1.5

    run = export_dag.test()
    assert task_states(run)["spector.send_chunk"] == ["failed"]  # Airflow retries it with backoff
    rows = states(sqlite_engine, "spx-slow")
    assert rows["1"].state == rows["2"].state == "failed"
    assert "timed out after 0.5 s" in rows["1"].error and "not sent yet" in rows["2"].error
    deadline = time.monotonic() + 10
    while spector.order_count("spx-slow/1", company) == 0 and time.monotonic() < deadline:
        time.sleep(0.1)  # Spector stores the slow POST after the client gave up on it
    assert spector.order_count("spx-slow/1", company) == 1
    spector.faults.reset()

    run = export_dag.test()
    assert task_states(run)["spector.send_chunk"] == ["success"]
    rows = states(sqlite_engine, "spx-slow")
    assert rows["1"].state == rows["2"].state == "sent"
    assert spector.order_count("spx-slow/1", company) == spector.order_count("spx-slow/2", company) == 1
    assert rows["1"].order_nr == next(iter(spector.orders(company)))  # the one the slow POST created
    assert rows["1"].attempts == 2


def test_refused_credentials_then_an_erp_outage_leave_orders_for_later_and_nothing_twice(
        export_dag: Any, sqlite_engine: Any, spector: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    conn_id, company = bind(monkeypatch, spector)
    load_document(sqlite_engine, {"administrations": [spector_admin("spx-auth", conn_id, orders=[
        order("1", items=("SHIRT",)), order("2", items=("CAP",))])]})

    spector.faults.reject_auth = True
    run = export_dag.test()
    assert task_states(run)["spector.send_chunk"] == ["failed"]
    rows = states(sqlite_engine, "spx-auth")
    assert "Spector refused the credentials" in rows["1"].error and "HTTP 401" in rows["1"].error
    assert spector.api_key not in rows["1"].error and spector.integration_token not in rows["1"].error
    assert [o for _, _, o in export_state.unsent_order_ids(sqlite_engine)] == [r.order_id for r in rows.values()]

    spector.faults.reset()
    spector.faults.fail_next = 50  # Spector is down: the POST and the look-up both get 503
    run = export_dag.test()
    assert task_states(run)["spector.send_chunk"] == ["failed"]
    assert "HTTP 503" in states(sqlite_engine, "spx-auth")["1"].error
    assert len(spector.orders(company)) == 0

    spector.faults.reset()
    run = export_dag.test()
    assert task_states(run)["spector.send_chunk"] == ["success"]
    rows = states(sqlite_engine, "spx-auth")
    assert {r.state for r in rows.values()} == {"sent"}
    assert spector.order_count("spx-auth/1", company) == spector.order_count("spx-auth/2", company) == 1
