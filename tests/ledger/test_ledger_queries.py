"""The ledger's query on SQLite and PostgreSQL: filters, pages, dropdown values, task links."""

from __future__ import annotations

from typing import Any

import pytest

from backoffice_export import export_state
from backoffice_export.document import load_document
from backoffice_export.export_state import ClaimOwner
from backoffice_export.ledger.queries import LedgerFilter, filter_options, ledger_page, task_instance_path
from tests.helpers import order, reflecta_admin

DAG = "send_orders_to_backoffice"
RUN = "scheduled__2026-11-20T10:00:00+00:00"
RUN_ENCODED = "scheduled__2026-11-20T10%3A00%3A00%2B00%3A00"
REFLECTA = ClaimOwner(DAG, RUN, "reflecta.send_chunk", 0)
EZXML = ClaimOwner(DAG, RUN, "ezxml.send_chunk", 3)
UNMAPPED = ClaimOwner(DAG, "manual__2026-11-21T08:30:00+00:00", "resend", -1)
XSS_ERROR = "order 1002 (shop-nl): <script>alert('x')</script> Item.ExtraData: missing BackofficeItemCode"


def _admin(code: str, connector: str, numbers: list[str]) -> dict[str, Any]:
    return {**reflecta_admin(code, f"erp_{code}", orders=[order(nr) for nr in numbers]), "connector": connector}


def seed_ledger(engine) -> dict[str, int]:
    """Two administrations, every state once or more; returns order id by App4Sales order nr.

    shop-nl (reflecta): 1001 sent, 1002 failed (an error with markup), 1003 pending.
    shop-be (ezxml):    2001 sent by an unmapped task, 2002 claimed, 2003 sent.
    """
    load_document(engine, {"administrations": [
        _admin("shop-nl", "reflecta", ["1001", "1002", "1003"]),
        _admin("shop-be", "ezxml", ["2001", "2002", "2003"]),
    ]})
    ids = {r.internal_order_nr: r.order_id for r in export_state.states(engine)}
    export_state.claim(engine, [ids["1001"], ids["1002"]], REFLECTA)
    export_state.mark_sent(engine, ids["1001"], REFLECTA, backoffice_order_nr="R-5001",
                           destination="sftp://erp.example/in/ORD1001.xml")
    export_state.mark_failed(engine, ids["1002"], REFLECTA, error=XSS_ERROR, retryable=False)
    export_state.claim(engine, [ids["2001"]], UNMAPPED)
    export_state.mark_sent(engine, ids["2001"], UNMAPPED, backoffice_order_nr="E-7001",
                           destination="https://ezxml.example/orders/E-7001")
    export_state.claim(engine, [ids["2002"], ids["2003"]], EZXML)
    export_state.mark_sent(engine, ids["2003"], EZXML, backoffice_order_nr="E-7003",
                           destination="https://ezxml.example/orders/E-7003")
    return ids


def _nrs(page) -> list[str]:
    return [row.internal_order_nr for row in page.rows]


def test_the_whole_ledger_newest_change_first(any_engine):
    seed_ledger(any_engine)
    page = ledger_page(any_engine)
    assert page.total == 6 and page.pages == 1 and page.page == 1
    # 1003 was never touched after loading; the last change was 2003's.
    assert _nrs(page)[0] == "2003"
    assert _nrs(page)[-1] == "1003"
    by_nr = {row.internal_order_nr: row for row in page.rows}
    sent = by_nr["1001"]
    assert (sent.administration, sent.connector, sent.state, sent.backoffice_order_nr, sent.attempts) == (
        "shop-nl", "reflecta", "sent", "R-5001", 1)
    assert sent.destination == "sftp://erp.example/in/ORD1001.xml" and sent.sent_at is not None
    assert by_nr["1002"].error == XSS_ERROR and by_nr["1002"].sent_at is None
    assert by_nr["1003"].state == "pending" and by_nr["1003"].attempts == 0


@pytest.mark.parametrize(("filters", "expected"), [
    (LedgerFilter(administration="shop-nl"), {"1001", "1002", "1003"}),
    (LedgerFilter(connector="ezxml"), {"2001", "2002", "2003"}),
    (LedgerFilter(state="sent"), {"1001", "2001", "2003"}),
    (LedgerFilter(state="failed"), {"1002"}),
    (LedgerFilter(administration="shop-be", state="sent"), {"2001", "2003"}),
    (LedgerFilter(administration="shop-nl", connector="ezxml"), set()),
    (LedgerFilter(administration="nobody"), set()),
    (LedgerFilter(administration="", connector="", state=""), {"1001", "1002", "1003", "2001", "2002", "2003"}),
])
def test_filters(any_engine, filters, expected):
    seed_ledger(any_engine)
    page = ledger_page(any_engine, filters)
    assert set(_nrs(page)) == expected
    assert page.total == len(expected)


