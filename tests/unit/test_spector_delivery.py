"""Spector delivery against the loopback emulator: responses, write-back, retries, exactly once.

Each test posts to an SBM company of its own, so counts per App4Sales order number are its own.
The backoff between attempts is recorded instead of slept (the emulator's own delays are real).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from backoffice_export.connectors.spector import delivery
from backoffice_export.connectors.spector import settings as spector_settings
from backoffice_export.errors import ConnectionLost, DeliveryError, OrderDataError, SettingsError
from backoffice_export.model import Order
from backoffice_export.transport import http_api
from erp_sandbox.http_emulator import EmuResponse
from erp_sandbox.spector_api import Api
from tests.unit import factories as f

TODAY = date(2024, 6, 1)
DEFAULT = spector_settings.parse({})


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with Api(tmp_path_factory.mktemp("erp")) as api:
        yield api  # type: ignore[misc]


@pytest.fixture
def company(emulator: Api) -> Iterator[str]:
    emulator.faults.reset()
    yield emulator.new_company()
    emulator.faults.reset()
    emulator.unknown_customers.clear()
    emulator.unknown_articles.clear()


@pytest.fixture
def backoff(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    waits: list[float] = []
    monkeypatch.setattr(http_api, "time", SimpleNamespace(sleep=waits.append))
    return waits


@pytest.fixture
def connect(emulator: Api, company: str, monkeypatch: pytest.MonkeyPatch) -> Callable[..., str]:
    """An Airflow connection (env) to the test's company; keyword arguments override connection fields."""
    def make(**overrides: Any) -> str:
        conn = emulator.airflow_connection(company)
        conn["extra"].update(overrides.pop("extra", {}))
        conn.update(overrides)
        conn_id = f"spector_{uuid.uuid4().hex[:8]}"
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
        return conn_id
    return make


def _admin(conn_id: str):
    return f.administration(connector="spector", settings={}, connection_id=conn_id)


def session(conn_id: str, settings: spector_settings.SpectorSettings = DEFAULT) -> delivery.SpectorSession:
    administration = _admin(conn_id)
    return delivery.SpectorSession(administration, settings, engine=None,  # type: ignore[arg-type]
                                   http=delivery.open_api_session(administration), today=TODAY)


def spector_order(nr: str, *, customer: str = "C1", article: str = "SHIRT", description: str | None = "Shirt",
                  **overrides: Any) -> Order:
    item = f.item(article, None, description=description, vat_percentage=Decimal(21))
    return f.order(id=int(nr), internal_order_nr=nr, customer_=f.customer(code=customer),
                   administration_=f.administration(connector="spector", settings={}),
                   lines=[f.line(0, item_=item, quantity=2, price="12.50")], **overrides)


def key(nr: str) -> str:
    """The order's key at Spector (externalOrderNo): its administration's code, "/", its number."""
    return f"ADM1/{nr}"


def lookups(emulator: Api, nr: str) -> int:
    return sum(1 for r in emulator.recorded()
               if r["method"] == "GET" and r["query"].get("externalOrderNo") == [key(nr)])


# ===== Responses =================================================================================================

def test_result_1_writes_spectors_order_number_back(emulator: Api, company: str, connect: Callable[..., str]) -> None:
    sent = session(connect()).send(spector_order("5001"))
    [(number, stored)] = emulator.orders(company).items()
    assert sent.backoffice_order_nr == number and sent.write_back_order_nr == number
    assert sent.destination == f"{emulator.base_url}/api/v2/orders/{number}"
    assert stored["externalOrderNo"] == key("5001") and stored["customerId"] == "C1"
    assert stored["lines"][0]["priceExclVAT"] == Decimal("12.50") and stored["lines"][0]["numberOfItems"] == 2
    assert emulator.order_count(key("5001"), company) == 1


def test_a_non_fatal_result_is_success(
        emulator: Api, company: str, connect: Callable[..., str], caplog: pytest.LogCaptureFixture) -> None:
    emulator.unknown_articles.add("NEW-ARTICLE")
    sent = session(connect()).send(spector_order("5002", article="NEW-ARTICLE"))
    assert sent.write_back_order_nr == sent.backoffice_order_nr and emulator.order_count(key("5002"), company) == 1
    assert "result 2" in caplog.text and "NEW-ARTICLE" in caplog.text
    assert sent.remark is not None and sent.remark.startswith("Spector result 2: ") and "NEW-ARTICLE" in sent.remark


def test_a_duplicate_external_order_number_is_success_with_the_existing_order(
        emulator: Api, company: str, connect: Callable[..., str]) -> None:
    spector = session(connect())
    first = spector.send(spector_order("5003"))
    again = spector.send(spector_order("5003"))  # export_attempts 1: no look-up, Spector itself says "exists"
    assert again.backoffice_order_nr == first.backoffice_order_nr
    assert emulator.order_count(key("5003"), company) == 1
    assert first.remark is None
    assert again.remark == (f"already at the ERP: Spector had it as order {first.backoffice_order_nr}; "
                            "nothing was sent again")


