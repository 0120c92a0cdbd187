"""EzXml end to end: one administration per format over FTPS, the DAG run, the files read back and parsed."""

from __future__ import annotations

import csv
import io

import pandas as pd
import sqlalchemy as sa

from backoffice_export import export_state, key_settings
from backoffice_export.connectors.ezxml import default_xml, reflecta_xml
from backoffice_export.connectors.ezxml.order_number import ORDER_NR_KEY, reserved_order_nr
from backoffice_export.db import schema as s
from backoffice_export.document import load_document
from backoffice_export.mapping.xml import parse_reply, validate
from tests.e2e.conftest import task_states
from tests.helpers import bind_connection
from tests.unit.ezxml_documents import ezxml_admin, ezxml_order

REFLECTA = {"OrderFormat": "Reflecta", "UseInternalOrdersAsWebOrderNr": True, "ReflectaProviderCode": "APP4SALES",
            "ReflectaCompanyCode": "01", "ReflectaSeasonCode": "W26", "ReflectaDeliveryTermCode": "VRACHT",
            "ReflectaDeliveryTermCodeWhenTheOrderHasNoShippingCosts": "FRANCO"}
AWKWARD_NOTES = 'Achterom; "bel" aan\nna 14:00 \u2013 € 5,- fooi'


def _files(sandboxes, folder: str, subfolder: str = "export") -> dict[str, bytes]:
    prefix = f"{folder}/{subfolder}/"
    return {k[len(prefix):]: v for k, v in sandboxes.received_files("ftps").items() if k.startswith(prefix)}


def _states(engine, admin: str) -> dict[str, export_state.OrderState]:
    return {r.internal_order_nr: r for r in export_state.states(engine, administration=admin)}


def test_each_format_reaches_the_ftps_folder_and_a_rerun_sends_nothing_twice(
    export_dag, sqlite_engine, sandboxes, monkeypatch, files_root
):
    default_id, default_folder = bind_connection(monkeypatch, sandboxes, "ftps")
    csv_id, csv_folder = bind_connection(monkeypatch, sandboxes, "ftps")
    reflecta_id, reflecta_folder = bind_connection(monkeypatch, sandboxes, "ftps")
    load_document(sqlite_engine, {"administrations": [
        ezxml_admin("ez-default", default_id, application_name="EzDefault", orders=[
            ezxml_order("1001", is_paid=True, payment={"payment_id": "tr_e2e"}, prices_include_vat=True,
                        alternate_address={"address1": "Kerkstraat 42-f3", "postal_code": "1017 GM",
                                           "city": "Amsterdam", "country_iso2": "NL"}),
            ezxml_order("1002", customer="C2", items=("TS-RED-M", "CAP")),
            ezxml_order("1003", items=("TS-RED-M", "NOT-IN-APP4SALES")),
        ]),
        ezxml_admin("ez-csv", csv_id, application_name="EzCsv", settings={"OrderFormat": "CSV"}, orders=[
            ezxml_order("2001", items=("TS-RED-M", "CAP"), notes=AWKWARD_NOTES, consumer_name="=cmd|'/C calc'!A0"),
        ]),
        ezxml_admin("ez-reflecta", reflecta_id, application_name="EzReflecta", settings=REFLECTA, orders=[
            ezxml_order("7001", shipping_costs_excl_vat="6.945",
                        alternate_address={"address1": "De Dompelaar 1 B", "postal_code": "5531 KL",
                                           "city": "Bladel", "country_iso2": "NL"}),
            ezxml_order("7002", customer="C2"),
        ]),
    ]})

    run = export_dag.test()
    assert run.state == "success"
    assert task_states(run)["ezxml.send_chunk"] == ["success"] * 3

    # --- default XML: numbered Default1, Default2; the bad order fails alone, naming the field ---------------------
    default_files = _files(sandboxes, default_folder)
    assert sorted(default_files) == ["Default1.xml", "Default2.xml"]
    first = parse_reply(default_files["Default1.xml"])
    validate(first, default_xml.XSD)
    assert [first.findtext(f"OrderHeader/{t}") for t in ("OrderNr", "WebOrderNr", "OrderType", "PaymentmethodId",
                                                          "Payment_id", "Paid", "AlternateAddress")] == [
        "Default1", "Default1", "Default", "7", "tr_e2e", "SUCCESS", "1"]
    assert [e.text for e in first.iter("Price")] == ["10.00"]  # 12.10 including 21 % VAT
    assert first.findtext("OrderLines/OrderLine/Color") == "Red"
    second = parse_reply(default_files["Default2.xml"])
    assert [e.text for e in second.iter("LineId")] == ["0", "1"]
    states = _states(sqlite_engine, "ez-default")
    assert (states["1001"].state, states["1001"].order_nr, states["1001"].backoffice_order_nr) == (
        "sent", "Default1", "Default1")
    assert states["1001"].destination.endswith(f"/{default_folder}/export/Default1.xml")
    assert states["1003"].state == "failed" and states["1003"].order_nr is None
    assert states["1003"].error == ("order 1003 (ez-default): ERROR_Unhandled: OrderLine.Item: line 2 has no item "
                                    "(unknown item code?)")
    assert (files_root / "ExportedOrders" / "EzDefault" / "Default1.xml").read_bytes() == default_files["Default1.xml"]

    # --- CSV: one row per line, text round-trips, formulas neutralised ---------------------------------------------
    csv_files = _files(sandboxes, csv_folder)
    assert list(csv_files) == ["Inv1.csv"]
    frame = pd.read_csv(io.BytesIO(csv_files["Inv1.csv"]), sep=";", dtype=str, keep_default_na=False)
    assert frame["ItemCode"].tolist() == ["TS-RED-M", "CAP"]
    assert frame["OrderNr"].tolist() == ["Inv1", "Inv1"] and frame["OrderType"].tolist() == ["Inv", "Inv"]
    assert frame["Notes"].tolist() == [AWKWARD_NOTES, AWKWARD_NOTES]
    assert frame["Name"].tolist() == ["'=cmd|'/C calc'!A0"] * 2
    rows = list(csv.DictReader(io.StringIO(csv_files["Inv1.csv"].decode("utf-8"), newline=""), delimiter=";"))
    assert [r["Notes"] for r in rows] == [AWKWARD_NOTES] * 2
    assert _states(sqlite_engine, "ez-csv")["2001"].order_nr == "Inv1"

    # --- Reflecta XML with App4Sales' internal numbers -------------------------------------------------------------
    reflecta_files = _files(sandboxes, reflecta_folder)
    assert sorted(reflecta_files) == ["7001.xml", "7002.xml"]
    shipped = parse_reply(reflecta_files["7001.xml"])
    validate(shipped, reflecta_xml.XSD)
    header = shipped.find("OrderHeader")
    # FreightChargesAmt 6.945 rounds half to even, like every EzXml amount
    assert [header.findtext(t) for t in ("WebOrderNr", "OrderDate", "SeasonCode", "SalDeliveryTermCode",
                                         "FreightChargesAmt")] == ["7001", "20-11-2026", "W26", "VRACHT", "6.94"]
    address = header.find("DeliveryAddresses/DeliveryAddress")
    assert [address.findtext(t) for t in ("Street", "HouseNr", "HouseNrExt")] == ["De Dompelaar", "1", "B"]
    assert [e.text for e in shipped.iter("WebOrderLineSeq")] == ["1"]
    no_shipping = parse_reply(reflecta_files["7002.xml"]).find("OrderHeader")
    assert [no_shipping.findtext(t) for t in ("CurrencyCode", "SalDeliveryTermCode", "FreightChargesAmt")] == [
        "GBP", "FRANCO", "0.00"]
    assert {r.order_nr for r in _states(sqlite_engine, "ez-reflecta").values()} == {"7001", "7002"}

    # --- no secret anywhere: files, local copies, stored errors ----------------------------------------------------
    secret = sandboxes.password("ftps")
    written = [*default_files.values(), *csv_files.values(), *reflecta_files.values(),
               *(p.read_bytes() for p in files_root.rglob("*") if p.is_file())]
    assert not [data for data in written if secret.encode() in data]
    assert not [r for r in export_state.states(sqlite_engine) if secret in (r.error or "")]
    ours = (f"{default_folder}/", f"{csv_folder}/", f"{reflecta_folder}/")
    assert not [f for f in sandboxes.received_files("ftps") if f.startswith(ours) and f.endswith(".part")]

    uploads = sandboxes.ftp.uploads_completed
    rerun = export_dag.test()
    assert rerun.state == "success"
    assert sandboxes.ftp.uploads_completed == uploads
    assert _states(sqlite_engine, "ez-default")["1003"].attempts == 1  # a data error waits for a fix


