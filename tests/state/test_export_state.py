"""Export state and claims on SQLite and PostgreSQL: the rules that keep "exactly once"."""

from __future__ import annotations

import threading
from datetime import timedelta

import sqlalchemy as sa

from backoffice_export import export_state, key_settings
from backoffice_export.db import schema as s
from backoffice_export.document import load_document
from backoffice_export.export_state import ClaimOwner
from tests.helpers import order, reflecta_admin

A = ClaimOwner("send_orders_to_backoffice", "run_a", "reflecta.send_chunk", 0)
B = ClaimOwner("send_orders_to_backoffice", "run_b", "reflecta.send_chunk", 0)


def _load(engine, n: int = 3) -> list[int]:
    orders = [order(str(i)) for i in range(n)]
    load_document(engine, {"administrations": [reflecta_admin("adm", "conn", orders=orders)]})
    with engine.connect() as conn:
        return list(conn.execute(sa.select(s.orders.c.id).order_by(s.orders.c.id)).scalars())


def test_loaded_orders_are_pending(any_engine):
    ids = _load(any_engine)
    assert [r.state for r in export_state.states(any_engine, order_ids=ids)] == ["pending"] * 3
    assert [o for _, _, o in export_state.unsent_order_ids(any_engine)] == ids


def test_a_claimed_order_cannot_be_claimed_by_another_run(any_engine):
    ids = _load(any_engine)
    assert export_state.claim(any_engine, ids[:2], A) == ids[:2]
    assert export_state.claim(any_engine, ids, B) == ids[2:]


def test_the_same_task_instance_takes_its_own_claims_back(any_engine):
    """A retry, or ops clearing the task, resumes the orders its first try held."""
    ids = _load(any_engine)
    export_state.claim(any_engine, ids, A)
    assert export_state.claim(any_engine, ids, A) == ids


def test_sent_orders_are_never_claimed_again(any_engine):
    ids = _load(any_engine)
    export_state.claim(any_engine, ids, A)
    export_state.mark_sent(any_engine, ids[0], A, backoffice_order_nr="1", destination="sftp://x/1.xml")
    assert export_state.claim(any_engine, ids, A) == ids[1:]
    assert export_state.claim(any_engine, [ids[0]], B) == []
    assert ids[0] not in [o for _, _, o in export_state.unsent_order_ids(any_engine)]


def test_an_expired_claim_is_free_again(any_engine):
    ids = _load(any_engine, 1)
    export_state.claim(any_engine, ids, A, ttl=timedelta(seconds=-1))
    assert export_state.claim(any_engine, ids, B) == ids


def test_failed_data_errors_wait_while_transient_ones_retry(any_engine):
    ids = _load(any_engine, 2)
    export_state.claim(any_engine, ids, A)
    export_state.mark_failed(any_engine, ids[0], A, error="order 0 (adm): Item.ExtraData: missing", retryable=False)
    export_state.mark_failed(any_engine, ids[1], A, error="connection refused", retryable=True)
    assert [o for _, _, o in export_state.unsent_order_ids(any_engine)] == [ids[1]]
    rows = {r.order_id: r for r in export_state.states(any_engine, order_ids=ids)}
    assert rows[ids[0]].state == "failed" and "Item.ExtraData" in rows[ids[0]].error
    assert rows[ids[0]].attempts == 1


def test_resend_makes_a_sent_order_pending(any_engine):
    ids = _load(any_engine, 1)
    export_state.claim(any_engine, ids, A)
    export_state.mark_sent(any_engine, ids[0], A, backoffice_order_nr="1", destination="x")
    assert export_state.request_resend(any_engine, ids) == 1
    assert export_state.claim(any_engine, ids, B) == ids


