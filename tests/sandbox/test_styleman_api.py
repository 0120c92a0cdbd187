"""The StyleMan API emulator, driven with plain ``requests``: authentication, validation in StyleMan's
shape, both request shapes, order numbers, the look-up, duplicates, recording and faults."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from erp_sandbox.styleman_api import Api


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with Api(tmp_path_factory.mktemp("erp")) as emulator:
        yield emulator  # type: ignore[misc]


@pytest.fixture(autouse=True)
def _reset(api: Api) -> Iterator[None]:
    api.reset()
    yield
    api.reset()


def token(api: Api) -> str:
    reply = requests.post(f"{api.base_url}/token", data={"grant_type": "client_credentials",
                                                         "client_id": api.client_id,
                                                         "client_secret": api.client_secret}, timeout=5)
    assert reply.status_code == 200
    return reply.json()["access_token"]


def bearer(api: Api) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(api)}"}


def sales_order(**overrides: Any) -> dict[str, Any]:
    order: dict[str, Any] = {
        "OrderID": str(uuid.uuid4()), "OrderNumber": "A4S-1", "CustomerGUID": str(uuid.uuid4()),
        "CustomerCode": "C1", "IsOpen": True, "SubTotal": 25.00, "Total": 30.25, "VatTotal": 5.25,
        "Lines": [{"ID": str(uuid.uuid4()), "ItemCode": "TS-M", "Quantity": 2, "PriceExcl": 12.50,
                   "PriceIncl": 15.13, "VatPercentage": 21, "Discount": 0, "TotalDiscount": 0, "LineNumber": 1}],
    }
    order.update(overrides)
    return order


def post(api: Api, body: Any, headers: dict[str, str] | None = None, version: str = "v1") -> requests.Response:
    return requests.post(f"{api.base_url}/api/{version}/Orders", json=body,
                         headers=bearer(api) if headers is None else headers, timeout=5)


def lookup(api: Api, order_id: str, headers: dict[str, str] | None = None) -> requests.Response:
    return requests.get(f"{api.base_url}/api/v1/Orders", params={"$filter": f"OrderID eq '{order_id}'"},
                        headers=bearer(api) if headers is None else headers, timeout=5)


# ===== Authentication =============================================================================================

def test_token_endpoint_issues_bearer_tokens_for_the_client_credentials(api: Api) -> None:
    reply = requests.post(f"{api.base_url}/token", data={"grant_type": "client_credentials",
                                                         "client_id": api.client_id,
                                                         "client_secret": api.client_secret}, timeout=5)
    body = reply.json()
    assert reply.status_code == 200 and body["token_type"] == "bearer" and body["expires_in"] == 3600
    via_basic = requests.post(f"{api.base_url}/token", data={"grant_type": "client_credentials"},
                              auth=(api.client_id, api.client_secret), timeout=5)
    assert via_basic.status_code == 200 and via_basic.json()["access_token"] != body["access_token"]
    assert api.tokens_issued == 2


@pytest.mark.parametrize(("form", "error"), [
    ({"grant_type": "client_credentials", "client_id": "someone", "client_secret": "guess"}, "invalid_client"),
    ({"grant_type": "password", "client_id": "x", "client_secret": "y"}, "unsupported_grant_type"),
])
def test_token_endpoint_refusals(api: Api, form: dict[str, str], error: str) -> None:
    reply = requests.post(f"{api.base_url}/token", data=form, timeout=5)
    assert reply.status_code == 400 and reply.json()["error"] == error
    assert api.tokens_issued == 0


def test_orders_need_a_valid_token_or_basic_login(api: Api) -> None:
    body = sales_order()
    assert post(api, body, headers={}).status_code == 401
    assert post(api, body, headers={"Authorization": "Bearer made-up"}).status_code == 401
    headers = bearer(api)
    api.expire_tokens()
    assert post(api, body, headers=headers).status_code == 401
    basic = requests.auth._basic_auth_str(api.basic_user, api.basic_password)
    assert post(api, body, headers={"Authorization": basic}).status_code == 201
    wrong = requests.auth._basic_auth_str(api.basic_user, "nope")
    assert post(api, sales_order(), headers={"Authorization": wrong}).status_code == 401


def test_anonymous_only_when_styleman_is_set_up_without_authorisation(api: Api) -> None:
    assert lookup(api, str(uuid.uuid4()), headers={}).status_code == 401
    api.allow_anonymous = True
    assert lookup(api, str(uuid.uuid4()), headers={}).status_code == 200


def test_reject_auth_fault_refuses_even_good_credentials(api: Api) -> None:
    headers = bearer(api)
    api.faults.reject_auth = True
    assert post(api, sales_order(), headers=headers).status_code == 401


@pytest.mark.parametrize("auth_type", ["client_credentials", "basic", "none"])
def test_airflow_connection_for_each_auth_type(api: Api, auth_type: str) -> None:
    conn = api.airflow_connection(auth_type, timeout=3)
    assert (conn["conn_type"], conn["host"], conn["port"], conn["schema"]) == ("http", "127.0.0.1", api.port, "http")
    assert conn["extra"] == {"auth_type": auth_type, "timeout": 3}
    logins = {"client_credentials": (api.client_id, api.client_secret),
              "basic": (api.basic_user, api.basic_password), "none": (None, None)}
    assert (conn.get("login"), conn.get("password")) == logins[auth_type]


def test_credentials_are_random_per_emulator(tmp_path: Path) -> None:
    one, two = Api(tmp_path / "a"), Api(tmp_path / "b")
    assert one.client_secret != two.client_secret and one.basic_password != two.basic_password
    assert len(one.client_secret) >= 24


# ===== Orders ======================================================================================================

def test_an_order_is_stored_with_the_next_number_and_echoed(api: Api) -> None:
    first, second = sales_order(), sales_order()
    one, two = post(api, first), post(api, second)
    assert (one.status_code, two.status_code) == (201, 201)
    assert int(two.json()["Number"]) == int(one.json()["Number"]) + 1
    assert one.json()["OrderID"] == first["OrderID"] and one.json()["Lines"] == first["Lines"]
    (stored,) = api.orders_for(first["OrderID"].upper())
    assert stored["Number"] == one.json()["Number"] and str(stored["SubTotal"]) == "25.0"


def test_the_same_order_posted_twice_is_stored_twice_as_a_real_erp_would(api: Api) -> None:
    body = sales_order()
    post(api, body)
    post(api, body)
    assert api.order_count(body["OrderID"]) == 2


def test_wrapped_request_shape_and_reply(api: Api) -> None:
    body = sales_order()
    reply = post(api, {"Results": [{"Results": [body]}]})
    assert reply.status_code == 201
    (inner,) = reply.json()["Results"][0]["Results"]
    assert inner["OrderID"] == body["OrderID"] and inner["Number"]
    assert api.order_count(body["OrderID"]) == 1


@pytest.mark.parametrize(("shape", "wrapped", "accepted"), [
    ("plain", False, True), ("plain", True, False), ("wrapped", True, True), ("wrapped", False, False),
    ("either", True, True), ("either", False, True)])
def test_request_shape_switch(api: Api, shape: str, wrapped: bool, accepted: bool) -> None:
    api.request_shape = shape
    body = sales_order()
    reply = post(api, {"Results": [{"Results": [body]}]} if wrapped else body)
    assert reply.status_code == (201 if accepted else 400)
    if not accepted:
        assert "expected shape" in reply.json()["ModelState"]["salesOrder"][0]
    assert api.order_count(body["OrderID"]) == (1 if accepted else 0)


@pytest.mark.parametrize(("change", "key"), [
    ({"OrderID": "not-a-guid"}, "salesOrder.OrderID"),
    ({"CustomerGUID": None}, "salesOrder.CustomerGUID"),
    ({"CustomerCode": " "}, "salesOrder.CustomerCode"),
    ({"OrderNumber": None}, "salesOrder.OrderNumber"),
    ({"IsOpen": False}, "salesOrder.IsOpen"),
    ({"Total": "30.25"}, "salesOrder.Total"),
    ({"DeliveryAddressID": "ADDR-1"}, "salesOrder.DeliveryAddressID"),
    ({"Lines": []}, "salesOrder.Lines"),
])
def test_header_validation_in_styleman_error_shape(api: Api, change: dict[str, Any], key: str) -> None:
    reply = post(api, sales_order(**change))
    assert reply.status_code == 400
    body = reply.json()
    assert body["Message"] == "The request is invalid." and list(body["ModelState"]) == [key]


@pytest.mark.parametrize(("change", "message"), [
    ({"Quantity": 0}, "Quantity must be greater than 0."),
    ({"Quantity": "2"}, "The Quantity field must be a number."),
    ({"ItemCode": ""}, "The ItemCode field is required."),
    ({"ID": None}, "The ID field is required and must be a GUID."),
    ({"PriceIncl": None}, "The PriceIncl field must be a number."),
    ({"LineNumber": 1.0}, "The LineNumber field must be a whole number."),
])
def test_line_validation(api: Api, change: dict[str, Any], message: str) -> None:
    body = sales_order()
    body["Lines"][0].update(change)
    state = post(api, body).json()["ModelState"]
    assert list(state.values()) == [[message]] and next(iter(state)).startswith("salesOrder.Lines[0].")


def test_a_body_that_is_not_json_is_refused(api: Api) -> None:
    reply = requests.post(f"{api.base_url}/api/v1/Orders", data=b"{not json", timeout=5,
                          headers={**bearer(api), "Content-Type": "application/json"})
    assert reply.status_code == 400 and "not JSON" in reply.json()["ModelState"]["salesOrder"][0]


def test_unknown_version_path_and_method(api: Api) -> None:
    assert post(api, sales_order(), version="v9").status_code == 404
    assert "No HTTP resource was found" in post(api, sales_order(), version="v9").json()["Message"]
    assert post(api, sales_order(), version="v2").status_code == 201
    assert requests.get(f"{api.base_url}/api/v1/Items", headers=bearer(api), timeout=5).status_code == 404
    assert requests.delete(f"{api.base_url}/api/v1/Orders", headers=bearer(api), timeout=5).status_code == 405


# ===== Look-up ====================================================================================================

def test_lookup_by_order_id(api: Api) -> None:
    body = sales_order()
    number = post(api, body).json()["Number"]
    post(api, sales_order())
    found = lookup(api, body["OrderID"]).json()["Results"]
    assert [(o["OrderID"], o["Number"]) for o in found] == [(body["OrderID"], number)]
    assert lookup(api, str(uuid.uuid4())).json() == {"Results": []}
    assert lookup(api, body["OrderID"].upper()).json()["Results"][0]["Number"] == number


@pytest.mark.parametrize("query", ["Nonsense eq 'A4S-1'", "OrderID eq 'x' or 1 eq 1", "OrderID eq 'nope'"])
def test_lookup_refuses_other_filters(api: Api, query: str) -> None:
    reply = requests.get(f"{api.base_url}/api/v1/Orders", params={"$filter": query}, headers=bearer(api), timeout=5)
    assert reply.status_code == 400 and "not valid" in reply.json()["Message"]


# ===== Recording and faults =======================================================================================

def test_accepted_requests_are_recorded_without_credentials(api: Api) -> None:
    before = len(api.recorded())
    headers = bearer(api)
    body = sales_order()
    post(api, body, headers=headers)
    lookup(api, body["OrderID"], headers=headers)
    post(api, sales_order(Lines=[]), headers=headers)  # refused: not recorded
    recorded = api.recorded()[before:]
    assert [(r["method"], r["path"]) for r in recorded] == [("POST", "/api/v1/Orders"), ("GET", "/api/v1/Orders")]
    assert recorded[0]["body"]["OrderID"] == body["OrderID"]
    assert recorded[1]["query"] == {"$filter": [f"OrderID eq '{body['OrderID']}'"]}
    on_disk = "".join(p.read_text() for p in Path(api.root).glob("*.json"))
    for secret in (api.client_secret, api.basic_password, headers["Authorization"].split()[1]):
        assert secret not in on_disk


def test_reply_without_number_fault_still_stores_the_order(api: Api) -> None:
    api.reply_without_number = 1
    body = sales_order()
    reply = post(api, body)
    assert reply.status_code == 201 and "Number" not in reply.json()
    assert api.orders_for(body["OrderID"])[0]["Number"]
    assert "Number" in post(api, sales_order()).json()  # one request only


def test_lost_reply_fault_stores_the_order_and_hangs_up(api: Api) -> None:
    headers = bearer(api)
    api.faults.lose_reply_after_store = 1
    body = sales_order()
    with pytest.raises(requests.ConnectionError):
        post(api, body, headers=headers)
    assert api.order_count(body["OrderID"]) == 1


def test_fail_after_stored_and_fail_next_faults(api: Api) -> None:
    headers = bearer(api)
    api.faults.fail_after_stored = 1
    kept = sales_order()
    assert post(api, kept, headers=headers).status_code == 502
    assert api.order_count(kept["OrderID"]) == 1
    api.faults.fail_next = 1
    refused = sales_order()
    assert post(api, refused, headers=headers).status_code == 503
    assert api.order_count(refused["OrderID"]) == 0


def test_reset_restores_a_well_behaved_styleman_and_keeps_the_orders(api: Api) -> None:
    body = sales_order()
    post(api, body)
    api.allow_anonymous, api.request_shape, api.reply_without_number = True, "wrapped", 3
    api.faults.fail_next = 5
    api.reset()
    assert (api.allow_anonymous, api.request_shape, api.reply_without_number, api.faults.fail_next) == (
        False, "either", 0, 0)
    assert api.order_count(body["OrderID"]) == 1


def test_the_sandboxes_start_the_styleman_emulator(sandboxes: Any) -> None:
    emulator = sandboxes.apis["styleman"]
    assert isinstance(emulator, Api)
    conn = emulator.airflow_connection()
    reply = requests.post(f"http://127.0.0.1:{conn['port']}/token", timeout=5,
                          data={"grant_type": "client_credentials", "client_id": conn["login"],
                                "client_secret": conn["password"]})
    assert reply.status_code == 200
    assert json.loads(json.dumps(conn))["extra"]["auth_type"] == "client_credentials"


# ===== Rules checked on their own, and look-ups on the order's fields ============================================

def test_totals_must_add_up(api: Api) -> None:
    assert post(api, sales_order(Total=30.26)).status_code == 201  # a cent of rounding between them
    reply = post(api, sales_order(Total=31.25))
    assert reply.status_code == 400 and list(reply.json()["ModelState"]) == ["salesOrder.Total"]


def test_repeated_line_numbers_and_ids_are_refused(api: Api) -> None:
    body = sales_order()
    body["Lines"].append(dict(body["Lines"][0]))
    state = post(api, body).json()["ModelState"]
    assert set(state) == {"salesOrder.Lines[1].LineNumber", "salesOrder.Lines[1].ID"}
    assert api.order_count(body["OrderID"]) == 0


def test_dates_and_text_must_bind(api: Api) -> None:
    state = requests.post(f"{api.base_url}/api/v1/Orders", timeout=5, headers={
        **bearer(api), "Content-Type": "application/json"}, data=json.dumps(
        sales_order(OrderDate="15-03-2024", Notes="half \ud83d pair")).encode()).json()["ModelState"]
    assert set(state) == {"salesOrder.OrderDate", "salesOrder.Notes"}


def test_an_unknown_customer_is_refused(api: Api) -> None:
    api.unknown_customers.add("GONE")
    try:
        reply = post(api, sales_order(CustomerCode="GONE"))
    finally:
        api.unknown_customers.clear()
    assert reply.status_code == 400 and list(reply.json()["ModelState"]) == ["salesOrder.CustomerCode"]


def test_lookup_on_any_field_of_the_order(api: Api) -> None:
    ours = sales_order(OrderNumber="A4S-Ω1", Reference="it's", CustomerCode="C9")
    number = post(api, ours).json()["Number"]
    post(api, sales_order(OrderNumber="A4S-Ω1", CustomerCode="C8"))

    def found(query: str) -> list[str]:
        reply = requests.get(f"{api.base_url}/api/v1/Orders", params={"$filter": query}, headers=bearer(api),
                             timeout=5)
        assert reply.status_code == 200, reply.text
        return [o["Number"] for o in reply.json()["Results"]]

    assert found("OrderNumber eq 'A4S-Ω1' and CustomerCode eq 'C9'") == [number]
    assert found("Reference eq 'it''s'") == [number]
    assert found(f"CustomerGUID eq guid'{ours['CustomerGUID']}' and Total eq 30.25") == [number]
    assert found(f"Number eq '{number}'") == [number]
    (held,) = requests.get(f"{api.base_url}/api/v1/Orders", params={"$filter": f"Number eq '{number}'"},
                           headers=bearer(api), timeout=5).json()["Results"]
    assert {k: v for k, v in held.items() if k != "Number"} == ours  # the order in full, as sent