def test_a_cut_upload_is_retried_under_the_same_number_and_a_reexport_replaces_the_file(
    export_dag, sqlite_engine, sandboxes, monkeypatch, files_root
):
    conn_id, folder = bind_connection(monkeypatch, sandboxes, "ftps")
    load_document(sqlite_engine, {"administrations": [
        ezxml_admin("ez-cut", conn_id, settings={"FtpOrderExportFolder": "/in/orders/"},
                    orders=[ezxml_order("1"), ezxml_order("2")])]})
    sandboxes.ftp.faults.cut_after_bytes = 100
    try:
        run = export_dag.test()
    finally:
        sandboxes.ftp.faults.reset()
    assert task_states(run)["ezxml.send_chunk"] == ["failed"]  # transient: Airflow retries the chunk
    states = _states(sqlite_engine, "ez-cut")
    assert {r.state for r in states.values()} == {"failed"}
    assert states["1"].order_nr is None and "connection lost" in states["1"].error
    assert reserved_order_nr(sqlite_engine, states["1"].order_id) == "Default1"
    assert not [n for n in _files(sandboxes, folder, "in/orders") if not n.endswith(".part")]

    run = export_dag.test()
    assert task_states(run)["ezxml.send_chunk"] == ["success"]
    states = _states(sqlite_engine, "ez-cut")
    assert [(r.state, r.order_nr) for r in states.values()] == [("sent", "Default1"), ("sent", "Default2")]
    assert sorted(_files(sandboxes, folder, "in/orders")) == ["Default1.xml", "Default2.xml"]  # no stale .part
    assert key_settings.get(sqlite_engine, _admin_id(sqlite_engine, "ez-cut"), ORDER_NR_KEY) == "2"

    uploads = sandboxes.ftp.uploads_completed
    reexport = export_dag.test(run_conf={"reexport_sent": True})
    assert reexport.state == "success"
    assert sandboxes.ftp.uploads_completed == uploads + 2
    assert sorted(_files(sandboxes, folder, "in/orders")) == ["Default1.xml", "Default2.xml"]  # replaced, not added
    assert [r.order_nr for r in _states(sqlite_engine, "ez-cut").values()] == ["Default1", "Default2"]
    assert key_settings.get(sqlite_engine, _admin_id(sqlite_engine, "ez-cut"), ORDER_NR_KEY) == "2"  # none drawn


def _admin_id(engine, code: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(s.administrations.c.id).where(s.administrations.c.code == code)).scalar_one()
