"""The AccountView emulator behaves like the API the connector meets: auth, envelope checks, faults."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from erp_sandbox.accountview_api import Api

DATA = "/api/v3/accountviewdata"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with Api(tmp_path_factory.mktemp("erp")) as emulator:
        yield emulator


@pytest.fixture(autouse=True)
def _well_behaved(api: Api) -> Iterator[None]:
    api.reset()
    yield
    api.reset()


def token(api: Api) -> str:
    reply = requests.post(api.base_url + "/api/v3/token", data={
        "grant_type": "refresh_token", "client_id": api.client_id, "client_secret": api.client_secret,
        "refresh_token": api.refresh_token}, timeout=5)
    assert reply.status_code == 200, reply.text
    return reply.json()["access_token"]


def call(api: Api, method: str, body: Any = None, *, params: dict[str, str] | None = None,
         headers: dict[str, str] | None = None, raw: bytes | None = None) -> requests.Response:
    sent = {"Authorization": f"Bearer {token(api)}", "x-company": api.company_id,
            "Content-Type": "application/json", **(headers or {})}
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    return requests.request(method, api.base_url + DATA, data=data, params=params, headers=sent, timeout=5)


def envelope(header: dict[str, tuple[str, Any]], lines: list[dict[str, tuple[str, Any]]] | None = None,
             business_object: str = "SO1") -> dict[str, Any]:
    lines = lines if lines is not None else [line(1)]
    body: dict[str, Any] = {
        "BookDate": "2024-03-20T14:05:09", "BusinessObject": business_object,
        "Table": {"Definition": {"Name": "SO_HDR", "Fields": [{"Name": k, "FieldType": t} for k, (t, _) in
                                                                header.items()]}},
        "TableData": {"Data": {"Rows": [{"Values": [v for _, v in header.values()]}]}},
    }
    if lines:
        body["Table"]["DetailDefinitions"] = [{"Name": "SO_LINE", "Fields": [
            {"Name": k, "FieldType": t} for k, (t, _) in lines[0].items()]}]
        body["TableData"]["DetailData"] = [{"Rows": [{"Values": [v for _, v in ln.values()]} for ln in lines]}]
    return body


def head(customer: str = "20010", **more: tuple[str, Any]) -> dict[str, tuple[str, Any]]:
    return {"RowId": ("C", "000001"), "rpl_inv": ("C", customer), "ord_date": ("T", "2024-03-20T14:05:09"),
            **more}


def line(position: int, **more: tuple[str, Any]) -> dict[str, tuple[str, Any]]:
    return {"RowId": ("C", f"{position:06d}"), "HeaderId": ("C", "000001"), "art_code": ("C", f"ART{position}"),
            "ord_qty": ("N", 2), "art_px": ("N", 12.5), **more}


def refused(reply: requests.Response, status: int, *words: str) -> None:
    assert reply.status_code == status, reply.text
    body = reply.json()
    assert set(body) == {"ErrorType", "ErrorNumbers", "ErrorMessage"}
    assert (body["ErrorType"], body["ErrorNumbers"]) == ("AccountViewError", None)
    for word in words:
        assert word in body["ErrorMessage"]


# ===== OAuth2 and company =========================================================================================

def test_token_endpoint_takes_the_refresh_token_grant(api: Api) -> None:
    reply = requests.post(api.base_url + "/api/v3/token", data={
        "grant_type": "refresh_token", "client_id": api.client_id, "client_secret": api.client_secret,
        "refresh_token": api.refresh_token}, timeout=5)
    body = reply.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600 and body["access_token"]


@pytest.mark.parametrize(("change", "status", "error"), [
    ({"client_secret": "wrong"}, 401, "invalid_client"), ({"client_id": "someone"}, 401, "invalid_client"),
    ({"refresh_token": "stale"}, 400, "invalid_grant"), ({"grant_type": "password"}, 400, "invalid_grant"),
])
def test_token_endpoint_refuses_wrong_credentials(api: Api, change: dict[str, str], status: int,
                                                  error: str) -> None:
    form = {"grant_type": "refresh_token", "client_id": api.client_id, "client_secret": api.client_secret,
            "refresh_token": api.refresh_token, **change}
    reply = requests.post(api.base_url + "/api/v3/token", data=form, timeout=5)
    assert (reply.status_code, reply.json()) == (status, {"error": error})


def test_data_calls_need_a_bearer_token_it_issued(api: Api) -> None:
    params = {"BusinessObject": "SO1"}
    for auth in ({}, {"Authorization": "Bearer made-up"}, {"Authorization": f"Basic {api.client_secret}"}):
        reply = requests.get(api.base_url + DATA, params=params, headers={"x-company": api.company_id, **auth},
                             timeout=5)
        assert reply.status_code == 401
    bearer = token(api)
    ok = requests.get(api.base_url + DATA, params=params,
                      headers={"x-company": api.company_id, "Authorization": f"Bearer {bearer}"}, timeout=5)
    assert ok.status_code == 200
    api.expire_tokens()
    expired = requests.get(api.base_url + DATA, params=params,
                           headers={"x-company": api.company_id, "Authorization": f"Bearer {bearer}"}, timeout=5)
    assert expired.status_code == 401


def test_x_company_is_required_and_must_be_this_company(api: Api) -> None:
    refused(call(api, "GET", params={"BusinessObject": "SO1"}, headers={"x-company": ""}), 400, "x-company")
    refused(call(api, "GET", params={"BusinessObject": "SO1"}, headers={"x-company": "OTHER"}), 403, "OTHER")


def test_connection_has_fresh_random_credentials(tmp_path: Path) -> None:
    one, two = Api(tmp_path / "a"), Api(tmp_path / "b")
    with one, two:
        first, second = one.airflow_connection(), two.airflow_connection()
    assert first["login"] != second["login"] and first["password"] != second["password"]
    assert first["extra"]["refresh_token"] != second["extra"]["refresh_token"]
    assert first["extra"]["x-company"] != second["extra"]["x-company"]
    assert first["conn_type"] == "http" and first["host"] == "127.0.0.1"


# ===== Inserting and updating ====================================================================================

def test_post_creates_a_numbered_order_and_put_adds_lines(api: Api) -> None:
    first = call(api, "POST", envelope(head(comment3=("C", "REF-POST")), [line(1), line(2)]))
    assert first.status_code == 200, first.text
    number = first.json()["SO_HDR"][0]["ORD_NR"]
    assert first.json()["SO_LINE"] == [{"RowId": "000001", "ORD_NR": number}, {"RowId": "000002", "ORD_NR": number}]
    second = call(api, "POST", envelope(head(comment3=("C", "REF-POST-2"))))
    assert int(second.json()["SO_HDR"][0]["ORD_NR"]) == int(number) + 1

    update = envelope({"RowId": ("C", "000001"), "ORD_NR": ("C", number)}, [line(3), line(4), line(5)])
    assert call(api, "PUT", update).status_code == 200
    assert api.line_count(number) == 5
    assert [ln["ROWID"] for ln in api.lines(number)] == ["000001", "000002", "000003", "000004", "000005"]
    assert api.lines(number)[0]["ART_PX"] == Decimal("12.5")
    assert api.order_count("REF-POST") == 1 and api.header(number)["RPL_INV"] == "20010"


def test_put_to_an_unknown_order_is_refused(api: Api) -> None:
    refused(call(api, "PUT", envelope({"RowId": ("C", "000001"), "ORD_NR": ("C", "99999")}, [line(1)])), 400,
            "99999", "does not exist")


@pytest.mark.parametrize(("body", "words"), [
    (envelope(head(colour=("C", "red"))), ["unknown field colour"]),
    (envelope(head(X99_NOPE=("C", "x"))), ["unknown field X99_NOPE"]),
    (envelope(head(ord_date=("C", "2024-03-20T14:05:09"))), ["ORD_DATE", "does not match"]),
    (envelope(head(del_date=("D", "02-04-2024"))), ["DEL_DATE", "FieldType D"]),
    (envelope(head(del_date=("D", "2024-02-30"))), ["DEL_DATE", "FieldType D"]),
    (envelope(head(ORDER_TYPE=("L", "true"))), ["ORDER_TYPE", "FieldType L"]),
    (envelope(head(), [line(1, ord_qty=("N", "2"))]), ["ORD_QTY", "FieldType N"]),
    (envelope(head(), [line(1, ord_qty=("X", 2))]), ["unknown FieldType"]),
    (envelope(head(), [line(1, ord_qtyu=("N", 2))]), ["exactly one of ord_qty and ord_qtyu"]),
    (envelope(head(), [line(1, HeaderId=("C", "000002"))]), ["HeaderId 000002"]),
    (envelope(head(), [line(1), line(1)]), ["RowId occurs twice"]),
    (envelope(head(), [line(1, art_code=("C", " "))]), ["art_code"]),
    (envelope(head(customer="")), ["debtor"]),
    (envelope(head(ORD_NR=("C", "123"))), ["ORD_NR is assigned by AccountView"]),
    (envelope(head(), business_object="SO2"), ["Business object 'SO2'"]),
    (envelope(head(file_data=("M", "not base64!"))), ["file_data is not base64"]),
    ({"BusinessObject": "SO1"}, ["Table and TableData"]),
])
def test_invalid_envelopes_are_refused_in_accountviews_error_shape(api: Api, body: dict[str, Any],
                                                                    words: list[str]) -> None:
    refused(call(api, "POST", body), 400, *words)


def test_values_are_positional_one_per_defined_field(api: Api) -> None:
    body = envelope(head())
    body["TableData"]["Data"]["Rows"][0]["Values"].append("extra")
    refused(call(api, "POST", body), 400, "4 values for 3 fields")
    body = envelope(head(), [line(1)])
    body["TableData"]["DetailData"][0]["Rows"][0]["Values"].pop()
    refused(call(api, "POST", body), 400, "SO_LINE row 1", "4 values for 5 fields")


def test_custom_fields_are_known_per_company(api: Api) -> None:
    ok = call(api, "POST", envelope(head(X11_A4S_REF=("C", "REF-CUSTOM"))))
    assert ok.status_code == 200 and api.order_count("REF-CUSTOM") == 1
    refused(call(api, "POST", envelope(head(X11_A4S_REF=("N", 1)))), 400, "does not match")


def test_json_is_required(api: Api) -> None:
    refused(call(api, "POST", raw=b"<order/>", headers={"Content-Type": "application/xml"}), 415, "application/json")
    refused(call(api, "POST", raw=b"{not json"), 400, "not valid JSON")


# ===== Reading back ==============================================================================================

def test_get_filters_orders_like_accountview(api: Api) -> None:
    pdf = base64.b64encode(b"%PDF-1.4 get").decode()
    created = call(api, "POST", envelope(head("GET-CUST", comment3=("C", "REF-GET"), file_data=("M", pdf)),
                                         [line(1), line(2)]))
    number = created.json()["SO_HDR"][0]["ORD_NR"]

    def get(*filters: tuple[str, str, str, str]) -> dict[str, Any]:
        params = {"BusinessObject": "SO1"}
        for n, (source, operator, value_type, value) in enumerate(filters, start=1):
            params.update({f"FilterControlSource{n}": source, f"FilterOperator{n}": operator,
                           f"FilterValueType{n}": value_type, f"FilterValue{n}": value})
        reply = call(api, "GET", params=params)
        assert reply.status_code == 200, reply.text
        return reply.json()

    by_number = get(("ORD_NR", "Equal", "C", number))
    assert [h["ORD_NR"] for h in by_number["SO_HDR"]] == [number]
    assert [(ln["ORD_NR"], ln["ROWID"]) for ln in by_number["SO_LINE"]] == [(number, "000001"), (number, "000002")]
    both = get(("rpl_inv", "Equal", "C", "GET-CUST"), ("ord_date", "Equal", "T", "2024-03-20T14:05:09"))
    assert [h["ORD_NR"] for h in both["SO_HDR"]] == [number]
    assert get(("rpl_inv", "Equal", "C", "GET-CUST"), ("ord_date", "Equal", "T", "2024-03-20T14:05:10"))[
        "SO_HDR"] == []
    assert [h["ORD_NR"] for h in get(("comment3", "Contains", "C", "ref-g"))["SO_HDR"]] == [number]
    assert number not in [h["ORD_NR"] for h in get(("rpl_inv", "NotEqual", "C", "GET-CUST"))["SO_HDR"]]
    assert api.attachment(number) == b"%PDF-1.4 get"


@pytest.mark.parametrize(("params", "words"), [
    ({"BusinessObject": "AR1"}, ["Business object 'AR1'"]),
    ({"BusinessObject": "SO1", "FilterControlSource1": "nope", "FilterOperator1": "Equal",
      "FilterValueType1": "C", "FilterValue1": "x"}, ["unknown field NOPE"]),
    ({"BusinessObject": "SO1", "FilterControlSource1": "rpl_inv", "FilterOperator1": "Like",
      "FilterValueType1": "C", "FilterValue1": "x"}, ["operator Like"]),
    ({"BusinessObject": "SO1", "FilterControlSource1": "rpl_inv", "FilterOperator1": "Equal"}, ["FilterValue1"]),
])
def test_bad_reads_are_refused(api: Api, params: dict[str, str], words: list[str]) -> None:
    refused(call(api, "GET", params=params), 400, *words)


# ===== Faults ====================================================================================================

def test_fail_writes_refuses_chosen_later_writes_without_storing(api: Api) -> None:
    api.fail_writes(after=1, times=2, status=503)
    assert call(api, "POST", envelope(head(comment3=("C", "REF-F1")))).status_code == 200
    assert call(api, "POST", envelope(head(comment3=("C", "REF-F2")))).status_code == 503
    assert call(api, "POST", envelope(head(comment3=("C", "REF-F2")))).status_code == 503
    assert call(api, "POST", envelope(head(comment3=("C", "REF-F2")))).status_code == 200
    assert (api.order_count("REF-F1"), api.order_count("REF-F2")) == (1, 1)
    api.fail_writes(status=400, message="Debiteur 20010 is geblokkeerd")
    refused(call(api, "POST", envelope(head(comment3=("C", "REF-F3")))), 400, "geblokkeerd")
    assert api.order_count("REF-F3") == 0


def test_lose_write_replies_stores_then_hangs_up(api: Api) -> None:
    api.lose_write_replies(after=0, times=1)
    with pytest.raises(requests.exceptions.ConnectionError):
        call(api, "POST", envelope(head(comment3=("C", "REF-LOST"))))
    assert api.order_count("REF-LOST") == 1
    assert call(api, "POST", envelope(head(comment3=("C", "REF-LOST-2")))).status_code == 200


def test_reply_without_number_stores_but_says_no_number(api: Api) -> None:
    api.reply_without_number = 1
    reply = call(api, "POST", envelope(head(comment3=("C", "REF-NONUM"))))
    assert reply.status_code == 200 and "ORD_NR" not in reply.json()["SO_HDR"][0]
    assert api.order_count("REF-NONUM") == 1


def test_base_faults_apply(api: Api) -> None:
    bearer = token(api)
    api.faults.fail_next, api.faults.fail_status = 1, 502
    reply = requests.get(api.base_url + DATA, params={"BusinessObject": "SO1"},
                         headers={"Authorization": f"Bearer {bearer}", "x-company": api.company_id}, timeout=5)
    assert reply.status_code == 502
    api.faults.reject_auth = True
    assert requests.post(api.base_url + "/api/v3/token", data={}, timeout=5).status_code == 401


def test_accepted_writes_are_recorded_without_credentials(api: Api) -> None:
    before = {p.name for p in api.root.glob("*.json")}
    bearer = token(api)
    number = call(api, "POST", envelope(head(comment3=("C", "REF-REC")), [line(1)])).json()["SO_HDR"][0]["ORD_NR"]
    new = [p for p in api.root.glob("*.json") if p.name not in before]
    assert [p.name.split("-", 1)[1] for p in new] == [f"POST-SO1-{number}.json"]
    text = new[0].read_text()
    recorded = json.loads(text)
    assert recorded["body"]["TableData"]["DetailData"][0]["Rows"][0]["Values"][4] == 12.5  # a number stays a number
    for secret in (bearer, api.client_secret, api.refresh_token, api.client_id):
        assert secret not in text
    assert not [p for p in api.root.glob("*.json") if "token" in p.name.lower()]


# ===== Rules checked on their own ===================================================================================

def test_text_outside_windows_1252_is_refused(api: Api) -> None:
    assert call(api, "POST", envelope(head(comment1=("C", "Café \u2013 €5")))).status_code == 200
    refused(call(api, "POST", envelope(head(comment1=("C", "Snowman ☃")))), 400, "COMMENT1", "Windows-1252")
    refused(call(api, "POST", envelope(head(), [line(1, art_desc1=("C", "日本"))])), 400, "ART_DESC1")


def test_unknown_debtors_and_items_are_refused(api: Api) -> None:
    api.unknown_debtors.add("99999")
    api.unknown_items.add("ART2")
    try:
        refused(call(api, "POST", envelope(head("99999"))), 400, "Debtor 99999")
        refused(call(api, "POST", envelope(head(), [line(1), line(2)])), 400, "ART2")
    finally:
        api.unknown_debtors.clear()
        api.unknown_items.clear()


def test_a_put_may_not_repeat_a_line_row_id(api: Api) -> None:
    number = call(api, "POST", envelope(head(), [line(1), line(2)])).json()["SO_HDR"][0]["ORD_NR"]
    again = envelope({"RowId": ("C", "000001"), "ORD_NR": ("C", number)}, [line(2), line(3)])
    refused(call(api, "PUT", again), 400, "000002", "already exists")
    assert api.line_count(number) == 2
    more = envelope({"RowId": ("C", "000001"), "ORD_NR": ("C", number)}, [line(3)])
    assert call(api, "PUT", more).status_code == 200 and api.line_count(number) == 3


def test_look_up_on_any_header_field_returns_the_rows_with_their_lines(api: Api) -> None:
    number = call(api, "POST", envelope(head("30030", comment1=("C", "PO-1"), del_date=("D", "2024-04-01")),
                                        [line(1), line(2)])).json()["SO_HDR"][0]["ORD_NR"]
    for source, value in (("comment1", "PO-1"), ("ORD_NR", number), ("rpl_inv", "30030")):
        body = call(api, "GET", params={"BusinessObject": "SO1", "FilterControlSource1": source,
                                        "FilterOperator1": "Equal", "FilterValueType1": "C",
                                        "FilterValue1": value}).json()
        assert [h["ORD_NR"] for h in body["SO_HDR"]] == [number]
        assert body["SO_HDR"][0]["DEL_DATE"] == "2024-04-01" and body["SO_HDR"][0]["COMMENT1"] == "PO-1"
        assert [(ln["ORD_NR"], ln["ART_CODE"], Decimal(str(ln["ART_PX"]))) for ln in body["SO_LINE"]] == [
            (number, "ART1", Decimal("12.5")), (number, "ART2", Decimal("12.5"))]
