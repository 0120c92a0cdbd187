"""Order identity at Spector and StyleMan: two administrations that share one ERP, lost replies.

Two administrations with the same App4Sales order numbers send to one Spector company / one
StyleMan. Every order's content (customer, lines) is its own, so what the emulator holds can be
compared with the order document: an order stored as sent must be held exactly once *as that
order* under the number stored (``misattributed`` counts those that are not). A reply is lost at
every position of a chunk in turn. Expect 0 lost, 0 duplicated, 0 misattributed.

Black-box: order documents in, ``export.send_chunk`` as the DAG's chunk task runs it, then the
emulator's orders read back; nothing here knows how the connectors build their keys.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from backoffice_export import export, export_state
from backoffice_export.db import schema
from backoffice_export.document import load_document
from backoffice_export.export_state import ClaimOwner
from backoffice_export.resend import resend
from tests.faults.conftest import FaultOutcome

ORDERS = 4  # per administration: a lost reply is tried at each position of its chunk
PRICE = Decimal("12.50")
OWNER = ClaimOwner("send_orders_to_backoffice", "identity", "send_chunk", 0)
Content = tuple[str, tuple[tuple[str, Decimal, Decimal], ...]]


def _document(connector: str, conn_id: str) -> dict[str, Any]:
    """Two administrations with order numbers 1001..; every order's customer and lines its own."""
    admins = []
    for index in range(2):
        code = f"{connector[:3]}-{'ab'[index]}-{uuid.uuid4().hex[:6]}"
        orders = []
        for n in range(ORDERS):
            orders.append({
                "internal_order_nr": str(1001 + n), "guid": str(uuid.uuid4()), "customer": f"C{index + 1}",
                "sales_rep": "rep", "order_date": "2026-11-20T10:00:00",
                "lines": [{"item": "SHIRT", "quantity": str(1 + n + 10 * index), "price": str(PRICE)},
                          {"item": "CAP", "quantity": str(1 + index), "price": str(PRICE)}],
            })
        admins.append({
            "code": code, "application_name": code.replace("-", "_"), "connector": connector,
            "connection_id": conn_id, "default_currency": "EUR", "settings": {},
            "sales_reps": [{"code": "rep", "user_id": 7, "user_name": "rep"}],
            "customers": [{"code": "C1", "name": "Boutique", "guid": "0b5e1c9e-1f0e-4c2b-9a57-3f1c2d4e5f60"},
                          {"code": "C2", "name": "Magasin", "guid": "6f1d2c3b-4a59-4e8d-9c7b-0a1b2c3d4e5f"}],
            "items": [{"code": "SHIRT", "description": "T-shirt", "vat_percentage": "21", "sales_price": "12.50"},
                      {"code": "CAP", "description": "Cap", "vat_percentage": "21", "sales_price": "12.50"}],
            "orders": orders,
        })
    return {"administrations": admins}


def _content_of_document(order: dict[str, Any]) -> Content:
    return order["customer"], tuple((line["item"], Decimal(line["quantity"]), Decimal(line["price"]))
                                    for line in order["lines"])


class _Erp:
    """What one emulated ERP holds for this test, as (ERP number, content) pairs."""

    def __init__(self, connector: str, api: Any, company: str | None, document: dict[str, Any]) -> None:
        self.connector, self.api, self.company, self.document = connector, api, company, document

    def held(self) -> list[tuple[str, Content]]:
        if self.connector == "spector":
            return [(number, (o["customerId"], tuple((line["articleNumber"], Decimal(str(line["numberOfItems"])),
                                                      Decimal(str(line["priceExclVAT"]))) for line in o["lines"])))
                    for number, o in self.api.orders(self.company).items()]
        found: dict[str, tuple[str, Content]] = {}
        for admin in self.document["administrations"]:
            for order in admin["orders"]:
                for o in self.api.orders_for(order["guid"]):
                    content = (o["CustomerCode"], tuple((line["ItemCode"], Decimal(str(line["Quantity"])),
                                                         Decimal(str(line["PriceExcl"]))) for line in o["Lines"]))
                    assert Decimal(str(o["SubTotal"])) == sum(q * p for _, q, p in content[1])  # totals add up
                    found[o["Number"]] = (o["Number"], content)
        return list(found.values())


