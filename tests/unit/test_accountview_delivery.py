"""AccountView delivery against the loopback emulator: batches, resume, lost replies, refusals, secrets.

Each test loads its orders into a fresh SQLite order database (so export state and progress are
real) and sends them with the connector's own session, as the export runner does.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa

from backoffice_export import export_state, repository
from backoffice_export.connectors import get_connector
from backoffice_export.connectors.accountview import delivery
from backoffice_export.db import schema as s
from backoffice_export.document import load_document
from backoffice_export.errors import ConnectionLost, DeliveryError, OrderDataError, SettingsError
from backoffice_export.export_state import ClaimOwner
from backoffice_export.model import Order
from erp_sandbox.accountview_api import Api

CLOCK = datetime(2024, 3, 20, 14, 5, 9)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with Api(tmp_path_factory.mktemp("erp")) as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def _no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delivery, "BACKOFF_SECONDS", 0.01)


@dataclass
class Shop:
    api: Api
    engine: sa.Engine
    conn_id: str
    code: str

    def load(self, orders: list[dict[str, Any]], **settings: Any) -> None:
        items = [{"code": f"ART{i}", "description": f"Article {i}"} for i in range(1, 13)]
        load_document(self.engine, {"administrations": [{
            "code": self.code, "application_name": "shop", "connector": "accountview", "connection_id": self.conn_id,
            "settings": settings, "customers": [{"code": "20010", "name": "Herenmode Jansen"}], "items": items,
            "orders": orders}]})

    def orders(self) -> list[Order]:
        with self.engine.connect() as conn:
            ids = conn.execute(sa.select(s.orders.c.id).order_by(s.orders.c.id)).scalars().all()
        return repository.load_orders(self.engine, ids)

    def order(self, internal_nr: str) -> Order:
        return next(o for o in self.orders() if o.internal_order_nr == internal_nr)

    def send(self, internal_nr: str, *, clock: Any = None) -> Any:
        order = self.order(internal_nr)
        connector = get_connector("accountview")
        assert connector is not None
        settings = connector.parse_settings(order.administration.settings)
        with connector.open_session(order.administration, settings, self.engine) as session:
            if clock is not None:
                session.clock = clock
            sent = session.send(order)
        # What the runner stores with the sent state (the state itself stays claimed here, so
        # sending again acts as a retry, not as a deliberate resend).
        if sent.progress is not None:
            export_state.save_progress(self.engine, order.id, sent.progress)
        repository.set_order_nr(self.engine, order.id, sent.write_back_order_nr)
        return sent

    def progress(self, internal_nr: str) -> dict[str, Any] | None:
        return export_state.progress(self.engine, self.order(internal_nr).id)


@pytest.fixture
def shop(api: Api, sqlite_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Shop]:
    conn_id = f"av_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(api.airflow_connection()))
    api.reset()
    yield Shop(api, sqlite_engine, conn_id, f"adm-{uuid.uuid4().hex[:6]}")
    api.reset()


def ref() -> str:
    return f"REF-{uuid.uuid4().hex[:10]}"


def order(nr: str, reference: str, lines: int, *, customer: str = "20010", **extra: Any) -> dict[str, Any]:
    return {"internal_order_nr": nr, "customer": customer, "order_date": "2024-03-15T09:30:00",
            "reference": reference, **extra,
            "lines": [{"item": f"ART{i}", "quantity": str(i), "price": "10.00"} for i in range(1, lines + 1)]}


def arrived(api: Api, reference: str) -> list[str]:
    """The item codes AccountView holds for the order with this reference, in the order they came."""
    numbers = api.numbers_for(reference)
    assert len(numbers) == 1, f"{len(numbers)} AccountView orders carry {reference}"
    return [line["ART_CODE"] for line in api.lines(numbers[0])]


def writes(api: Api, number: str) -> list[str]:
    return [p.name.split("-")[1] for p in sorted(api.root.glob(f"*-SO1-{number}.json"))]


ALL_SEVEN = [f"ART{i}" for i in range(1, 8)]


# ===== Batching (OrderLinesBatchCount) ===========================================================================

def test_without_batch_count_the_whole_order_goes_in_one_post(shop: Shop) -> None:
    reference = ref()
    shop.load([order("1", reference, 7)])
    sent = shop.send("1")
    assert arrived(shop.api, reference) == ALL_SEVEN
    assert writes(shop.api, sent.backoffice_order_nr) == ["POST"]
    assert sent.destination.endswith(f"/api/v3/accountviewdata (SO1 {sent.backoffice_order_nr})")
    assert shop.order("1").order_nr == sent.backoffice_order_nr  # written back


def test_a_large_order_goes_in_batches_the_first_creating_the_order(shop: Shop) -> None:
    reference = ref()
    shop.load([order("1", reference, 7)], OrderLinesBatchCount=3)
    sent = shop.send("1")
    number = sent.backoffice_order_nr
    assert writes(shop.api, number) == ["POST", "PUT", "PUT"]
    assert arrived(shop.api, reference) == ALL_SEVEN
    assert [line["ROWID"] for line in shop.api.lines(number)] == [f"{i:06d}" for i in range(1, 8)]
    progress = shop.progress("1")
    assert progress == {"batch_size": 3, "batches": 3, "complete": True, "in_flight": None, "lines": 7,
                        "ord_date": progress["ord_date"], "key": progress["key"], "order_nr": number}
    assert re.fullmatch(r"[0-9a-f]{32}", progress["key"])
    assert shop.api.header(number)["COMMENT2"] == f"App4Sales key {progress['key']}"


def test_batch_count_equal_to_the_line_count_is_one_request(shop: Shop) -> None:
    shop.load([order("1", ref(), 3)], OrderLinesBatchCount=3)
    assert writes(shop.api, shop.send("1").backoffice_order_nr) == ["POST"]


def test_no_order_number_in_the_first_reply_sends_nothing_more(shop: Shop) -> None:
    reference = ref()
    shop.load([order("1", reference, 7)], OrderLinesBatchCount=3)
    shop.api.reply_without_number = 1
    with pytest.raises(DeliveryError) as caught:
        shop.send("1")
    assert str(caught.value) == delivery.NO_NUMBER and caught.value.retryable is False
    assert arrived(shop.api, reference) == ["ART1", "ART2", "ART3"]  # no PUT followed
    assert shop.order("1").order_nr is None


def test_a_failure_in_a_middle_batch_resumes_at_that_batch(shop: Shop) -> None:
    reference = ref()
    shop.load([order("1", reference, 7)], OrderLinesBatchCount=3)
    shop.api.fail_writes(after=1, times=3, status=503)  # batch 2 fails on every try of this run
    with pytest.raises(ConnectionLost) as caught:
        shop.send("1")
    assert "gave up after 3 attempts" in str(caught.value)
    number = shop.order("1").order_nr
    assert number is not None and arrived(shop.api, reference) == ["ART1", "ART2", "ART3"]
    assert shop.progress("1")["batches"] == 1

    shop.api.reset()
    assert shop.send("1").backoffice_order_nr == number
    assert arrived(shop.api, reference) == ALL_SEVEN
    assert writes(shop.api, number) == ["POST", "PUT", "PUT"]


def test_a_refused_later_batch_says_what_is_in_accountview_and_resumes_there(shop: Shop) -> None:
    reference = ref()
    shop.load([order("1", reference, 7)], OrderLinesBatchCount=3)
    shop.api.fail_writes(after=2, status=400, message="Artikel ART7 is geblokkeerd")
    with pytest.raises(DeliveryError) as caught:
        shop.send("1")
    number = shop.order("1").order_nr
    assert caught.value.retryable is False
    assert str(caught.value) == (f"AccountView refused batch 3 of 3 (line 7) of AccountView order {number}: "
                                 f"Artikel ART7 is geblokkeerd; lines 1-6 are in AccountView order {number}, a retry "
                                 "sends from line 7")
    shop.send("1")
    assert arrived(shop.api, reference) == ALL_SEVEN


def test_a_refused_first_batch_stores_accountviews_message_and_nothing_is_kept(shop: Shop) -> None:
    reference = ref()
    shop.load([order("1", reference, 2)])
    shop.api.fail_writes(status=400, message="Debiteur 20010 is geblokkeerd")
    with pytest.raises(DeliveryError) as caught:
        shop.send("1")
    assert str(caught.value) == "AccountView refused the order: Debiteur 20010 is geblokkeerd"
    assert caught.value.retryable is False
    assert shop.api.order_count(reference) == 0 and shop.progress("1") is None


def test_an_order_changed_after_part_of_it_went_is_not_guessed_at(shop: Shop) -> None:
    reference = ref()
    shop.load([order("1", reference, 7)], OrderLinesBatchCount=3)
    shop.api.fail_writes(after=1, times=3)
    with pytest.raises(ConnectionLost):
        shop.send("1")
    shop.api.reset()
    shop.load([order("1", reference, 8)], OrderLinesBatchCount=3)
    with pytest.raises(DeliveryError, match="cut from 7 lines; the order now has 8 lines") as caught:
        shop.send("1")
    assert caught.value.retryable is False
    assert len(arrived(shop.api, reference)) == 3


# ===== Lost replies: look before sending again ===================================================================

def test_a_lost_reply_to_a_later_batch_is_looked_up_not_resent(shop: Shop) -> None:
    reference = ref()
    shop.load([order("1", reference, 7)], OrderLinesBatchCount=3)
    shop.api.lose_write_replies(after=1)  # batch 2 is stored, its reply never comes
    sent = shop.send("1")
    assert arrived(shop.api, reference) == ALL_SEVEN
    assert writes(shop.api, sent.backoffice_order_nr) == ["POST", "PUT", "PUT"]


def test_a_lost_reply_to_the_first_batch_finds_the_order_instead_of_creating_another(shop: Shop) -> None:
    reference = ref()
    shop.load([order("1", reference, 7)], OrderLinesBatchCount=3)
    shop.api.lose_write_replies()
    sent = shop.send("1")
    assert shop.api.order_count(reference) == 1
    assert arrived(shop.api, reference) == ALL_SEVEN
    assert shop.order("1").order_nr == sent.backoffice_order_nr


def test_a_lost_first_reply_is_looked_up_by_the_next_attempt(shop: Shop) -> None:
    reference = ref()
    shop.load([order("1", reference, 4)], OrderLinesBatchCount=2)
    shop.api.lose_write_replies()
    shop.api.fail_reads = 3  # ...and every look-up of this attempt meets a 503: the attempt gives up
    with pytest.raises(ConnectionLost):
        shop.send("1")
    assert shop.api.order_count(reference) == 1  # created, but the connector never heard so
    assert shop.progress("1")["in_flight"] == 1 and shop.order("1").order_nr is None
    shop.api.reset()
    sent = shop.send("1")  # the next attempt looks first and goes on with the order it finds
    assert shop.api.order_count(reference) == 1
    assert arrived(shop.api, reference) == ["ART1", "ART2", "ART3", "ART4"]
    assert writes(shop.api, sent.backoffice_order_nr) == ["POST", "PUT"]


def test_a_batch_in_flight_when_the_task_died_is_looked_up_first(shop: Shop) -> None:
    reference = ref()
    shop.load([order("1", reference, 6)], OrderLinesBatchCount=2)
    shop.api.lose_write_replies(after=1)  # batch 2 is stored, unheard of ...
    shop.api.fail_reads = 3  # ... and the attempt cannot look, so it stops with batch 2 in flight
    with pytest.raises(ConnectionLost):
        shop.send("1")
    assert (shop.progress("1")["batches"], shop.progress("1")["in_flight"]) == (1, 2)
    assert len(arrived(shop.api, reference)) == 4
    shop.api.reset()
    again = shop.send("1")
    assert again.backoffice_order_nr == shop.order("1").order_nr
    assert arrived(shop.api, reference) == [f"ART{i}" for i in range(1, 7)]
    assert writes(shop.api, again.backoffice_order_nr) == ["POST", "PUT", "PUT"]


def test_several_orders_carrying_the_key_of_a_lost_first_batch_are_not_guessed_at(
        shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    reference = ref()
    shop.load([order("1", reference, 1), order("2", reference, 1), order("3", reference, 1)])
    key = uuid.uuid4()
    monkeypatch.setattr(delivery.uuid, "uuid4", lambda: key)  # two orders made with one key: never by chance
    shop.send("1")
    shop.send("2")
    export_state.save_progress(shop.engine, shop.order("3").id, {"in_flight": 1, "ord_date": "2024-03-20T14:05:09",
                                                                 "key": key.hex, "batch_size": 1, "lines": 1})
    with pytest.raises(DeliveryError, match=f"holds 2 orders .* carrying this order's key {key.hex}") as caught:
        shop.send("3")
    assert caught.value.retryable is False and shop.api.order_count(reference) == 2
    shop.api.delete_order(shop.api.numbers_for(reference)[0])  # ops delete the wrong one, reload the order ...
    kept = shop.api.numbers_for(reference)
    assert shop.send("3").backoffice_order_nr == kept[0]  # ... and the next attempt goes on with the one left
    assert shop.api.numbers_for(reference) == kept


def test_an_order_carrying_the_key_but_other_lines_is_not_taken_for_this_one(
        shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    reference = ref()
    shop.load([order("1", reference, 2), order("2", reference, 3)])
    key = uuid.uuid4()
    monkeypatch.setattr(delivery.uuid, "uuid4", lambda: key)
    number = shop.send("1").backoffice_order_nr
    export_state.save_progress(shop.engine, shop.order("2").id, {"in_flight": 1, "ord_date": "2024-03-20T14:05:09",
                                                                 "key": key.hex, "batch_size": 3, "lines": 3})
    with pytest.raises(DeliveryError, match=f"AccountView order {number} carries this order's key {key.hex} but does "
                                            r"not hold the first batch as sent \(lines 1-3\): 2 lines there, 3 here; "
                                            "nothing more was sent") as caught:
        shop.send("2")
    assert caught.value.retryable is False and shop.api.order_count(reference) == 1
    assert shop.order("2").order_nr is None


def test_a_first_batch_in_flight_without_a_key_fails_for_review(shop: Shop) -> None:
    reference = ref()
    shop.load([order("1", reference, 1)])
    export_state.save_progress(shop.engine, shop.order("1").id, {"in_flight": 1, "ord_date": "2024-03-20T14:05:09",
                                                                 "batch_size": 1, "lines": 1})
    with pytest.raises(DeliveryError, match=r"ord_date 2024-03-20T14:05:09\), and it carries no key") as caught:
        shop.send("1")
    assert caught.value.retryable is False and shop.api.order_count(reference) == 0


def test_the_order_date_is_the_moment_of_sending_for_every_order(shop: Shop) -> None:
    reference = ref()
    shop.load([order("1", reference, 1), order("2", reference, 1)])
    first, second = shop.order("1"), shop.order("2")
    connector = get_connector("accountview")
    assert connector is not None
    with connector.open_session(first.administration, connector.parse_settings({}), shop.engine) as session:
        session.clock = lambda: CLOCK
        numbers = [session.send(first).backoffice_order_nr, session.send(second).backoffice_order_nr]
    stamps = [shop.api.header(n)["ORD_DATE"] for n in numbers]
    assert stamps == ["2024-03-20T14:05:09", "2024-03-20T14:05:09"]  # the clock's, not a second per order ahead


# ===== Sent, resent ===============================================================================================

def test_a_completed_order_is_not_sent_again_when_the_runner_never_stored_sent(shop: Shop) -> None:
    reference = ref()
    shop.load([order("1", reference, 3)], OrderLinesBatchCount=2)
    first = shop.send("1")
    again = shop.send("1")  # the task died after the last batch, before "sent" was stored
    assert again == replace(first, remark=f"already at the ERP: AccountView had it as order "
                                          f"{first.backoffice_order_nr}; nothing was sent again")
    assert shop.api.order_count(reference) == 1


def test_a_deliberate_resend_of_a_sent_order_creates_a_new_order(shop: Shop) -> None:
    reference = ref()
    shop.load([order("1", reference, 3)], OrderLinesBatchCount=2)
    owner = ClaimOwner("dag", "run", "task")
    order_id = shop.order("1").id
    export_state.claim(shop.engine, [order_id], owner)
    first = shop.send("1")
    export_state.mark_sent(shop.engine, order_id, owner, backoffice_order_nr=first.backoffice_order_nr,
                           destination=first.destination)
    export_state.request_resend(shop.engine, [order_id])
    second = shop.send("1")
    assert second.backoffice_order_nr != first.backoffice_order_nr
    assert shop.api.order_count(reference) == 2 and shop.order("1").order_nr == second.backoffice_order_nr


# ===== Data, settings and credentials ============================================================================

def test_bad_data_fails_before_any_request(shop: Shop) -> None:
    reference = ref()
    shop.load([order("1", reference, 2, customer="UNKNOWN")], OrderLinesBatchCount=1)
    before = len(list(shop.api.root.glob("*.json")))
    with pytest.raises(OrderDataError) as caught:
        shop.send("1")
    assert caught.value.field == "Order.Customer"
    assert len(list(shop.api.root.glob("*.json"))) == before and shop.progress("1") is None


def test_settings_reach_the_wire(shop: Shop) -> None:
    reference = ref()
    shop.load([order("1", reference, 2, notes="Before noon", your_reference="PO 1")], OrderNoteLabel="Note:",
              MapOrderReferenceToCustomField="X11_A4S_REF", UnitModule=True, DontSendPriceToBackoffice=True)
    number = shop.send("1").backoffice_order_nr
    header, lines = shop.api.header(number), shop.api.lines(number)
    key = shop.progress("1")["key"]
    assert (header["X11_A4S_REF"], header["COMMENT1"], header["COMMENT2"]) == (
        reference, "PO 1", f"Note: Before noon\nApp4Sales key {key}")
    assert "COMMENT3" not in header
    assert [(line["ORD_QTYU"], "ART_PX" in line) for line in lines] == [(1, False), (2, False)]


def test_an_expired_token_is_replaced_once(shop: Shop) -> None:
    shop.load([order("1", ref(), 3), order("2", ref(), 3)], OrderLinesBatchCount=2)
    first, second = shop.order("1"), shop.order("2")
    connector = get_connector("accountview")
    assert connector is not None
    with connector.open_session(first.administration, connector.parse_settings({"OrderLinesBatchCount": 2}),
                                shop.engine) as session:
        session.send(first)
        shop.api.expire_tokens()
        assert session.send(second).backoffice_order_nr


def _connection(shop: Shop, monkeypatch: pytest.MonkeyPatch, **changes: Any) -> None:
    conn = shop.api.airflow_connection()
    extra = {**conn["extra"], **changes.pop("extra", {})}
    conn = {**conn, **changes, "extra": {k: v for k, v in extra.items() if v is not None}}
    monkeypatch.setenv(f"AIRFLOW_CONN_{shop.conn_id.upper()}", json.dumps(conn))


def test_a_refused_refresh_token_fails_the_chunk_not_the_order_and_shows_no_secret(
        shop: Shop, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    _connection(shop, monkeypatch, extra={"refresh_token": "stale-refresh-token-value"})
    shop.load([order("1", ref(), 1)])
    with caplog.at_level(logging.DEBUG), pytest.raises(ConnectionLost) as caught:
        shop.send("1")
    message = str(caught.value)
    assert "invalid_grant" in message and shop.conn_id in message
    for secret in ("stale-refresh-token-value", shop.api.client_secret):
        assert secret not in message and secret not in caplog.text


@pytest.mark.parametrize(("changes", "named"), [
    ({"extra": {"refresh_token": None}}, "extra refresh_token"),
    ({"extra": {"x-company": None}}, "extra x-company"),
    ({"password": None}, "password (the OAuth2 client secret)"),
])
def test_a_connection_lacking_a_credential_is_a_settings_error_naming_it(
        shop: Shop, monkeypatch: pytest.MonkeyPatch, changes: dict[str, Any], named: str) -> None:
    _connection(shop, monkeypatch, **changes)
    shop.load([order("1", ref(), 1)])
    with pytest.raises(SettingsError, match=re.escape(named)) as caught:
        shop.send("1")
    assert shop.api.client_secret not in str(caught.value) and shop.api.refresh_token not in str(caught.value)


def test_another_company_is_refused_for_the_whole_chunk(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    _connection(shop, monkeypatch, extra={"x-company": "NOT-OURS"})
    shop.load([order("1", ref(), 1)])
    with pytest.raises(ConnectionLost, match="No access to company NOT-OURS"):
        shop.send("1")


def test_an_undefined_connection_hands_the_chunk_back(shop: Shop) -> None:
    shop.conn_id = "av_not_defined_anywhere"
    shop.load([order("1", ref(), 1)])
    with pytest.raises(ConnectionLost, match=r"connection av_not_defined_anywhere of administration .* is not defined"):
        shop.send("1")


def test_the_refresh_token_never_travels_as_a_header(shop: Shop) -> None:
    shop.load([order("1", ref(), 1)])
    order_ = shop.order("1")
    connector = get_connector("accountview")
    assert connector is not None
    with connector.open_session(order_.administration, connector.parse_settings({}), shop.engine) as session:
        headers = {k.lower(): v for k, v in session.api.session.headers.items()}
        assert "refresh_token" not in headers and headers["x-company"] == shop.api.company_id
        assert session.api.session.auth is None  # client id / secret never go as basic auth


# ===== Transient failures and tokens ==============================================================================

def test_transient_failures_are_retried_with_backoff_within_the_send(shop: Shop,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr("backoffice_export.transport.http_api.time.sleep", waits.append)
    reference = ref()
    shop.load([order("1", reference, 4)], OrderLinesBatchCount=2)
    shop.api.fail_writes(times=2, status=503)  # the first POST fails twice, the third try goes through
    sent = shop.send("1")
    assert waits == [0.01, 0.02]  # BACKOFF_SECONDS, doubling
    assert shop.api.order_count(reference) == 1 and writes(shop.api, sent.backoffice_order_nr) == ["POST", "PUT"]


def test_a_token_endpoint_that_does_not_answer_fails_the_chunk(shop: Shop) -> None:
    shop.load([order("1", ref(), 1)])
    shop.api.faults.fail_next, shop.api.faults.fail_status = 1, 503
    with pytest.raises(ConnectionLost, match="token endpoint is not answering"):
        shop.send("1")
    assert shop.progress("1")["in_flight"] == 1  # nothing was posted; the next attempt looks, finds none, posts
    shop.api.reset()
    reference = shop.order("1").reference
    shop.send("1")
    assert shop.api.order_count(reference) == 1


def test_a_rotated_refresh_token_is_used_for_the_rest_of_the_session_and_never_logged(
        shop: Shop, caplog: pytest.LogCaptureFixture) -> None:
    shop.load([order("1", ref(), 1), order("2", ref(), 1)])
    first, second = shop.order("1"), shop.order("2")
    connector = get_connector("accountview")
    assert connector is not None
    shop.api.rotate_refresh_token = True
    with caplog.at_level(logging.INFO), connector.open_session(
            first.administration, connector.parse_settings({}), shop.engine) as session:
        session.send(first)
        shop.api.expire_tokens()  # the next token comes from the rotated refresh token
        session.send(second)
    assert shop.api.order_count(second.reference) == 1
    assert f"put the new one in extra refresh_token of Airflow connection {shop.conn_id}" in caplog.text
    for secret in shop.api.tokens_issued():
        assert secret not in caplog.text
