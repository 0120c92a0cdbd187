"""The Spector API emulator over plain HTTP: authentication, validation, result codes, records, faults."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from erp_sandbox import ERP_API_MODULES, Sandboxes
from erp_sandbox.spector_api import Api

ORDERS = "/api/v2/orders"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with Api(tmp_path_factory.mktemp("erp")) as emulator:
        yield emulator  # type: ignore[misc]


@pytest.fixture
def company(api: Api) -> Iterator[str]:
    api.faults.reset()
    yield api.new_company()
    api.faults.reset()
    api.unknown_customers.clear()
    api.unknown_articles.clear()
    api.stock_sites = None


def headers(api: Api, company: str, **changes: str) -> dict[str, str]:
    values = {"X-SBM-Id": company, "X-Integration-Token": api.integration_token, **changes}
    return {k: v for k, v in values.items() if v}


def call(api: Api, company: str, method: str, path: str = ORDERS, *, auth: tuple[str, str] | None = None,
         body: Any = None, raw: bytes | None = None, params: dict[str, str] | None = None,
         timeout: float = 10, **header_changes: str) -> requests.Response:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    return requests.request(method, api.base_url + path, data=data, params=params, timeout=timeout,
                            auth=auth if auth is not None else (api.api_user, api.api_key),
                            headers={"Content-Type": "application/json", **headers(api, company, **header_changes)})


def order(nr: str, **header: Any) -> dict[str, Any]:
    line = {"lineNumber": 1, "articleNumber": "SHIRT", "articleName": "Shirt", "addArticleComment": False,
            "priceExclVAT": 12.5, "numberOfItems": 2, "vatPercentage": 21, "discount": 0}
    return {"externalOrderNo": nr, "customerId": "C1", "orderDate": "2024-03-15", "lines": [line], **header}


def test_the_sandboxes_start_it_as_the_spector_api(tmp_path: Path) -> None:
    assert ERP_API_MODULES["spector"] == "erp_sandbox.spector_api"
    with Sandboxes(tmp_path, "app4sales") as boxes:
        emulator = boxes.apis["spector"]
        conn = emulator.airflow_connection()
        assert conn["port"] == emulator.port and conn["conn_type"] == "http"
        reply = requests.get(f"{emulator.base_url}{ORDERS}", params={"externalOrderNo": "1"}, timeout=10,
                             auth=(conn["login"], conn["password"]),
                             headers={"X-SBM-Id": conn["extra"]["sbm_id"],
                                      "X-Integration-Token": conn["extra"]["X-Integration-Token"]})
        assert reply.status_code == 200 and reply.json()["orders"] == []


def test_credentials_are_random_per_instance(tmp_path: Path) -> None:
    one, two = Api(tmp_path / "one"), Api(tmp_path / "two")
    assert one.api_key != two.api_key and one.integration_token != two.integration_token
    assert one.api_user != two.api_user and one.default_company != two.default_company


@pytest.mark.parametrize("wrong", ["user", "key", "token", "company", "no-auth"])
def test_every_credential_is_checked(api: Api, company: str, wrong: str) -> None:
    auth = {"user": ("intruder", api.api_key), "key": (api.api_user, "guess"), "no-auth": ("", "")}.get(
        wrong, (api.api_user, api.api_key))
    changes = {"token": {"X-Integration-Token": "guess"}, "company": {"X-SBM-Id": "1"}}.get(wrong, {})
    reply = call(api, company, "POST", auth=auth, body=order("A1"), **changes)
    assert reply.status_code == 401
    assert api.order_count("A1", company) == 0


def test_orders_get_sequential_numbers(api: Api, company: str) -> None:
    first = call(api, company, "POST", body=order("B1")).json()
    second = call(api, company, "POST", body=order("B2")).json()
    assert first["result"] == second["result"] == 1 and first["message"] == "Order created"
    assert int(second["orderNo"]) == int(first["orderNo"]) + 1
    assert set(api.orders(company)) == {first["orderNo"], second["orderNo"]}


def test_an_invalid_order_is_refused_with_one_error_per_field(api: Api, company: str) -> None:
    bad = order("C1", customerReference="x" * 71)
    bad["lines"][0].pop("articleName")
    bad["lines"][0]["numberOfItems"] = 2.5
    reply = call(api, company, "POST", body=bad)
    assert reply.status_code == 400
    body = reply.json()
    assert body["result"] == 30 and body["message"] == "The order failed validation"
    assert [e["field"] for e in body["errors"]] == ["customerReference", "lines[1].articleName",
                                                    "lines[1].numberOfItems"]
    assert api.order_count("C1", company) == 0


def test_a_body_that_is_not_json_is_refused(api: Api, company: str) -> None:
    reply = call(api, company, "POST", raw=b"<order/>")
    assert reply.status_code == 400 and reply.json()["result"] == 30


def test_a_second_order_with_the_same_external_number_is_not_stored(api: Api, company: str) -> None:
    first = call(api, company, "POST", body=order("D1")).json()
    again = call(api, company, "POST", body=order("D1"))
    assert again.status_code == 200
    assert again.json() == {"result": 10, "message": "An order with externalOrderNo D1 already exists",
                            "orderNo": first["orderNo"]}
    assert api.order_count("D1", company) == 1


def test_companies_keep_their_own_orders(api: Api, company: str) -> None:
    other = api.new_company()
    call(api, company, "POST", body=order("E1"))
    assert call(api, other, "POST", body=order("E1")).json()["result"] == 1
    assert api.order_count("E1", company) == api.order_count("E1", other) == 1


def test_fatal_result_codes_store_nothing(api: Api, company: str) -> None:
    api.unknown_customers.add("GONE")
    api.stock_sites = {1, 2}
    unknown = call(api, company, "POST", body=order("F1", customerId="GONE")).json()
    assert unknown == {"result": 20, "message": "Customer GONE not found"}
    site = call(api, company, "POST", body=order("F2", stockSiteId=7)).json()
    assert site == {"result": 22, "message": "Stock site 7 not found"}
    assert call(api, company, "POST", body=order("F3", stockSiteId=2)).json()["result"] == 1
    assert api.order_count("F1", company) == api.order_count("F2", company) == 0


def test_an_unknown_article_is_the_non_fatal_result_2(api: Api, company: str) -> None:
    api.unknown_articles.add("SHIRT")
    reply = call(api, company, "POST", body=order("G1"))
    assert reply.status_code == 201
    assert reply.json()["result"] == 2 and "SHIRT" in reply.json()["message"] and reply.json()["orderNo"]
    assert api.order_count("G1", company) == 1


def test_look_up_by_external_order_number(api: Api, company: str) -> None:
    created = call(api, company, "POST", body=order("H1")).json()
    found = call(api, company, "GET", params={"externalOrderNo": "H1"}).json()
    assert found["result"] == 1
    assert found["orders"] == [{"orderNo": created["orderNo"], "externalOrderNo": "H1", "customerId": "C1",
                                "orderDate": "2024-03-15"}]
    assert call(api, company, "GET", params={"externalOrderNo": "H2"}).json()["orders"] == []
    assert call(api, company, "GET").status_code == 400
    detail = call(api, company, "GET", f"{ORDERS}/{created['orderNo']}").json()
    assert detail["order"]["externalOrderNo"] == "H1"
    assert call(api, company, "GET", f"{ORDERS}/1").status_code == 404
    assert call(api, company, "POST", "/api/v1/orders", body=order("H3")).json()["result"] == 44


def test_accepted_requests_are_kept_on_disk_without_credentials(api: Api, company: str) -> None:
    created = call(api, company, "POST", body=order("J1", internalComment="Bel vooraf")).json()
    call(api, company, "GET", params={"externalOrderNo": "J1"})
    files = sorted(api.root.glob("*.json"))
    stored = json.loads(next(p for p in files if p.name.endswith(f"-POST-order-{created['orderNo']}.json")).read_text())
    assert stored["body"]["internalComment"] == "Bel vooraf" and stored["path"] == ORDERS
    assert any(p.name.endswith("-GET-lookup-J1.json") for p in files)
    everything = "".join(p.read_text() for p in files)
    for secret in (api.api_key, api.integration_token, api.api_user):
        assert secret not in everything


def test_fault_5xx_then_recovery(api: Api, company: str) -> None:
    api.faults.fail_next = 1
    assert call(api, company, "POST", body=order("K1")).status_code == 503
    assert api.order_count("K1", company) == 0
    assert call(api, company, "POST", body=order("K1")).status_code == 201


def test_fault_reply_lost_after_the_order_was_stored(api: Api, company: str) -> None:
    api.faults.lose_reply_after_store = 1
    with pytest.raises(requests.ConnectionError):
        call(api, company, "POST", body=order("L1"))
    assert api.order_count("L1", company) == 1
    assert call(api, company, "GET", params={"externalOrderNo": "L1"}).json()["orders"][0]["externalOrderNo"] == "L1"


def test_fault_slow_reply(api: Api, company: str) -> None:
    api.faults.delay_seconds = 0.6
    with pytest.raises(requests.Timeout):
        call(api, company, "GET", params={"externalOrderNo": "M1"}, timeout=0.2)
    api.faults.reset()
    assert call(api, company, "GET", params={"externalOrderNo": "M1"}).status_code == 200


def test_fault_refused_authentication(api: Api, company: str) -> None:
    api.faults.reject_auth = True
    assert call(api, company, "POST", body=order("N1")).status_code == 401
    assert api.order_count("N1", company) == 0


# ===== Rules of the seed's DTOs, checked on their own =============================================================

@pytest.mark.parametrize(("field", "ok", "too_long"), [
    ("articleNumber", "😀" * 25, "A" * 49 + "😀"),  # MaxLength 50 counts UTF-16 code units, as .NET does
    ("articleName", "é" * 130, "x" * 131),
    ("articleComment", "x" * 200, "x" * 199 + "😀"),
])
def test_line_lengths_count_utf16_code_units(api: Api, company: str, field: str, ok: str, too_long: str) -> None:
    good, bad = order("U1"), order("U2")
    good["lines"][0][field], bad["lines"][0][field] = ok, too_long
    assert call(api, company, "POST", body=good).json()["result"] == 1
    reply = call(api, company, "POST", body=bad).json()
    assert reply["result"] == 30 and [e["field"] for e in reply["errors"]] == [f"lines[1].{field}"]


@pytest.mark.parametrize(("field", "limit"), [("customerReference", 70), ("customerOrderReference", 50),
                                              ("externalDeliveryMethod", 100)])
def test_header_lengths(api: Api, company: str, field: str, limit: int) -> None:
    assert call(api, company, "POST", body=order(f"V{limit}", **{field: "ß" * limit})).json()["result"] == 1
    reply = call(api, company, "POST", body=order(f"W{limit}", **{field: "ß" * (limit - 1) + "😀"})).json()
    assert reply["result"] == 30 and [e["field"] for e in reply["errors"]] == [field]


def test_repeated_line_numbers_and_bad_text_are_refused(api: Api, company: str) -> None:
    body = order("X1", internalComment="bel\x07 aan")
    body["lines"].append({**body["lines"][0], "articleName": "half \ud83d pair"})
    reply = call(api, company, "POST", raw=json.dumps(body).encode()).json()
    assert reply["result"] == 30
    assert [e["field"] for e in reply["errors"]] == ["internalComment", "lines[2].articleName", "lines[2].lineNumber"]
    assert api.order_count("X1", company) == 0


@pytest.mark.parametrize(("change", "field"), [
    ({"customerId": None}, "customerId"), ({"orderDate": "15-03-2024"}, "orderDate"),
    ({"currency": "eur"}, "currency"), ({"stockSiteId": 2**31}, "stockSiteId"), ({"ourReferenceUserId": "7"},
                                                                                   "ourReferenceUserId"),
    ({"discountCode": "X"}, "discountCode"),
])
def test_header_types(api: Api, company: str, change: dict[str, Any], field: str) -> None:
    reply = call(api, company, "POST", body=order("Y1", **change)).json()
    assert reply["result"] == 30 and [e["field"] for e in reply["errors"]] == [field]


def test_the_external_number_is_unique_per_company_whoever_sends_it(api: Api, company: str) -> None:
    """Two App4Sales administrations posting to one Spector company share its external numbers."""
    first = call(api, company, "POST", body=order("1001", customerId="SHOP-A")).json()
    second = call(api, company, "POST", body=order("1001", customerId="SHOP-B")).json()
    assert second["result"] == 10 and second["orderNo"] == first["orderNo"]
    assert [o["customerId"] for o in api.orders_for("1001", company)] == ["SHOP-A"]