def test_an_existing_external_order_number_of_another_order_fails_it_for_review(
        emulator: Api, company: str, connect: Callable[..., str]) -> None:
    spector = session(connect())
    first = spector.send(spector_order("5007"))
    with pytest.raises(DeliveryError) as caught:  # same key, another customer: not this order
        spector.send(spector_order("5007", customer="C9"))
    assert not caught.value.retryable
    assert str(caught.value).startswith(
        f"Spector already holds an order with externalOrderNo ADM1/5007 (Spector order {first.backoffice_order_nr}), "
        "but it is not this order: customerId C1 there, C9 here. Not marked sent")
    assert emulator.order_count(key("5007"), company) == 1


def test_a_look_up_hit_that_is_another_order_fails_it_for_review_and_posts_nothing(
        emulator: Api, company: str, connect: Callable[..., str]) -> None:
    spector = session(connect())
    spector.send(spector_order("5008"))
    before = len(emulator.recorded())
    changed = spector_order("5008", article="CAP", export_attempts=2)  # an earlier run may have sent it
    with pytest.raises(DeliveryError, match="line 1 articleNumber SHIRT there, CAP here") as caught:
        spector.send(changed)
    assert not caught.value.retryable
    assert [r["method"] for r in emulator.recorded()[before:]] == ["GET"]  # the look-up; no POST
    assert emulator.order_count(key("5008"), company) == 1


def test_an_existing_order_that_cannot_be_read_back_fails_for_review(
        emulator: Api, company: str, connect: Callable[..., str], monkeypatch: pytest.MonkeyPatch) -> None:
    spector = session(connect())
    spector.send(spector_order("5009"))
    handle = emulator.handle

    def without_order_reads(request: Any) -> Any:
        if request.method == "GET" and request.path.startswith("/api/v2/orders/"):
            return EmuResponse.json(404, {"result": 44, "message": "No resource"})
        return handle(request)

    monkeypatch.setattr(emulator, "handle", without_order_reads)
    with pytest.raises(DeliveryError, match=r"could not be read back to compare \(HTTP 404") as caught:
        spector.send(spector_order("5009"))
    assert not caught.value.retryable


def test_the_key_is_refused_when_longer_than_spector_keeps(connect: Callable[..., str]) -> None:
    with pytest.raises(OrderDataError) as caught:
        session(connect()).build(spector_order("5" * 46))
    assert str(caught.value) == ("Administration.Code / Order.InternalOrderNr: externalOrderNo is 51 characters "
                                 "long, at most 50 allowed")


def test_an_administration_code_holding_the_key_separator_is_refused(connect: Callable[..., str]) -> None:
    connector = delivery.SpectorConnector()
    administration = f.administration(code="shop/nl", connector="spector", settings={}, connection_id=connect())
    with pytest.raises(SettingsError, match="administration code 'shop/nl' contains '/'"), \
            connector.open_session(administration, connector.parse_settings({}), engine=None):  # type: ignore[arg-type]
        pass


def test_a_fatal_result_fails_the_order_with_spectors_code_and_message(
        emulator: Api, company: str, connect: Callable[..., str]) -> None:
    emulator.unknown_customers.add("GONE")
    spector = session(connect())
    with pytest.raises(DeliveryError) as caught:
        spector.send(spector_order("5004", customer="GONE"))
    assert not caught.value.retryable
    assert str(caught.value) == "Spector did not accept the order (HTTP 200): result 20: Customer GONE not found"
    assert emulator.order_count(key("5004"), company) == 0
    spector.send(spector_order("5005"))  # the session goes on with the next order
    assert emulator.order_count(key("5005"), company) == 1


def test_an_invalid_order_is_refused_before_anything_is_sent(
        emulator: Api, company: str, connect: Callable[..., str]) -> None:
    before = len(emulator.recorded())
    with pytest.raises(OrderDataError) as caught:
        session(connect()).send(spector_order("5006", article="SCARF", description=None))
    assert str(caught.value) == "Item.Description: line 1 (item SCARF): articleName is required but missing"
    assert len(emulator.recorded()) == before and emulator.orders(company) == {}


# ===== Transient failures and exactly once =======================================================================

def test_a_5xx_is_retried_with_backoff_and_the_order_created_once(
        emulator: Api, company: str, connect: Callable[..., str],
        backoff: list[float]) -> None:
    emulator.faults.fail_next = 1
    sent = session(connect()).send(spector_order("5101"))
    assert backoff == [0.5] and sent.write_back_order_nr == sent.backoffice_order_nr
    assert emulator.order_count(key("5101"), company) == 1 and lookups(emulator, "5101") == 1


def test_a_spector_that_stays_down_ends_the_chunk(
        emulator: Api, company: str, connect: Callable[..., str],
        backoff: list[float]) -> None:
    emulator.faults.fail_next = 10
    with pytest.raises(ConnectionLost) as caught:
        session(connect()).send(spector_order("5102"))
    assert "HTTP 503" in str(caught.value) and caught.value.retryable
    assert emulator.order_count(key("5102"), company) == 0


