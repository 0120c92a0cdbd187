"""StyleMan end to end: load orders, run the DAG (``dag.test()``), read back what the StyleMan emulator
received, and check that StyleMan holds exactly one order per App4Sales order that was sent.

Every order has a GUID of its own, so the session-wide emulator's orders never mix between tests.
"""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from backoffice_export import export_state
from backoffice_export.document import load_document
from tests.e2e.conftest import task_states
from tests.unit.styleman_documents import CUSTOMER_GUID, bind, guids, sm_order, styleman_admin

ADDRESS_GUID = "a1b2c3d4-e5f6-4789-8abc-def012345678"
SEND = "styleman.send_chunk"


@pytest.fixture
def styleman(sandboxes: Any) -> Iterator[Any]:
    api = sandboxes.apis["styleman"]
    api.reset()
    yield api
    api.reset()


def states(engine: Any, administration: str) -> dict[str, export_state.OrderState]:
    return {r.internal_order_nr: r for r in export_state.states(engine, administration=administration)}


def received(api: Any, order_id: str) -> list[dict[str, Any]]:
    """What the emulator recorded for this order: every POST body and look-up, oldest first."""
    return [r for r in api.recorded() if order_id in str(r["body"]) or order_id in str(r["query"])]


def assert_sent_exactly_once(api: Any, engine: Any, administration: str, numbers: dict[str, str]) -> None:
    """Each App4Sales order: one StyleMan order, whose number is on the order and in the ledger."""
    rows = states(engine, administration)
    for nr, order_id in numbers.items():
        (stored,) = api.orders_for(order_id)
        row = rows[nr]
        assert row.state == "sent", (nr, row.error)
        assert row.order_nr == row.backoffice_order_nr == stored["Number"]