def _judge(engine: Any, erp: _Erp, *, for_review: set[tuple[str, str]] = frozenset()) -> tuple[int, int, int, int]:
    """(lost, duplicated, inconsistent, misattributed) over every order of the document.

    ``for_review``: (administration, number) pairs that must fail for review, with a stored
    reason, instead of being sent; any other order not sent counts as lost.
    """
    held = erp.held()
    t = schema.export_state
    with engine.connect() as conn:
        retryable = dict(conn.execute(sa.select(t.c.order_id, t.c.retryable)).all())
    lost = duplicated = inconsistent = misattributed = 0
    for admin in erp.document["administrations"]:
        rows = {r.internal_order_nr: r for r in export_state.states(engine, administration=admin["code"])}
        for order in admin["orders"]:
            row = rows[order["internal_order_nr"]]
            numbers = [number for number, content in held if content == _content_of_document(order)]
            duplicated += max(0, len(numbers) - 1)
            inconsistent += (row.state == "sent") != (len(numbers) == 1)
            if row.state == "sent":
                misattributed += numbers != [row.backoffice_order_nr] or row.order_nr != row.backoffice_order_nr
            elif not ((admin["code"], order["internal_order_nr"]) in for_review
                      and row.state == "failed" and not retryable[row.order_id] and row.error):
                lost += 1
    return lost, duplicated, inconsistent, misattributed


def _run(engine: Any, lose_at: int | None, api: Any, *, then_down: bool = False, max_runs: int = 3) -> int:
    """Every chunk of the plan, as the DAG's chunk tasks run them, until nothing is left to send.

    ``lose_at``: in every chunk, the reply to the ``lose_at``-th request that stores an order is
    lost after the ERP stored it (the client sees the connection close); ``then_down``: and the
    ERP answers 503 to everything after it.
    """
    stores = {"n": 0}
    handle = api.handle

    def counting(request: Any) -> Any:
        response = handle(request)
        if response.stored:
            stores["n"] += 1
            if stores["n"] == lose_at:
                api.faults.lose_reply_after_store = 1
                api.faults.fail_next = 1000 if then_down else 0
        return response

    api.handle = counting
    try:
        for runs in range(1, max_runs + 1):
            for chunk in export.plan_chunks(engine, 100)[api.name]:
                stores["n"] = 0
                export.send_chunk(engine, chunk["ids"], OWNER)
            if not export_state.unsent_order_ids(engine):
                return runs
        return runs
    finally:
        del api.handle  # the emulator's own again


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    from backoffice_export.transport import http_api

    monkeypatch.setattr(http_api.time, "sleep", lambda seconds: None)


@pytest.fixture
def erp(sandboxes: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], tuple[Any, str | None, str]]]:
    """(api, company or None, connection id) for a connector: a Spector company of the test's own."""
    used = []

    def make(connector: str) -> tuple[Any, str | None, str]:
        api = sandboxes.apis[connector]
        used.append(api)
        api.faults.reset()
        company = api.new_company() if connector == "spector" else None
        conn = api.airflow_connection(company) if company else api.airflow_connection()
        conn_id = f"id_{connector}_{uuid.uuid4().hex[:6]}"
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
        return api, company, conn_id

    yield make
    for api in used:
        api.faults.reset()


POSITIONS = [None, *range(1, ORDERS + 1)]


@pytest.mark.parametrize("connector", ["spector", "styleman"])
@pytest.mark.parametrize("lose_at", POSITIONS, ids=["no fault", *(f"reply lost at {p}" for p in POSITIONS[1:])])
def test_two_administrations_with_the_same_numbers_share_one_erp(
        connector, lose_at, erp, sqlite_engine, no_backoff, fault_ledger) -> None:
    api, company, conn_id = erp(connector)
    document = _document(connector, conn_id)
    load_document(sqlite_engine, document)
    runs = _run(sqlite_engine, lose_at, api)
    judged = _judge(sqlite_engine, _Erp(connector, api, company, document))
    fault = "same numbers in 2 admins" + (f", reply lost at {lose_at}" if lose_at else "")
    fault_ledger.append(FaultOutcome(connector, fault, 2 if lose_at else 0, 2 * ORDERS, *judged[:3], runs,
                                     misattributed=judged[3]))
    rows = [(r.administration, r.internal_order_nr, r.state, r.backoffice_order_nr, r.error)
            for r in export_state.states(sqlite_engine)]
    assert judged == (0, 0, 0, 0), rows


