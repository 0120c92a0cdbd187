"""StyleMan delivery against the loopback StyleMan emulator: the seed's responses, errors, duplicate
check and settings, the three ways to authenticate, and exactly one StyleMan order per App4Sales order.

Orders are loaded into a real order database and sent through ``StyleManSession`` as the export
runner does (without the DAG: ``tests/e2e/test_styleman_dag.py`` covers the DAG).
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from backoffice_export import export_state, repository
from backoffice_export.connectors.styleman import connector, delivery
from backoffice_export.connectors.styleman.delivery import erp_message, sales_orders_in
from backoffice_export.db import schema as s
from backoffice_export.document import load_document
from backoffice_export.errors import ConnectionLost, DeliveryError, SettingsError
from backoffice_export.export import send_chunk
from backoffice_export.export_state import ClaimOwner
from backoffice_export.model import Order
from backoffice_export.transport import http_api
from backoffice_export.transport.http_api import ApiReply, TransientHttpError
from erp_sandbox.styleman_api import Api
from tests.unit.styleman_documents import bind, sm_order, styleman_admin


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with Api(tmp_path_factory.mktemp("erp")) as emulator:
        yield emulator  # type: ignore[misc]


@pytest.fixture(autouse=True)
def _well_behaved(api: Api) -> Iterator[None]:
    api.reset()
    yield
    api.reset()


def load(engine: sa.Engine, conn_id: str, orders: list[dict[str, Any]], **settings: Any) -> dict[str, Order]:
    code = f"adm-{conn_id}"
    load_document(engine, {"administrations": [styleman_admin(code, conn_id, orders=orders, settings=settings)]})
    ids = [r.order_id for r in export_state.states(engine, administration=code)]
    return {o.internal_order_nr: o for o in repository.load_orders(engine, ids)}


def send_all(engine: sa.Engine, orders: list[Order]) -> list[Any]:
    """Send orders in one session, as one chunk; each outcome is a Sent or the exception raised.
    The number is written back as the runner does when it records the order as sent."""
    administration = orders[0].administration
    outcomes: list[Any] = []
    with connector.open_session(administration, connector.parse_settings(administration.settings), engine) as session:
        for order in orders:
            try:
                sent = session.send(order)
            except DeliveryError as exc:
                outcomes.append(exc)
            else:
                outcomes.append(sent)
                repository.set_order_nr(engine, order.id, sent.write_back_order_nr)
    return outcomes


def order_nr(engine: sa.Engine, order: Order) -> str | None:
    with engine.connect() as conn:
        return conn.execute(sa.select(s.orders.c.order_nr).where(s.orders.c.id == order.id)).scalar_one()


def requests_for(api: Api, order: Order) -> list[str]:
    """The recorded requests about this order, in order: ``POST`` or ``GET`` (look-up)."""
    return [r["method"] for r in api.recorded()
            if order.guid in str(r["body"]) or order.guid in str(r["query"].get("$filter"))]


# ===== Successful response ========================================================================================

def test_order_is_posted_once_and_the_erp_number_written_back(api: Api, sqlite_engine, monkeypatch) -> None:
    conn_id = bind(monkeypatch, api)
    orders = load(sqlite_engine, conn_id, [sm_order("1"), sm_order("2", customer="C2", items=("TS-M", "CAP"))])
    first, second = send_all(sqlite_engine, list(orders.values()))
    assert first.destination == f"{api.base_url}/api/v1/Orders"
    assert order_nr(sqlite_engine, orders["1"]) == first.backoffice_order_nr
    assert order_nr(sqlite_engine, orders["2"]) == second.backoffice_order_nr
    assert first.backoffice_order_nr != second.backoffice_order_nr
    (stored,) = api.orders_for(orders["2"].guid)
    assert stored["Number"] == second.backoffice_order_nr
    assert stored["OrderNumber"] == "2" and [line["ItemCode"] for line in stored["Lines"]] == ["TS-M", "CAP"]
    assert [line["Discount"] for line in stored["Lines"]] == [5, 5]  # C2's default discount
    # ValidateOrderBeforeSending off and a first attempt: the seed does not look up first.
    assert requests_for(api, orders["1"]) == ["POST"]


def test_api_version_setting_picks_the_path(api: Api, sqlite_engine, monkeypatch) -> None:
    conn_id = bind(monkeypatch, api)
    orders = load(sqlite_engine, conn_id, [sm_order("1")], ApiVersion="v2")
    (sent,) = send_all(sqlite_engine, list(orders.values()))
    assert sent.destination.endswith("/api/v2/Orders")
    assert [r["path"] for r in api.recorded() if orders["1"].guid in str(r["body"])] == ["/api/v2/Orders"]


# ===== Duplicate Order Detection (ValidateOrderBeforeSending) =====================================================

def test_validate_order_before_sending_found_writes_the_number_back_and_sends_nothing(
        api: Api, sqlite_engine, monkeypatch) -> None:
    conn_id = bind(monkeypatch, api)
    orders = load(sqlite_engine, conn_id, [sm_order("1")], ValidateOrderBeforeSending=True)
    (first,) = send_all(sqlite_engine, [orders["1"]])
    assert requests_for(api, orders["1"]) == ["GET", "POST"]
    repository.set_order_nr(sqlite_engine, orders["1"].id, None)

    (again,) = send_all(sqlite_engine, [orders["1"]])
    assert again.backoffice_order_nr == first.backoffice_order_nr
    assert order_nr(sqlite_engine, orders["1"]) == first.backoffice_order_nr
    assert api.order_count(orders["1"].guid) == 1
    assert requests_for(api, orders["1"]) == ["GET", "POST", "GET"]


def test_validate_order_before_sending_off_a_retried_order_still_looks_first(
        api: Api, sqlite_engine, monkeypatch) -> None:
    conn_id = bind(monkeypatch, api)
    orders = load(sqlite_engine, conn_id, [sm_order("1")])
    (first,) = send_all(sqlite_engine, [orders["1"]])
    retried = dataclasses.replace(orders["1"], export_attempts=2)  # an earlier run may have reached StyleMan
    (again,) = send_all(sqlite_engine, [retried])
    assert again.backoffice_order_nr == first.backoffice_order_nr
    assert api.order_count(orders["1"].guid) == 1
    assert requests_for(api, orders["1"]) == ["POST", "GET"]


def test_a_look_up_hit_that_is_another_order_fails_for_review_and_posts_nothing(
        api: Api, sqlite_engine, monkeypatch) -> None:
    conn_id = bind(monkeypatch, api)
    orders = load(sqlite_engine, conn_id, [sm_order("1")])
    (first,) = send_all(sqlite_engine, [orders["1"]])
    # The order changed in App4Sales after an attempt whose reply was lost; StyleMan holds the old one.
    changed = dataclasses.replace(orders["1"], export_attempts=2,
                                  lines=tuple(dataclasses.replace(line, quantity=line.quantity + 1)
                                              for line in orders["1"].lines))
    (again,) = send_all(sqlite_engine, [changed])
    assert isinstance(again, DeliveryError) and not again.retryable
    assert str(again) == (
        f"ERROR: StyleMan already holds an order with OrderID {orders['1'].guid} (StyleMan order "
        f"{first.backoffice_order_nr}), but it is not this order: SubTotal 25.00 there, 37.50 here; Total "
        "30.25 there, 45.38 here; VatTotal 5.25 there, 7.88 here; line 1 Quantity 2 there, 3 here. "
        "Not marked sent: check the App4Sales order's GUID (a copied order keeps it); give this order a GUID of "
        "its own and resend it")
    assert api.order_count(orders["1"].guid) == 1
    assert requests_for(api, orders["1"]) == ["POST", "GET"]


def test_lookup_counts_only_orders_with_the_same_order_id() -> None:
    wanted = "6f1c2a9e-0b7d-4c3e-9a51-2d8e4f6a7b10"

    class FakeApi:
        def request(self, method: str, path: str, **kwargs: Any) -> ApiReply:
            # A server that ignores $filter answers with every order it has.
            body = {"value": [{"OrderID": "11111111-2222-4333-8444-555555555555", "Number": "1"},
                              {"OrderID": wanted.upper(), "Number": ""},
                              {"OrderID": wanted.upper(), "Number": 77}]}
            return ApiReply(200, body, "")

    class NoAuth:
        def headers(self) -> dict[str, str]:
            return {}

    session = delivery.StyleManSession.__new__(delivery.StyleManSession)
    session.api, session.auth, session.orders_path = FakeApi(), NoAuth(), "api/v1/Orders"  # type: ignore[assignment]
    def built(order_id: str) -> delivery.StyleManRequest:
        return delivery.StyleManRequest(order_id, b"", {"OrderID": order_id})

    assert session.lookup(built(wanted)) == {"OrderID": wanted.upper(), "Number": 77}
    assert session.lookup(built("99999999-2222-4333-8444-555555555555")) is None


@pytest.mark.parametrize(("body", "expected"), [
    ({"OrderID": "a", "Number": "1"}, [{"OrderID": "a", "Number": "1"}]),
    ([{"OrderID": "a"}, {"OrderID": "b"}], [{"OrderID": "a"}, {"OrderID": "b"}]),
    ({"Results": [{"OrderID": "a"}]}, [{"OrderID": "a"}]),
    ({"Results": [{"Results": [{"OrderID": "a"}]}]}, [{"OrderID": "a"}]),
    ({"value": [{"OrderID": "a"}]}, [{"OrderID": "a"}]),
    ({"Results": []}, []), (None, []), ("text", []),
])
def test_replies_are_read_bare_or_wrapped(body: Any, expected: list[dict[str, Any]]) -> None:
    assert sales_orders_in(body) == expected


# ===== UseResultsTagForRequest ====================================================================================

def test_use_results_tag_for_request_on_and_off_against_a_strict_api(api: Api, sqlite_engine, monkeypatch) -> None:
    api.request_shape = "wrapped"
    conn_id = bind(monkeypatch, api)
    wrapped = load(sqlite_engine, conn_id, [sm_order("1")], UseResultsTagForRequest=True)
    (sent,) = send_all(sqlite_engine, [wrapped["1"]])
    (record,) = [r for r in api.recorded() if wrapped["1"].guid in str(r["body"])]
    assert list(record["body"]) == ["Results"] and record["body"]["Results"][0]["Results"][0]["OrderID"]
    assert sent.backoffice_order_nr == api.orders_for(wrapped["1"].guid)[0]["Number"]  # read from the wrapped reply

    bare = load(sqlite_engine, conn_id, [sm_order("2")], UseResultsTagForRequest=False)
    (refused,) = send_all(sqlite_engine, [bare["2"]])
    assert isinstance(refused, DeliveryError) and not refused.retryable
    assert str(refused).startswith("ERROR: StyleMan answered HTTP 400: The request is invalid.")
    assert "expected shape" in str(refused)
    assert api.order_count(bare["2"].guid) == 0


# ===== Error Handling =============================================================================================

def test_rest_error_carries_the_erps_message_prefixed_error_and_is_not_retried(
        api: Api, sqlite_engine, monkeypatch) -> None:
    conn_id = bind(monkeypatch, api)
    orders = load(sqlite_engine, conn_id, [sm_order("1", quantity="0"), sm_order("2")])
    refused, sent = send_all(sqlite_engine, list(orders.values()))
    assert isinstance(refused, DeliveryError) and not refused.retryable
    assert str(refused) == ("ERROR: StyleMan answered HTTP 400: The request is invalid. "
                            "salesOrder.Lines[0].Quantity: Quantity must be greater than 0.")
    assert order_nr(sqlite_engine, orders["1"]) is None
    assert sent.backoffice_order_nr and api.order_count(orders["2"].guid) == 1  # the chunk goes on


def test_unknown_api_version_is_a_rest_error(api: Api, sqlite_engine, monkeypatch) -> None:
    conn_id = bind(monkeypatch, api)
    orders = load(sqlite_engine, conn_id, [sm_order("1")], ApiVersion="v9")
    (refused,) = send_all(sqlite_engine, [orders["1"]])
    assert str(refused).startswith("ERROR: StyleMan answered HTTP 404: No HTTP resource was found")
    assert not refused.retryable


def test_request_error_network_unreachable_is_retried_then_left_for_the_next_run(
        api: Api, sqlite_engine, monkeypatch) -> None:
    conn_id = bind(monkeypatch, api, auth_type="basic", port=1)
    orders = load(sqlite_engine, conn_id, [sm_order("1")])
    (lost,) = send_all(sqlite_engine, [orders["1"]])
    assert isinstance(lost, ConnectionLost) and lost.retryable
    # POST, then (backoff) look-up, (backoff) look-up: the ERP never answered, so nothing was repeated blindly.
    assert str(lost).startswith("ERROR: GET http://127.0.0.1:1/api/v1/Orders: no reply")
    assert "Connection refused" in str(lost) and "gave up after 3 attempts" in str(lost)


def test_a_lookup_that_fails_transiently_is_retried_before_any_new_post(monkeypatch) -> None:
    """``create_once``: with the ERP still down after a lost POST, look again later; never POST blindly."""
    monkeypatch.setattr(http_api.time, "sleep", lambda seconds: None)
    calls: list[str] = []
    lookups = iter([TransientHttpError("GET: no reply"), {"Number": "100001"}])

    def lookup() -> dict[str, str] | None:
        calls.append("GET")
        outcome = next(lookups)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def create() -> dict[str, str]:
        calls.append("POST")
        raise TransientHttpError("POST: no reply", delivered_unknown=True)

    assert http_api.create_once(lookup=lookup, create=create) == ({"Number": "100001"}, True)
    assert calls == ["POST", "GET", "GET"]


@pytest.mark.parametrize("host", ["127.0.0.1:99999", "bad_host..name"])
def test_request_error_bad_url_fails_every_order_clearly(api: Api, sqlite_engine, monkeypatch, host: str) -> None:
    conn_id = bind(monkeypatch, api, host=host, port=None)
    orders = load(sqlite_engine, conn_id, [sm_order("1")])
    with pytest.raises(SettingsError) as caught:
        send_all(sqlite_engine, [orders["1"]])
    assert str(caught.value).startswith(f"ERROR: Airflow connection {conn_id}: the StyleMan base URL")


def test_missing_order_number_fails_with_the_seeds_message_and_a_retry_finds_the_number(
        api: Api, sqlite_engine, monkeypatch) -> None:
    api.reply_without_number = 1
    conn_id = bind(monkeypatch, api)
    orders = load(sqlite_engine, conn_id, [sm_order("1")])
    (failed,) = send_all(sqlite_engine, [orders["1"]])
    assert isinstance(failed, DeliveryError)
    assert str(failed) == "ERROR: No order number retrieved from backoffice"
    assert failed.retryable and failed.delivered_unknown  # StyleMan has the order: a retry looks it up
    assert order_nr(sqlite_engine, orders["1"]) is None

    (sent,) = send_all(sqlite_engine, [dataclasses.replace(orders["1"], export_attempts=2)])
    assert sent.backoffice_order_nr == api.orders_for(orders["1"].guid)[0]["Number"]
    assert api.order_count(orders["1"].guid) == 1


def test_an_order_styleman_holds_without_a_number_is_never_posted_again() -> None:
    with pytest.raises(DeliveryError, match=r"^No order number retrieved from backoffice \(StyleMan holds OrderID x"):
        delivery._number({"OrderID": "x", "Number": None}, already_there=True)
    for empty in ("", "  ", None, False):
        with pytest.raises(DeliveryError):
            delivery._number({"Number": empty}, already_there=False)
    assert delivery._number({"Number": 100001}, already_there=False) == "100001"


def test_anything_else_fails_the_order_prefixed_error_and_the_chunk_goes_on(
        api: Api, sqlite_engine, monkeypatch) -> None:
    conn_id = bind(monkeypatch, api)
    orders = load(sqlite_engine, conn_id, [sm_order("1"), sm_order("2")])
    real = delivery.mapping.build_sales_order

    def broken_for_order_1(order: Order, *args: Any, **kwargs: Any) -> Any:
        if order.internal_order_nr == "1":
            raise RuntimeError("something nobody expected")
        return real(order, *args, **kwargs)

    monkeypatch.setattr(delivery.mapping, "build_sales_order", broken_for_order_1)
    result = send_chunk(sqlite_engine, [o.id for o in orders.values()], ClaimOwner("d", "r", "t"))
    assert (result.sent, result.failed) == (1, 1)
    states = {r.internal_order_nr: r for r in export_state.states(sqlite_engine, administration=f"adm-{conn_id}")}
    assert states["1"].error == f"order 1 (adm-{conn_id}): ERROR_Unhandled: RuntimeError: something nobody expected"
    assert states["2"].state == "sent"


@pytest.mark.parametrize(("reply", "expected"), [
    (ApiReply(400, {"Message": "The request is invalid.", "ModelState": {"salesOrder.CustomerCode": [
        "The CustomerCode field is required.", "Unknown customer."]}}, ""),
     "StyleMan answered HTTP 400: The request is invalid. salesOrder.CustomerCode: The CustomerCode field is "
     "required.; Unknown customer."),
    (ApiReply(409, {"Message": "Conflict", "ExceptionMessage": "Order is locked"}, ""),
     "StyleMan answered HTTP 409: Conflict Order is locked"),
    (ApiReply(403, None, "<html>Forbidden</html>"), "StyleMan answered HTTP 403: <html>Forbidden</html>"),
    (ApiReply(400, None, ""), "StyleMan answered HTTP 400: (no message)"),
])
def test_erp_error_message_is_read_from_the_reply(reply: ApiReply, expected: str) -> None:
    assert erp_message(reply) == expected


# ===== Transient failures: retried, never duplicated ==============================================================

@pytest.mark.parametrize("fault", ["fail_next", "lose_reply_after_store", "fail_after_stored"])
def test_transient_failure_is_retried_and_creates_exactly_one_order(
        api: Api, sqlite_engine, monkeypatch, fault: str) -> None:
    conn_id = bind(monkeypatch, api, auth_type="basic")
    orders = load(sqlite_engine, conn_id, [sm_order("1")])
    setattr(api.faults, fault, 1)
    (sent,) = send_all(sqlite_engine, [orders["1"]])
    assert not isinstance(sent, Exception), sent
    assert api.order_count(orders["1"].guid) == 1
    assert sent.backoffice_order_nr == api.orders_for(orders["1"].guid)[0]["Number"]


# ===== Authentication =============================================================================================

def test_client_credentials_one_token_per_chunk_session(api: Api, sqlite_engine, monkeypatch, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    conn_id = bind(monkeypatch, api)
    orders = load(sqlite_engine, conn_id, [sm_order(str(n)) for n in range(3)])
    assert all(not isinstance(o, Exception) for o in send_all(sqlite_engine, list(orders.values())))
    assert api.tokens_issued == 1
    send_all(sqlite_engine, [dataclasses.replace(orders["0"], export_attempts=2)])
    assert api.tokens_issued == 2  # a new chunk session, a new token
    tokens = list(api._tokens)
    assert tokens and not [t for t in tokens if t in caplog.text]
    assert api.client_secret not in caplog.text


def test_an_expired_token_is_fetched_again_once(api: Api, sqlite_engine, monkeypatch) -> None:
    conn_id = bind(monkeypatch, api)
    orders = load(sqlite_engine, conn_id, [sm_order("1"), sm_order("2")])
    administration = orders["1"].administration
    with connector.open_session(administration, connector.parse_settings({}), sqlite_engine) as session:
        session.send(orders["1"])
        api.expire_tokens()
        session.send(orders["2"])
    assert api.tokens_issued == 2
    assert api.order_count(orders["2"].guid) == 1


def test_token_endpoint_path_is_configurable(api: Api, sqlite_engine, monkeypatch) -> None:
    conn_id = bind(monkeypatch, api, extra={"auth_type": "client_credentials", "token_endpoint": "/oauth/token"})
    orders = load(sqlite_engine, conn_id, [sm_order("1")])
    (refused,) = send_all(sqlite_engine, [orders["1"]])
    # The emulator serves its tokens at /token: asking /oauth/token shows the setting is used.
    assert isinstance(refused, ConnectionLost) and "/oauth/token" in str(refused)


def test_wrong_client_secret_is_refused_for_the_whole_chunk_without_showing_it(
        api: Api, sqlite_engine, monkeypatch, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    conn_id = bind(monkeypatch, api, password="wrong-secret-1234")
    orders = load(sqlite_engine, conn_id, [sm_order("1")])
    (refused,) = send_all(sqlite_engine, [orders["1"]])
    assert isinstance(refused, ConnectionLost) and refused.retryable
    assert str(refused).startswith(f"ERROR: StyleMan's token endpoint {api.base_url}/token refused the client id")
    assert "The client id or client secret is incorrect." in str(refused)
    assert "wrong-secret-1234" not in str(refused) and "wrong-secret-1234" not in caplog.text
    assert api.order_count(orders["1"].guid) == 0


def test_basic_authentication(api: Api, sqlite_engine, monkeypatch) -> None:
    conn_id = bind(monkeypatch, api, auth_type="basic")
    orders = load(sqlite_engine, conn_id, [sm_order("1")])
    (sent,) = send_all(sqlite_engine, [orders["1"]])
    assert sent.backoffice_order_nr and api.tokens_issued == 0

    wrong = bind(monkeypatch, api, auth_type="basic", password="not-the-password")
    orders = load(sqlite_engine, wrong, [sm_order("2")])
    (refused,) = send_all(sqlite_engine, [orders["2"]])
    assert isinstance(refused, ConnectionLost)
    assert str(refused) == (f"ERROR: StyleMan refused the user name and password of Airflow connection {wrong}: "
                            "HTTP 401 Authentication failed")
    assert "not-the-password" not in str(refused)


def test_no_authorization(api: Api, sqlite_engine, monkeypatch) -> None:
    conn_id = bind(monkeypatch, api, auth_type="none", login="ignored", password="ignored-too")
    orders = load(sqlite_engine, conn_id, [sm_order("1"), sm_order("2")])
    (refused,) = send_all(sqlite_engine, [orders["1"]])  # this StyleMan wants credentials
    assert isinstance(refused, ConnectionLost)
    assert str(refused) == (f"ERROR: StyleMan wants credentials, but Airflow connection {conn_id} has auth_type "
                            "none: HTTP 401 Authentication failed")
    api.allow_anonymous = True  # a StyleMan set up without authorisation
    (sent,) = send_all(sqlite_engine, [orders["2"]])
    assert sent.backoffice_order_nr and api.tokens_issued == 0


def test_a_refused_login_mid_chunk_hands_the_chunk_back(api: Api, sqlite_engine, monkeypatch) -> None:
    conn_id = bind(monkeypatch, api)
    orders = load(sqlite_engine, conn_id, [sm_order("1"), sm_order("2"), sm_order("3")])
    api.faults.reject_auth = True
    result = send_chunk(sqlite_engine, [o.id for o in orders.values()], ClaimOwner("d", "r", "t"))
    assert (result.sent, result.left_for_retry) == (0, 3)
    rows = export_state.states(sqlite_engine, administration=f"adm-{conn_id}")
    assert {r.state for r in rows} == {"failed"} and rows[0].error.startswith(f"order 1 (adm-{conn_id}): ERROR: ")
    assert [api.order_count(o.guid) for o in orders.values()] == [0, 0, 0]


@pytest.mark.parametrize(("extra", "login", "message"), [
    ({"auth_type": "windows"}, "me", "Windows authentication) is not supported"),
    ({"auth_type": "oauth"}, "me", "auth_type 'oauth' is unknown"),
    ({"auth_type": "client_credentials"}, None, "needs the client id and client secret as login and password"),
    ({"auth_type": "basic"}, None, "needs the user name and password as login and password"),
    ({"token_endpoint": "https://elsewhere.example/token"}, "me", "token_endpoint must be a path"),
])
def test_connection_auth_problems_fail_every_order_naming_them(
        api: Api, sqlite_engine, monkeypatch, extra: dict[str, str], login: str | None, message: str) -> None:
    overrides: dict[str, Any] = {"extra": extra, "login": login}
    if login is None:
        overrides["password"] = None
    conn_id = bind(monkeypatch, api, **overrides)
    orders = load(sqlite_engine, conn_id, [sm_order("1")])
    with pytest.raises(SettingsError, match=re.escape(message)):
        send_all(sqlite_engine, [orders["1"]])


def test_an_undefined_connection_hands_the_chunk_back(sqlite_engine) -> None:
    orders = load(sqlite_engine, "styleman_nowhere", [sm_order("1")])
    undefined = r"Airflow connection styleman_nowhere of administration .* is not defined"
    with pytest.raises(ConnectionLost, match=undefined):
        send_all(sqlite_engine, [orders["1"]])


def test_connection_extras_never_travel_as_headers(api: Api, sqlite_engine, monkeypatch) -> None:
    conn_id = bind(monkeypatch, api)
    orders = load(sqlite_engine, conn_id, [sm_order("1")])
    administration = orders["1"].administration
    with connector.open_session(administration, connector.parse_settings({}), sqlite_engine) as session:
        headers = {k.lower() for k in session.api.session.headers}
        assert not {"auth_type", "token_endpoint"} & headers
        assert session.api.session.auth is None  # client credentials: the secret is not sent as basic auth


def test_secrets_never_reach_the_recorded_requests(api: Api, sqlite_engine, monkeypatch) -> None:
    for auth_type in ("client_credentials", "basic"):
        conn_id = bind(monkeypatch, api, auth_type=auth_type)
        send_all(sqlite_engine, list(load(sqlite_engine, conn_id, [sm_order("1")]).values()))
    recorded = "".join(p.read_text() for p in Path(api.root).glob("*.json"))
    assert recorded
    for secret in (api.client_secret, api.basic_password, *api._tokens):
        assert secret not in recorded
