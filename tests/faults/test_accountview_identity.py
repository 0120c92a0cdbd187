"""AccountView identity: orders that AccountView cannot tell apart by customer and time.

Orders without a reference, all of one customer, each with content of its own (its quantity),
go through ``export.send_chunk`` against the AccountView emulator, with one lost reply placed
at every position of the run: a 503 before AccountView stored the order, a 503 after it stored
it, and a reply cut after storing. Then two administrations with the same order numbers share
one AccountView company. Every order is then audited by content, not by count: the AccountView
order stored as its number must hold this order's customer, items, quantities and prices, and
no other AccountView order may hold them (``misattributed``). Expect 0 of everything.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from backoffice_export import export_state
from backoffice_export.connectors.accountview import delivery
from backoffice_export.db import schema as s
from backoffice_export.document import load_document
from backoffice_export.export import send_chunk
from backoffice_export.export_state import ClaimOwner
from backoffice_export.resend import resend
from erp_sandbox.accountview_api import Api
from tests.faults.conftest import FaultOutcome

ORDERS = 6
CHUNK = 3  # two chunks (two sessions) per run, as the DAG cuts them


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with Api(tmp_path_factory.mktemp("erp")) as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def _quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delivery, "BACKOFF_SECONDS", 0.01)


@pytest.fixture
def conn_id(api: Api, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    conn_id = f"av_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(api.airflow_connection()))
    api.reset()
    yield conn_id
    api.reset()
    api.fail_writes(times=0)


def administration(code: str, conn_id: str, customer: str, *, lines: int = 1, quantity_base: int = 0,
                   orders: int = ORDERS, **settings: Any) -> dict[str, Any]:
    """Orders ``1`` .. ``orders`` of one customer, without reference; order *i* orders quantity
    ``quantity_base + i`` of every item, so its content is its own."""
    return {
        "code": code, "application_name": "shop", "connector": "accountview", "connection_id": conn_id,
        "settings": settings, "customers": [{"code": customer, "name": "Herenmode Jansen"}],
        "items": [{"code": f"ART{n}", "description": f"Article {n}"} for n in range(1, lines + 1)],
        "orders": [{"internal_order_nr": str(i), "customer": customer, "order_date": "2026-11-20T10:00:00",
                    "lines": [{"item": f"ART{n}", "quantity": str(quantity_base + i), "price": f"{n}.25"}
                              for n in range(1, lines + 1)]}
                   for i in range(1, orders + 1)],
    }


def order_ids(engine: sa.Engine, code: str) -> list[int]:
    o, a = s.orders, s.administrations
    with engine.connect() as conn:
        return list(conn.execute(sa.select(o.c.id).join(a, a.c.id == o.c.administration_id)
                                 .where(a.c.code == code).order_by(o.c.id)).scalars())


def run(engine: sa.Engine, ids: list[int], name: str, chunk: int = CHUNK) -> None:
    """One export run over ``ids``: chunks of ``chunk``, each its own session, as the DAG maps them."""
    for start in range(0, len(ids), chunk):
        send_chunk(engine, ids[start:start + chunk], ClaimOwner("identity", name, "send", start // chunk))


def settle(engine: sa.Engine, max_runs: int = 4) -> int:
    for runs in range(1, max_runs + 1):
        waiting = [order_id for _, _, order_id in export_state.unsent_order_ids(engine)]
        if not waiting:
            return runs - 1
        run(engine, waiting, f"retry-{runs}")
    return max_runs


def content(customer: str, lines: list[tuple[str, Any, Any]]) -> tuple[Any, ...]:
    return (customer, tuple((code, Decimal(str(qty)), Decimal(str(price))) for code, qty, price in lines))


@dataclass
class Audit:
    lost: int = 0
    duplicated: int = 0
    misattributed: int = 0
    stray: int = 0  # AccountView orders of these customers that are no App4Sales order (lines mixed up)


def audit(api: Api, engine: sa.Engine, documents: list[dict[str, Any]]) -> Audit:
    """Each App4Sales order against what AccountView holds, by content."""
    customers = {d["customers"][0]["code"] for d in documents}
    held: dict[str, tuple[Any, ...]] = {}
    for av in api.orders():
        header = av["header"]
        if header.get("RPL_INV") in customers:
            held[header["ORD_NR"]] = content(header["RPL_INV"], [(line["ART_CODE"], line.get("ORD_QTY"),
                                                                   line.get("ART_PX")) for line in av["lines"]])
    result = Audit()
    wanted: set[tuple[Any, ...]] = set()
    for document in documents:
        states = {r.internal_order_nr: r for r in export_state.states(engine, administration=document["code"])}
        for order in document["orders"]:
            mine = content(order["customer"], [(line["item"], line["quantity"], line["price"])
                                               for line in order["lines"]])
            wanted.add(mine)
            holding = [number for number, value in held.items() if value == mine]
            row = states[order["internal_order_nr"]]
            result.duplicated += max(0, len(holding) - 1)
            if row.state != export_state.SENT:
                result.lost += 1
            elif holding != [row.backoffice_order_nr]:
                result.misattributed += 1
    result.stray = sum(1 for value in held.values() if value not in wanted)
    return result


FAULTS = {
    "503 before store": lambda api: api.fail_writes(times=1, status=503),
    "503 after store": lambda api: setattr(api.faults, "fail_after_stored", 1),
    "reply cut after store": lambda api: api.lose_write_replies(times=1),
}


def _scenario(api: Api, engine: sa.Engine, conn_id: str, fault: str, position: int, *, lines: int = 1,
              **settings: Any) -> tuple[Audit, int, list[dict[str, Any]]]:
    """Orders ``1 .. position`` go in a run of their own; then the fault is set, so it hits order
    ``position + 1``, and the rest go (chunks of ``CHUNK``); then the runs settle."""
    document = administration(f"id-{uuid.uuid4().hex[:6]}", conn_id, f"D{uuid.uuid4().hex[:8]}", lines=lines,
                              **settings)
    load_document(engine, {"administrations": [document]})
    ids = order_ids(engine, document["code"])
    run(engine, ids[:position], "before")
    FAULTS[fault](api)
    run(engine, ids[position:], "faulty")
    api.reset()
    api.fail_writes(times=0)
    runs = 1 + settle(engine)
    return audit(api, engine, [document]), runs, [document]


@pytest.mark.parametrize("position", range(ORDERS))
@pytest.mark.parametrize("fault", list(FAULTS))
def test_orders_without_reference_of_one_customer_with_a_lost_reply_at_every_position(
        api: Api, sqlite_engine: sa.Engine, conn_id: str, fault: str, position: int,
        fault_ledger: list[FaultOutcome]) -> None:
    found, runs, _ = _scenario(api, sqlite_engine, conn_id, fault, position)
    fault_ledger.append(FaultOutcome("accountview", f"no reference: {fault}, order {position + 1}", 1, ORDERS,
                                     found.lost, found.duplicated, found.stray, runs, found.misattributed))
    assert found == Audit(), [(r.internal_order_nr, r.state, r.backoffice_order_nr, r.error)
                              for r in export_state.states(sqlite_engine)]


def test_three_hundred_one_line_orders_of_one_customer_and_one_503(
        api: Api, sqlite_engine: sa.Engine, conn_id: str, fault_ledger: list[FaultOutcome]) -> None:
    """The issue's own figure: chunks of 100, the first order of the second chunk meets a 503."""
    document = administration(f"id-{uuid.uuid4().hex[:6]}", conn_id, f"D{uuid.uuid4().hex[:8]}", orders=300)
    load_document(sqlite_engine, {"administrations": [document]})
    ids = order_ids(sqlite_engine, document["code"])
    run(sqlite_engine, ids[:100], "first", chunk=100)
    FAULTS["503 before store"](api)
    run(sqlite_engine, ids[100:], "rest", chunk=100)
    api.fail_writes(times=0)
    runs = 1 + settle(sqlite_engine)
    found = audit(api, sqlite_engine, [document])
    fault_ledger.append(FaultOutcome("accountview", "no reference: 300 orders, 503 at order 101", 1, 300, found.lost,
                                     found.duplicated, found.stray, runs, found.misattributed))
    assert found == Audit()