def test_settings_off_and_on_every_auth_type_and_bad_orders(export_dag, sqlite_engine, styleman, monkeypatch) -> None:
    token_conn = bind(monkeypatch, styleman)
    basic_conn = bind(monkeypatch, styleman, auth_type="basic")
    open_conn = bind(monkeypatch, styleman, auth_type="none")
    styleman.allow_anonymous = True  # the third administration's StyleMan runs without authorisation
    address = {"guid": ADDRESS_GUID, "name": "Magazijn Zuid", "address1": "Kerkstraat 42-f3",
               "postal_code": "1017 GM", "city": "Amsterdam", "country_iso2": "NL"}
    document = {"administrations": [
        styleman_admin("sm-defaults", token_conn, orders=[
            sm_order("1", alternate_address=address, notes="Levering € 5 → voor 12:00",
                     lines=[{"item": "TS-M", "quantity": "2", "price": "12.50", "delivery_date": "2026-12-01"}]),
            sm_order("2", customer="C2", items=("TS-M", "CAP"), alternate_address={**address, "guid": "ADDR-7"}),
            sm_order("3", customer="NO-GUID"),
            sm_order("4", quantity="0"),
        ]),
        styleman_admin("sm-switched", basic_conn, settings={
            "ValidateOrderBeforeSending": True, "UseResultsTagForRequest": True,
            "DontSendAlternativeAddressOnOrder": True, "FilterNonIso88591Characters": True,
            "OrderType": "VO", "ApiVersion": "v2"}, orders=[
            sm_order("1", alternate_address=address, notes="Levering € 5 → voor 12:00"),
            sm_order("2"),
        ]),
        styleman_admin("sm-open", open_conn, orders=[sm_order("1")]),
    ]}
    load_document(sqlite_engine, document)
    ids = {a["code"]: guids({"administrations": [a]}) for a in document["administrations"]}

    run = export_dag.test()
    assert run.state == "success"
    assert task_states(run)[SEND] == ["success"] * 3  # bad orders fail alone, the tasks do not

    defaults = ids["sm-defaults"]
    assert_sent_exactly_once(styleman, sqlite_engine, "sm-defaults", {nr: defaults[nr] for nr in ("1", "2")})
    assert_sent_exactly_once(styleman, sqlite_engine, "sm-switched", ids["sm-switched"])
    assert_sent_exactly_once(styleman, sqlite_engine, "sm-open", ids["sm-open"])

    # Every switch off: bare SalesOrder to v1, no look-up first, the address and its id, text as is.
    (posted,) = received(styleman, defaults["1"])
    assert (posted["method"], posted["path"]) == ("POST", "/api/v1/Orders")
    first = posted["body"]
    assert first["OrderID"] == defaults["1"] and first["OrderNumber"] == "1" and first["IsOpen"] is True
    assert first["DeliveryAddress"]["Address1"] == "Kerkstraat 42-f3" and first["DeliveryAddressID"] == ADDRESS_GUID
    assert first["Notes"] == "Levering € 5 → voor 12:00" and "OrderType" not in first
    assert (first["Username"], first["Warehouse"]) == ("jan.devries", "AMS-01")
    assert first["Lines"][0]["DeliveryDate"] == "2026-12-01T00:00:00"
    assert (first["SubTotal"], first["VatTotal"], first["Total"]) == (25.0, 5.25, 30.25)
    (line,) = first["Lines"]
    assert (line["PriceExcl"], line["PriceIncl"], line["DefaultPrice"]) == (12.5, 15.12, 12.5)  # 15.125: even
    second = received(styleman, defaults["2"])[0]["body"]
    assert "DeliveryAddress" in second and "DeliveryAddressID" not in second  # ADDR-7 is no GUID
    assert [line["Discount"] for line in second["Lines"]] == [5, 5]

    rows = states(sqlite_engine, "sm-defaults")
    assert rows["3"].state == "failed" and rows["3"].error == "order 3 (sm-defaults): Customer.Guid: is missing"
    assert rows["4"].state == "failed" and rows["4"].error == (
        "order 4 (sm-defaults): ERROR: StyleMan answered HTTP 400: The request is invalid. "
        "salesOrder.Lines[0].Quantity: Quantity must be greater than 0.")
    assert styleman.order_count(defaults["3"]) == styleman.order_count(defaults["4"]) == 0
    assert rows["1"].destination == f"{styleman.base_url}/api/v1/Orders"

    # Every switch on: look-up first, wrapped SalesOrder to v2, no address, ISO-8859-1 only, order type.
    lookup, posted = received(styleman, ids["sm-switched"]["1"])
    assert (lookup["method"], posted["method"], posted["path"]) == ("GET", "POST", "/api/v2/Orders")
    (switched,) = posted["body"]["Results"][0]["Results"]
    assert "DeliveryAddress" not in switched and "DeliveryAddressID" not in switched
    assert switched["Notes"] == "Levering EUR 5  voor 12:00" and switched["OrderType"] == "VO"
    assert states(sqlite_engine, "sm-switched")["1"].destination == f"{styleman.base_url}/api/v2/Orders"

    posts = {g: styleman.order_count(g) for code in ids for g in ids[code].values()}
    rerun = export_dag.test()
    assert rerun.state == "success"
    assert {g: styleman.order_count(g) for g in posts} == posts  # nothing sent twice
    assert states(sqlite_engine, "sm-defaults")["4"].attempts == 1  # a refused order waits for a fix


def test_validate_order_before_sending_finds_an_order_styleman_already_has(
        export_dag, sqlite_engine, styleman, monkeypatch) -> None:
    """The seed's case: an order reached StyleMan but App4Sales never heard (e.g. sent before a crash)."""
    on_conn, off_conn = bind(monkeypatch, styleman, auth_type="basic"), bind(monkeypatch, styleman)
    document = {"administrations": [
        styleman_admin("sm-validate-on", on_conn, settings={"ValidateOrderBeforeSending": True},
                       orders=[sm_order("1")]),
        styleman_admin("sm-validate-off", off_conn, orders=[sm_order("1")]),
    ]}
    load_document(sqlite_engine, document)
    on_id = document["administrations"][0]["orders"][0]["guid"]
    off_id = document["administrations"][1]["orders"][0]["guid"]
    earlier = {g: _post_directly(styleman, g) for g in (on_id, off_id)}

    run = export_dag.test()
    assert run.state == "success"
    on = states(sqlite_engine, "sm-validate-on")["1"]
    assert on.state == "sent" and on.order_nr == on.backoffice_order_nr == earlier[on_id]
    assert [r["method"] for r in received(styleman, on_id)] == ["POST", "GET"]  # ours: the look-up only
    assert styleman.order_count(on_id) == 1
    # Off, a first attempt does not look (as in the seed), so StyleMan now holds the order twice: the
    # reason the setting exists. Retries of our own never duplicate (the other tests).
    off = states(sqlite_engine, "sm-validate-off")["1"]
    assert off.state == "sent" and off.backoffice_order_nr != earlier[off_id]
    assert [r["method"] for r in received(styleman, off_id)] == ["POST", "POST"]