def test_styleman_orders_copied_into_another_administration_are_not_taken_for_each_other(
        erp, sqlite_engine, no_backoff, fault_ledger) -> None:
    """The second administration's orders carry the first one's GUIDs (OrderID), other content.

    With ``ValidateOrderBeforeSending`` StyleMan is asked for each OrderID first: it holds the
    first administration's order, which is not this one, so the order fails for review with a
    message naming it, the OrderID and what differs; nothing is marked sent under another
    order's number.
    """
    api, _, conn_id = erp("styleman")
    document = _document("styleman", conn_id)
    original, copy = document["administrations"]
    for theirs, ours in zip(original["orders"], copy["orders"], strict=True):
        ours["guid"] = theirs["guid"]
    for admin in document["administrations"]:
        admin["settings"] = {"ValidateOrderBeforeSending": True}
    load_document(sqlite_engine, document)
    runs = _run(sqlite_engine, None, api)
    review = {(copy["code"], o["internal_order_nr"]) for o in copy["orders"]}
    judged = _judge(sqlite_engine, _Erp("styleman", api, None, document), for_review=review)
    fault_ledger.append(FaultOutcome("styleman", "same OrderIDs in 2 admins, other content", 0,
                                     2 * ORDERS, *judged[:3], runs, misattributed=judged[3]))
    rows = {r.internal_order_nr: r for r in export_state.states(sqlite_engine, administration=copy["code"])}
    assert judged == (0, 0, 0, 0), [(r.state, r.backoffice_order_nr, r.error) for r in rows.values()]
    order = copy["orders"][0]
    error = rows[order["internal_order_nr"]].error
    assert error.startswith(f"order 1001 ({copy['code']}): ")
    assert order["guid"] in error and "CustomerCode" in error and "not this order" in error


@pytest.mark.parametrize("connector", ["spector", "styleman"])
def test_an_order_changed_after_a_lost_reply_is_not_taken_for_the_one_the_erp_holds(
        connector, erp, sqlite_engine, no_backoff, fault_ledger) -> None:
    """A reply is lost and the ERP goes down; the order is then fixed and reloaded before the retry.

    The retry looks the order up first and finds the old version under the same key: that is not
    this order, so it fails for review rather than being stored as sent under the old one's number.
    """
    api, company, conn_id = erp(connector)
    document = _document(connector, conn_id)
    load_document(sqlite_engine, document)
    _run(sqlite_engine, 2, api, then_down=True, max_runs=1)
    api.faults.reset()
    admin = document["administrations"][0]
    changed = admin["orders"][1]
    assert [r.state for r in export_state.states(sqlite_engine, administration=admin["code"])
            if r.internal_order_nr == changed["internal_order_nr"]] == ["failed"]
    changed["lines"][0]["quantity"] = "7"  # fixed in App4Sales, exported and reloaded
    load_document(sqlite_engine, {"administrations": [admin]})
    runs = 1 + _run(sqlite_engine, None, api)
    judged = _judge(sqlite_engine, _Erp(connector, api, company, document),
                    for_review={(admin["code"], changed["internal_order_nr"])})
    fault_ledger.append(FaultOutcome(connector, "reply lost, order changed before the retry", 2, 2 * ORDERS,
                                     *judged[:3], runs, misattributed=judged[3]))
    rows = {(r.administration, r.internal_order_nr): r for r in export_state.states(sqlite_engine)}
    assert judged == (0, 0, 0, 0), [(k, r.state, r.backoffice_order_nr, r.error) for k, r in rows.items()]
    error = rows[(admin["code"], changed["internal_order_nr"])].error
    assert "but it is not this order" in error and "7 here" in error and "Not marked sent" in error


@pytest.mark.parametrize("connector", ["spector", "styleman"])
def test_resending_an_order_the_erp_holds_records_it_again_without_a_second_order(
        connector, erp, sqlite_engine, no_backoff, fault_ledger) -> None:
    api, company, conn_id = erp(connector)
    document = _document(connector, conn_id)
    load_document(sqlite_engine, document)
    _run(sqlite_engine, None, api)
    admin = document["administrations"][1]
    before = {r.internal_order_nr: r.backoffice_order_nr
              for r in export_state.states(sqlite_engine, administration=admin["code"])}
    results = resend(sqlite_engine, admin["code"], ["1001", "1002"], OWNER)
    assert [r.outcome.split(" -> ")[0] for r in results] == [
        f"already at the ERP as {before['1001']}", f"already at the ERP as {before['1002']}"]
    judged = _judge(sqlite_engine, _Erp(connector, api, company, document))
    fault_ledger.append(FaultOutcome(connector, "resend of orders the ERP holds", 0, 2 * ORDERS, *judged[:3], 2,
                                     misattributed=judged[3]))
    assert judged == (0, 0, 0, 0)