def test_a_resend_starts_a_half_sent_order_over_but_a_reload_keeps_its_progress(any_engine):
    ids = _load(any_engine, 1)
    half = {"order_nr": "10001", "batches": 1, "batch_size": 50, "lines": 120}
    export_state.claim(any_engine, ids, A)
    export_state.save_progress(any_engine, ids[0], half)
    export_state.mark_failed(any_engine, ids[0], A, error="AccountView order 10001 no longer exists", retryable=False)
    export_state.reset_after_reload(any_engine, ids[0])
    assert export_state.progress(any_engine, ids[0]) == half  # a reload alone never forgets what reached the ERP
    assert export_state.request_resend(any_engine, ids) == 1
    assert export_state.progress(any_engine, ids[0]) is None


def test_release_hands_unsent_orders_back_without_counting_an_attempt(any_engine):
    ids = _load(any_engine, 2)
    export_state.claim(any_engine, ids, A)
    export_state.release(any_engine, ids, A, reason="not sent yet: connection lost")
    rows = export_state.states(any_engine, order_ids=ids)
    assert {r.attempts for r in rows} == {0}
    assert export_state.claim(any_engine, ids, B) == ids


def test_reloading_a_failed_order_makes_it_pending_but_a_sent_one_stays_sent(any_engine):
    ids = _load(any_engine, 2)
    export_state.claim(any_engine, ids, A)
    export_state.mark_failed(any_engine, ids[0], A, error="bad", retryable=False)
    export_state.mark_sent(any_engine, ids[1], A, backoffice_order_nr="7", destination="x")
    _load(any_engine, 2)
    assert [r.state for r in export_state.states(any_engine, order_ids=ids)] == ["pending", "sent"]


def test_concurrent_claims_never_overlap(any_engine):
    """Eight workers race for the same 200 orders: every order is claimed exactly once."""
    ids = _load(any_engine, 200)
    results: list[list[int]] = []
    barrier = threading.Barrier(8)

    def worker(n: int) -> None:
        owner = ClaimOwner("d", f"run{n}", "t", 0)
        barrier.wait()
        got = []
        for start in range(0, len(ids), 25):
            got += export_state.claim(any_engine, ids[start:start + 25], owner)
        results.append(got)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = [i for r in results for i in r]
    assert sorted(claimed) == ids


def test_sequence_numbers_are_unique_under_concurrency_and_only_increase(any_engine):
    _load(any_engine, 1)
    drawn: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(25):
            value = key_settings.next_value(any_engine, 1, "Reflecta.LastOrderNr")
            with lock:
                drawn.append(value)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(drawn) == list(range(1, 101))
    assert key_settings.next_value(any_engine, 1, "Reflecta.LastOrderNr", at_least=500) == 500
    assert key_settings.next_value(any_engine, 1, "Reflecta.LastOrderNr") == 501


def test_an_order_database_from_an_earlier_version_gets_the_new_columns(any_engine):
    from backoffice_export.db.engine import create_schema

    with any_engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE export_state DROP COLUMN progress")
        conn.exec_driver_sql("ALTER TABLE export_state DROP COLUMN remark")
    create_schema(any_engine)
    ids = _load(any_engine, 1)
    export_state.save_progress(any_engine, ids[0], {"batches": 1})
    assert export_state.progress(any_engine, ids[0]) == {"batches": 1}
    owner = ClaimOwner("d", "r", "t")
    export_state.claim(any_engine, ids, owner)
    export_state.mark_sent_many(any_engine, owner, [export_state.SentRecord(ids[0], "B1", "dest", remark="noted")])
    assert [row.remark for row in export_state.states(any_engine, order_ids=ids)] == ["noted"]


def test_reloading_a_record_that_has_only_its_code_works(sqlite_engine):
    document = {"administrations": [{"code": "a", "application_name": "A", "connector": "reflecta",
                                     "customers": [{"code": "ONLY-CODE"}], "items": [{"code": "I"}]}]}
    load_document(sqlite_engine, document)
    assert load_document(sqlite_engine, document)["administrations"] == 1