@pytest.mark.parametrize("fault", list(FAULTS))
def test_batched_orders_without_reference_with_a_lost_reply_never_get_lines_of_another(
        api: Api, sqlite_engine: sa.Engine, conn_id: str, fault: str, fault_ledger: list[FaultOutcome]) -> None:
    found, runs, _ = _scenario(api, sqlite_engine, conn_id, fault, CHUNK, lines=3, OrderLinesBatchCount=1)
    fault_ledger.append(FaultOutcome("accountview", f"3 batches: {fault}, order {CHUNK + 1}", 1,
                                     ORDERS, found.lost, found.duplicated, found.stray, runs, found.misattributed))
    assert found == Audit(), [(r.internal_order_nr, r.state, r.backoffice_order_nr, r.error)
                              for r in export_state.states(sqlite_engine)]


@pytest.mark.parametrize("fault", list(FAULTS))
def test_two_administrations_with_the_same_order_numbers_share_one_company(
        api: Api, sqlite_engine: sa.Engine, conn_id: str, fault: str, fault_ledger: list[FaultOutcome]) -> None:
    customer = f"D{uuid.uuid4().hex[:8]}"  # one debtor of the shared company, ordering through both
    first = administration(f"id-a-{uuid.uuid4().hex[:6]}", conn_id, customer)
    second = administration(f"id-b-{uuid.uuid4().hex[:6]}", conn_id, customer, quantity_base=100)
    load_document(sqlite_engine, {"administrations": [first, second]})
    run(sqlite_engine, order_ids(sqlite_engine, first["code"]), "first")
    FAULTS[fault](api)
    run(sqlite_engine, order_ids(sqlite_engine, second["code"]), "second")
    api.reset()
    api.fail_writes(times=0)
    runs = 1 + settle(sqlite_engine)
    found = audit(api, sqlite_engine, [first, second])
    fault_ledger.append(FaultOutcome("accountview", f"two admins, same nrs: {fault}", 1, 2 * ORDERS,
                                     found.lost, found.duplicated, found.stray, runs, found.misattributed))
    assert found == Audit(), [(r.administration, r.internal_order_nr, r.state, r.backoffice_order_nr, r.error)
                              for r in export_state.states(sqlite_engine)]


