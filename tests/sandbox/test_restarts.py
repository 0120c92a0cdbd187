"""State survives a restart: a new emulator or file server on the same root holds what the last one
held, its numbers go on, an order sent again is still recognised, recordings are not overwritten."""

from __future__ import annotations

import uuid
from pathlib import Path

import paramiko
import requests

from erp_sandbox import Sandboxes
from erp_sandbox import accountview_api as accountview
from erp_sandbox import spector_api as spector
from erp_sandbox import styleman_api as styleman
from tests.sandbox import test_accountview_api as av
from tests.sandbox import test_spector_api as sp
from tests.sandbox import test_styleman_api as sm


def recordings(root: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in root.glob("*.json")}


def test_spector_keeps_companies_orders_and_numbers(tmp_path: Path) -> None:
    with spector.Api(tmp_path) as first:
        company, other = first.default_company, first.new_company()
        created = sp.call(first, company, "POST", body=sp.order("R1", customerReference="Été ✓")).json()
        sp.call(first, other, "POST", body=sp.order("R2"))
        before = recordings(first.root)
    with spector.Api(tmp_path) as second:
        assert second.default_company == company
        assert second.orders_for("R1") == [sp.order("R1", customerReference="Été ✓")]
        assert second.order_count("R2", other) == 1
        again = sp.call(second, company, "POST", body=sp.order("R1")).json()
        assert again == {"result": 10, "message": "An order with externalOrderNo R1 already exists",
                         "orderNo": created["orderNo"]}
        fresh = sp.call(second, company, "POST", body=sp.order("R3")).json()
        assert int(fresh["orderNo"]) == int(created["orderNo"]) + 2  # R2 took the number in between
        detail = sp.call(second, company, "GET", f"{sp.ORDERS}/{created['orderNo']}").json()["order"]
        assert detail["customerReference"] == "Été ✓"
        after = recordings(second.root)
    assert {name: after[name] for name in before} == before and len(after) > len(before)


def test_styleman_keeps_orders_and_numbers_and_finds_them_again(tmp_path: Path) -> None:
    body = sm.sales_order(OrderNumber="A4S-77", Reference="R-77")
    with styleman.Api(tmp_path) as first:
        number = sm.post(first, body).json()["Number"]
        before = recordings(first.root)
    with styleman.Api(tmp_path) as second:
        (held,) = second.orders_for(body["OrderID"])
        assert held["Number"] == number and held["Lines"][0]["PriceExcl"] == 12.5
        found = requests.get(f"{second.base_url}/api/v1/Orders", headers=sm.bearer(second), timeout=5,
                             params={"$filter": "OrderNumber eq 'A4S-77' and Reference eq 'R-77'"}).json()
        assert [o["Number"] for o in found["Results"]] == [number]
        assert int(sm.post(second, sm.sales_order()).json()["Number"]) == int(number) + 1
        after = recordings(second.root)
    assert {name: after[name] for name in before} == before and len(after) > len(before)


def test_accountview_keeps_orders_lines_and_numbers(tmp_path: Path) -> None:
    with accountview.Api(tmp_path) as first:
        reply = av.call(first, "POST", av.envelope(av.head(comment3=("C", "A4S-9"))))
        number = reply.json()["SO_HDR"][0]["ORD_NR"]
        before = recordings(first.root)
    with accountview.Api(tmp_path) as second:
        assert second.numbers_for("A4S-9") == [number]
        more = av.envelope({"RowId": ("C", "000001"), "ORD_NR": ("C", number)}, [av.line(2)])
        assert av.call(second, "PUT", more).status_code == 200
        assert [line["ROWID"] for line in second.lines(number)] == ["000001", "000002"]
        again = av.envelope({"RowId": ("C", "000001"), "ORD_NR": ("C", number)}, [av.line(2)])
        av.refused(av.call(second, "PUT", again), 400, "000002", "already exists")
        found = av.call(second, "GET", params={
            "BusinessObject": "SO1", "FilterControlSource1": "comment3", "FilterOperator1": "Equal",
            "FilterValueType1": "C", "FilterValue1": "A4S-9"}).json()
        assert [h["ORD_NR"] for h in found["SO_HDR"]] == [number] and len(found["SO_LINE"]) == 2
        fresh = av.call(second, "POST", av.envelope(av.head())).json()["SO_HDR"][0]["ORD_NR"]
        assert int(fresh) == int(number) + 1
        second.delete_order(fresh)
        after = recordings(second.root)
    assert {name: after[name] for name in before} == before and len(after) > len(before)
    with accountview.Api(tmp_path) as third:  # a deleted order stays deleted; its number is not reused
        assert [o["header"]["ORD_NR"] for o in third.orders()] == [number]
        assert int(av.call(third, "POST", av.envelope(av.head())).json()["SO_HDR"][0]["ORD_NR"]) == int(fresh) + 1


def test_a_line_cut_short_by_a_kill_is_skipped(tmp_path: Path) -> None:
    with spector.Api(tmp_path) as first:
        sp.call(first, first.default_company, "POST", body=sp.order("K1"))
    with (tmp_path / "spector" / "journal.jsonl").open("a") as journal:
        journal.write('{"company": "1", "orderNo": "1000')  # the process died mid-write
    with spector.Api(tmp_path) as second:
        assert second.order_count("K1") == 1
        assert sp.call(second, second.default_company, "POST", body=sp.order("K2")).json()["result"] == 1
    with spector.Api(tmp_path) as third:
        assert third.order_count("K1") == third.order_count("K2") == 1


def test_the_file_servers_keep_what_was_delivered(tmp_path: Path) -> None:
    name = f"{uuid.uuid4().hex}.xml"
    with Sandboxes(tmp_path, "app4sales") as boxes:
        conn = boxes.airflow_connection("sftp", "app4sales", "shop")
        transport = paramiko.Transport(("127.0.0.1", conn["port"]))
        try:
            transport.connect(username="app4sales", password=conn["password"])
            sftp = paramiko.SFTPClient.from_transport(transport)
            assert sftp is not None
            sftp.mkdir("shop")
            with sftp.open(f"shop/{name}", "wb") as handle:
                handle.write(b"<Orders/>")
        finally:
            transport.close()
        (boxes.ftp.user_root("app4sales") / "kept.csv").parent.mkdir(parents=True, exist_ok=True)
        (boxes.ftp.user_root("app4sales") / "kept.csv").write_text("a;b\n")
    with Sandboxes(tmp_path, "app4sales") as again:
        assert again.received_files("sftp") == {f"shop/{name}": b"<Orders/>"}
        assert again.received_files("ftps") == {"kept.csv": b"a;b\n"}