def _post_directly(api: Any, order_id: str) -> str:
    """Create an order in StyleMan outside the export, as an earlier lost hand-off would have: the same
    order (number, customer, lines, totals), so the look-up may prove it is this one."""
    body = {"OrderID": order_id, "OrderNumber": "1", "CustomerGUID": CUSTOMER_GUID, "CustomerCode": "C1",
            "IsOpen": True, "SubTotal": 25, "Total": 30.25, "VatTotal": 5.25,
            "Lines": [{"ID": str(uuid.uuid4()), "ItemCode": "TS-M", "Quantity": 2, "PriceExcl": 12.5,
                       "PriceIncl": 15.12, "VatPercentage": 21, "Discount": 0, "TotalDiscount": 0, "LineNumber": 1}]}
    reply = requests.post(f"{api.base_url}/api/v1/Orders", json=body, timeout=5,
                          auth=(api.basic_user, api.basic_password))
    assert reply.status_code == 201
    return reply.json()["Number"]


def test_transient_faults_are_retried_with_backoff_without_a_duplicate(
        export_dag, sqlite_engine, styleman, monkeypatch) -> None:
    conn_id = bind(monkeypatch, styleman)
    document = {"administrations": [styleman_admin("sm-faults", conn_id,
                                                   orders=[sm_order("1"), sm_order("2"), sm_order("3")])]}
    load_document(sqlite_engine, document)
    styleman.faults.fail_next = 1  # the token request answers 503
    styleman.faults.lose_reply_after_store = 1  # order 1 is stored, its reply lost
    styleman.faults.fail_after_stored = 1  # order 2 is stored, the reply says 502

    run = export_dag.test()
    assert run.state == "success" and task_states(run)[SEND] == ["success"]
    assert_sent_exactly_once(styleman, sqlite_engine, "sm-faults", guids(document))
    assert (styleman.faults.fail_next, styleman.faults.lose_reply_after_store, styleman.faults.fail_after_stored) == (
        0, 0, 0)
    methods = {nr: [r["method"] for r in received(styleman, g)] for nr, g in guids(document).items()}
    assert methods == {"1": ["GET", "POST", "GET"], "2": ["POST", "GET"], "3": ["POST"]}


def test_a_slow_styleman_times_out_and_the_next_run_finds_the_order_instead_of_resending(
        export_dag, sqlite_engine, styleman, monkeypatch) -> None:
    conn = styleman.airflow_connection("basic")
    conn_id = bind(monkeypatch, styleman, auth_type="basic", extra={**conn["extra"], "timeout": 0.4})
    document = {"administrations": [styleman_admin("sm-slow", conn_id, orders=[sm_order("1")])]}
    load_document(sqlite_engine, document)
    (order_id,) = guids(document).values()
    styleman.faults.delay_seconds = 0.8  # StyleMan still stores the order, after the client gave up

    run = export_dag.test()
    assert task_states(run)[SEND] == ["failed"]  # Airflow retries the task with backoff
    failed = states(sqlite_engine, "sm-slow")["1"]
    assert failed.state == "failed" and failed.error.startswith("order 1 (sm-slow): ERROR: ")
    # A POST that timed out is not repeated at once (the ERP may still be storing it): the next run looks.
    assert "timed out" in failed.error and "the retry looks the order up first" in failed.error
    styleman.faults.delay_seconds = 0
    deadline = time.monotonic() + 5
    while styleman.order_count(order_id) == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert styleman.order_count(order_id) == 1

    rerun = export_dag.test()
    assert task_states(rerun)[SEND] == ["success"]
    assert_sent_exactly_once(styleman, sqlite_engine, "sm-slow", {"1": order_id})
    assert states(sqlite_engine, "sm-slow")["1"].attempts == 2