def test_a_reply_lost_after_the_order_was_stored_is_found_not_sent_again(
        emulator: Api, company: str, connect: Callable[..., str],
        backoff: list[float]) -> None:
    emulator.faults.lose_reply_after_store = 1
    sent = session(connect()).send(spector_order("5103"))
    assert emulator.order_count(key("5103"), company) == 1
    assert list(emulator.orders(company)) == [sent.backoffice_order_nr]
    assert sent.write_back_order_nr == sent.backoffice_order_nr


def test_a_5xx_after_the_order_was_stored_is_found_not_sent_again(
        emulator: Api, company: str, connect: Callable[..., str],
        backoff: list[float]) -> None:
    emulator.faults.fail_after_stored = 1
    sent = session(connect()).send(spector_order("5104"))
    assert emulator.order_count(key("5104"), company) == 1 and sent.write_back_order_nr == sent.backoffice_order_nr


def test_a_slow_reply_past_the_timeout_is_found_by_the_next_attempt(
        emulator: Api, company: str, connect: Callable[..., str],
        backoff: list[float]) -> None:
    conn_id = connect(extra={"timeout": 0.3})
    emulator.faults.delay_seconds = 1.0
    with pytest.raises(ConnectionLost) as caught:
        session(conn_id).send(spector_order("5105"))
    assert "timed out after 0.3 s" in str(caught.value) and "not sent again now" in str(caught.value)
    deadline = time.monotonic() + 5
    while emulator.order_count(key("5105"), company) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)  # Spector finishes the slow POST after the client gave up
    emulator.faults.reset()
    sent = session(conn_id).send(spector_order("5105", export_attempts=2))
    assert emulator.order_count(key("5105"), company) == 1 and sent.write_back_order_nr == sent.backoffice_order_nr


def test_an_order_claimed_before_is_looked_up_first_and_sent_when_absent(
        emulator: Api, company: str, connect: Callable[..., str]) -> None:
    before = len(emulator.recorded())
    session(connect()).send(spector_order("5106", export_attempts=3))
    requests = [(r["method"], r["path"]) for r in emulator.recorded()[before:]]
    assert requests == [("GET", "/api/v2/orders"), ("POST", "/api/v2/orders")]
    assert emulator.order_count(key("5106"), company) == 1


# ===== The connection ============================================================================================

def test_refused_credentials_end_the_chunk_and_no_secret_is_told(
        emulator: Api, company: str, connect: Callable[..., str]) -> None:
    for conn_id in (connect(password="not-the-key"), connect(extra={"X-Integration-Token": "stolen"}),
                    connect(extra={"sbm_id": "999"})):
        with pytest.raises(ConnectionLost) as caught:
            session(conn_id).send(spector_order("5201"))
        message = str(caught.value)
        assert "refused the credentials" in message and "HTTP 401" in message
        for secret in (emulator.api_key, emulator.integration_token, "not-the-key", "stolen"):
            assert secret not in message
    assert emulator.order_count(key("5201"), company) == 0


def test_the_sbm_id_travels_as_its_header_and_not_under_its_extra_name(connect: Callable[..., str], company: str
                                                                       ) -> None:
    http = delivery.open_api_session(_admin(connect()))
    try:
        assert http.session.headers["X-SBM-Id"] == company
        assert "sbm_id" not in http.session.headers
        assert http.session.auth is not None
    finally:
        http.close()


def test_an_undefined_connection_hands_the_chunk_back() -> None:
    with pytest.raises(ConnectionLost, match=r"Airflow connection spector_nowhere of administration .* is not defined"):
        delivery.open_api_session(_admin("spector_nowhere"))


def test_an_incomplete_connection_names_what_is_missing(emulator: Api, connect: Callable[..., str]) -> None:
    conn_id = connect(extra={"sbm_id": "", "X-Integration-Token": None})
    with pytest.raises(ConnectionLost) as caught:
        delivery.open_api_session(_admin(conn_id))
    assert str(caught.value).endswith("lacks extra sbm_id, extra X-Integration-Token")
    assert emulator.api_key not in str(caught.value)


def test_a_wrong_base_url_ends_the_chunk(emulator: Api, connect: Callable[..., str]) -> None:
    conn_id = connect(host=f"http://127.0.0.1:{emulator.port}/wrong", port=None)
    with pytest.raises(ConnectionLost, match="HTTP 404: no Spector order API there"):
        session(conn_id).send(spector_order("5202"))


def test_an_administration_without_a_connection_is_a_settings_error() -> None:
    administration = f.administration(connector="spector", settings={}, connection_id=None)
    with pytest.raises(SettingsError, match="names no Airflow connection"), \
            delivery.SpectorConnector().open_session(administration, DEFAULT, engine=None):  # type: ignore[arg-type]
        pass


def test_the_connector_session_sends_and_closes(
        emulator: Api, company: str, connect: Callable[..., str], tmp_path: Path) -> None:
    connector = delivery.SpectorConnector()
    administration = f.administration(connector="spector", settings={}, connection_id=connect())
    with connector.open_session(administration, connector.parse_settings({}), engine=None) as spector:  # type: ignore[arg-type]
        spector.send(spector_order("5203"))
    assert emulator.order_count(key("5203"), company) == 1