def dutch_now() -> str:
    return datetime.now(ZoneInfo("Europe/Amsterdam")).strftime("%Y-%m-%dT%H:%M:%S")


def test_every_order_date_is_the_moment_it_was_sent_never_ahead_of_the_clock(
        api: Api, sqlite_engine: sa.Engine, conn_id: str) -> None:
    document = administration(f"id-{uuid.uuid4().hex[:6]}", conn_id, f"D{uuid.uuid4().hex[:8]}", orders=12)
    load_document(sqlite_engine, {"administrations": [document]})
    before = dutch_now()
    run(sqlite_engine, order_ids(sqlite_engine, document["code"]), "dates")
    after = dutch_now()
    customer = document["customers"][0]["code"]
    stamps = [o["header"]["ORD_DATE"] for o in api.orders() if o["header"]["RPL_INV"] == customer]
    assert len(stamps) == 12
    assert all(before <= stamp <= after for stamp in stamps), (before, sorted(stamps), after)


def test_an_order_whose_accountview_order_vanished_mid_way_starts_over_on_resend(
        api: Api, sqlite_engine: sa.Engine, conn_id: str) -> None:
    document = administration(f"id-{uuid.uuid4().hex[:6]}", conn_id, f"D{uuid.uuid4().hex[:8]}", orders=1,
                              lines=3, OrderLinesBatchCount=1)
    load_document(sqlite_engine, {"administrations": [document]})
    ids = order_ids(sqlite_engine, document["code"])
    api.fail_writes(after=1, times=3, status=503)  # batch 2 fails: the order waits with batch 1 in AccountView
    run(sqlite_engine, ids, "first")
    api.fail_writes(times=0)
    (row,) = export_state.states(sqlite_engine, administration=document["code"])
    assert row.state == export_state.FAILED and row.order_nr is not None
    api.delete_order(row.order_nr)  # someone removes the half order in AccountView

    run(sqlite_engine, ids, "second")
    (row,) = export_state.states(sqlite_engine, administration=document["code"])
    assert (row.state, row.error is not None) == (export_state.FAILED, True)
    assert f"AccountView order {row.order_nr} no longer exists" in row.error and "resend_orders" in row.error

    results = resend(sqlite_engine, document["code"], ["1"], ClaimOwner("resend_orders", "manual", "resend"))
    assert [r.outcome.split(" ")[0] for r in results] == ["sent"], results
    assert audit(api, sqlite_engine, [document]) == Audit()
    (row,) = export_state.states(sqlite_engine, administration=document["code"])
    assert api.line_count(row.backoffice_order_nr) == 3