def test_refused_credentials_hand_the_chunk_back_and_nothing_secret_is_shown(
        export_dag, sqlite_engine, styleman, monkeypatch, capfd) -> None:
    conn_id = bind(monkeypatch, styleman, password="wrong-secret-5f9a")
    document = {"administrations": [styleman_admin("sm-login", conn_id, orders=[sm_order("1"), sm_order("2")])]}
    load_document(sqlite_engine, document)

    run = export_dag.test()
    assert task_states(run)[SEND] == ["failed"]
    rows = states(sqlite_engine, "sm-login")
    assert rows["1"].error.startswith("order 1 (sm-login): ERROR: StyleMan's token endpoint")
    assert "The client id or client secret is incorrect." in rows["1"].error
    assert rows["2"].state == "failed" and "not sent yet" in rows["2"].error  # handed back for the retry
    assert [styleman.order_count(g) for g in guids(document).values()] == [0, 0]

    bind(monkeypatch, styleman, conn_id=conn_id)  # operations fix the connection
    rerun = export_dag.test()
    assert task_states(rerun)[SEND] == ["success"]
    assert_sent_exactly_once(styleman, sqlite_engine, "sm-login", guids(document))

    # Nowhere: task output, stored errors, Airflow's metadata (XCom included) and logs, recorded requests.
    haystacks = {"task output": "".join(capfd.readouterr()),
                 "stored errors": " ".join(r.error or "" for r in export_state.states(sqlite_engine))}
    airflow_home = Path(os.environ["AIRFLOW_HOME"])
    metadata = sqlite3.connect(airflow_home / "airflow.db")
    haystacks["airflow metadata"] = "\n".join(metadata.iterdump())
    metadata.close()
    for root in (airflow_home, Path(styleman.root)):
        for path in root.rglob("*"):
            if path.is_file() and path.name != "airflow.db":
                haystacks[str(path)] = path.read_bytes().decode("utf-8", "replace")
    secrets = ["wrong-secret-5f9a", styleman.client_secret, *styleman._tokens]
    assert len(secrets) >= 3  # the bad secret, the good one and the bearer token of the second run
    assert [(s[:6], where) for s in secrets for where, text in haystacks.items() if s in text] == []


def test_a_reply_without_order_number_fails_and_the_retry_takes_the_number_from_styleman(
        export_dag, sqlite_engine, styleman, monkeypatch) -> None:
    conn_id = bind(monkeypatch, styleman)
    document = {"administrations": [styleman_admin("sm-no-number", conn_id, orders=[sm_order("1"), sm_order("2")])]}
    load_document(sqlite_engine, document)
    styleman.reply_without_number = 1

    run = export_dag.test()
    assert task_states(run)[SEND] == ["failed"]
    rows = states(sqlite_engine, "sm-no-number")
    assert rows["1"].error == "order 1 (sm-no-number): ERROR: No order number retrieved from backoffice"
    assert rows["1"].order_nr is None and rows["2"].state == "sent"

    rerun = export_dag.test()
    assert task_states(rerun)[SEND] == ["success"]
    assert_sent_exactly_once(styleman, sqlite_engine, "sm-no-number", guids(document))
    assert [r["method"] for r in received(styleman, guids(document)["1"])] == ["POST", "GET"]
    assert Decimal(str(styleman.orders_for(guids(document)["1"])[0]["Total"])) == Decimal("30.25")


def test_resending_an_order_styleman_already_has_says_it_is_already_there(
        export_dag, sqlite_engine, styleman, monkeypatch, capsys) -> None:
    from airflow.dag_processing.dagbag import DagBag

    from tests.conftest import PROJECT

    conn_id = bind(monkeypatch, styleman)
    document = {"administrations": [styleman_admin("sm-resend", conn_id, orders=[sm_order("1")])]}
    load_document(sqlite_engine, document)
    (order_id,) = guids(document).values()
    export_dag.test()
    number = states(sqlite_engine, "sm-resend")["1"].backoffice_order_nr
    assert number and states(sqlite_engine, "sm-resend")["1"].remark is None
    capsys.readouterr()

    resend = DagBag(str(PROJECT / "dags")).get_dag("resend_orders")
    run = resend.test(run_conf={"administration": "sm-resend", "order_numbers": ["1"]})
    assert run.state == "success"
    assert len(styleman.orders_for(order_id)) == 1  # StyleMan had it: looked up, not posted again
    out = capsys.readouterr().out
    assert f"1: already at the ERP as {number} -> " in out and "(found there, nothing sent again)" in out
    assert f"1: sent as {number}" not in out
    assert states(sqlite_engine, "sm-resend")["1"].remark == (
        f"already at the ERP: StyleMan had it as order {number}; nothing was sent again")