def test_pages_cover_every_row_once_and_a_page_past_the_end_shows_the_last(any_engine):
    load_document(any_engine, {"administrations": [
        _admin("big", "reflecta", [f"{n:04d}" for n in range(7)]),
        _admin("other", "ezxml", ["9999"]),
    ]})
    pages = [ledger_page(any_engine, LedgerFilter(administration="big"), page=n, per_page=3) for n in (1, 2, 3)]
    assert [len(p.rows) for p in pages] == [3, 3, 1]
    assert {p.total for p in pages} == {7} and {p.pages for p in pages} == {3}
    seen = [nr for p in pages for nr in _nrs(p)]
    assert sorted(seen) == [f"{n:04d}" for n in range(7)]
    beyond = ledger_page(any_engine, LedgerFilter(administration="big"), page=99, per_page=3)
    assert beyond.page == 3 and _nrs(beyond) == _nrs(pages[2])
    assert ledger_page(any_engine, page=0, per_page=10_000).per_page == 500


def test_an_empty_ledger_is_one_empty_page(any_engine):
    page = ledger_page(any_engine)
    assert (page.total, page.page, page.pages, page.rows) == (0, 1, 1, [])
    assert filter_options(any_engine).administrations == []


def test_dropdowns_offer_what_the_data_holds(any_engine):
    seed_ledger(any_engine)
    options = filter_options(any_engine)
    assert options.administrations == ["shop-be", "shop-nl"]
    assert options.connectors == ["ezxml", "reflecta"]
    assert options.states == ["pending", "claimed", "sent", "failed"]


def test_each_handled_order_links_to_its_task_instance(any_engine):
    seed_ledger(any_engine)
    by_nr = {row.internal_order_nr: row for row in ledger_page(any_engine).rows}
    assert by_nr["1001"].task_instance_path == f"dags/{DAG}/runs/{RUN_ENCODED}/tasks/reflecta.send_chunk/mapped/0"
    assert by_nr["2002"].task_instance_path == f"dags/{DAG}/runs/{RUN_ENCODED}/tasks/ezxml.send_chunk/mapped/3"
    assert by_nr["2001"].task_instance_path == (
        f"dags/{DAG}/runs/manual__2026-11-21T08%3A30%3A00%2B00%3A00/tasks/resend")
    assert by_nr["1003"].task_instance_path is None


def test_task_instance_path_encodes_every_part():
    assert task_instance_path("d", "r/1 x", "g.t", None) == "dags/d/runs/r%2F1%20x/tasks/g.t"
    assert task_instance_path("d", "r", "t", 12) == "dags/d/runs/r/tasks/t/mapped/12"
    assert task_instance_path("d", None, "t", 0) is None


def mark_waiting_and_remarked(engine, ids: dict[str, int]) -> None:
    """1003 failed for a transient reason (waits for a retry); 2002 sent with the ERP's remark."""
    export_state.claim(engine, [ids["1003"]], REFLECTA)
    export_state.mark_failed(engine, ids["1003"], REFLECTA, error="order 1003 (shop-nl): connection refused",
                             retryable=True)
    export_state.mark_sent_many(engine, EZXML, [export_state.SentRecord(
        ids["2002"], "E-7002", "https://ezxml.example/orders/E-7002", remark=REMARK)])


REMARK = "Spector result 2: Order created; articles not in the register were added as text rows: NEW-1"


def test_transient_and_for_good_failures_show_apart_and_remarks_show(any_engine):
    mark_waiting_and_remarked(any_engine, seed_ledger(any_engine))
    by_nr = {row.internal_order_nr: row for row in ledger_page(any_engine).rows}
    assert (by_nr["1003"].state, by_nr["1002"].state) == ("waiting", "failed")
    assert set(_nrs(ledger_page(any_engine, LedgerFilter(state="failed")))) == {"1002"}
    assert set(_nrs(ledger_page(any_engine, LedgerFilter(state="waiting")))) == {"1003"}
    assert filter_options(any_engine).states == ["sent", "waiting", "failed"]
    assert by_nr["2002"].remark == REMARK and by_nr["2001"].remark is None
