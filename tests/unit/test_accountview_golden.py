"""The full AccountView order against golden files, byte for byte, as it goes over the wire.

tests/golden/accountview/order_full_batch1_post.json (the POST: header, PDF and lines 1-3) and
order_full_batch2_put.json (the PUT: order key 10001 and lines 4-5) were generated once from
``golden_order()`` with ``OrderLinesBatchCount`` 3 and then checked field by field against the seed
(shared/seeds/004_2a4998d564d7fd24.txt) and the envelope of shared/notes/erp-wire-formats.md:

  BookDate = 2024-03-20T14:05:09        the order date stamped on the first batch (envelope's BookDate)
  BusinessObject = SO1                  seed "Order PDF": the order is a Sales Order (SO1)
  Table.Definition.Name = SO_HDR, DetailDefinitions[0].Name = SO_LINE; every field with its FieldType
  SO_HDR (batch 1), in definition order, values positional:
    RowId = 000001                      seed "App4Sales Internal ID": hardcoded 000001
    rpl_inv = 20010, rpl_del = 20010    seed "Customer Code": Customer.Code in both
    emp_nr = marieke.vb                 seed "Employee Number": FixedEmployeeCode empty -> the rep's UserName
    ord_date = 2024-03-20T14:05:09 (T)  seed "Order Date": now (the clock), not OrderDate 2024-03-15
    del_date = 2024-04-02 (D)           seed "Delivery Date": Order.DeliveryDate
    comment1 = PO 4471                  seed "Your Reference / Comment 1": YourReference
    comment2 = App4Sales: Deliver before noon (M)   seed "Order Notes": OrderNoteLabel, then the notes
    comment3 = A4S-1000                 seed "Internal Reference / Comment 3": Order.Reference
                                        (MapOrderReferenceToCustomField empty)
    address1 = Industrieweg 12, post_code = 8028 PM, city = Zwolle, cnt_code = NL
                                        seed "Alternate Delivery Address": the alternate address, not the
                                        customer's own (Dorpsweg 1, Utrecht, BE)
    ord_expn = A4S                      seed "Selection Code": SelectionCodeForOrders
    ORDER_TYPE = true (L)               seed "Order Type (Kubussports)": application kubussports, type Presale
    X11_CHK_DS = true (L)               seed "Dropshipment (Kubussports)": IsDropshipment
    ACCT_NAME = Sanne de Vries          seed "Consumer Name (Kubussports Dropshipment)"
    SHIP_MTH = POSTNL                   seed "Shipping Method": DeliveryMethodCode
    link_file = 1000.pdf, doc_desc = App4Sales order 1000, file_data = base64 of the PDF (M): a
                                        valid one-page PDF (``factories.pdf``), since a PDF must parse
                                        seed "Order PDF": the order_pdf attachment; the signature.png
                                        attachment is not sent
  SO_HDR (batch 2): RowId = 000001, ORD_NR = 10001 (C): the order the first batch created
  SO_LINE (UseSbaItems, AddOrderLineInstructionToItemDescription on; UnitModule, UsePriceFromApp,
  DontSend* off), fields RowId, HeaderId, art_code, ord_qty (N), size, disc_pct (N), art_px (N), art_desc1:
    000001 000001 POLO100  6   M      0     24.95 "Polo navy M"   no discount, no list price: the app price
    000002 000001 POLO100  2.5 L      0     27.50 "Polo navy L"   no discount: the app's price, which is
                                                                  the list price (a different one would
                                                                  fail the order, UsePriceFromApp off);
                                                                  quantity 2.5 as entered, not rounded
    000003 000001 CHINO200 3   32     10.01 49.95 "Chino beige 32 hem to 82 cm"
                                                                  price before discount: the list price
                                                                  49.95 (it gives the net 44.95 to the
                                                                  cent); instruction appended
    -- batch 2 (PUT), RowId numbering goes on --
    000004 000001 BELT300  1   ""     100   19.95 "Belt brown"    100 % discount: the list price; SBA item
                                                                  without Size: empty size
    000005 000001 SOCK400  12  39-42  -5    9.48  "Socks"         surcharge: 9.95 / 1.05 = 9.476.. -> 9.48
  Numbers are JSON numbers with the scale App4Sales stored (24.95, 27.50, 10.01), never floats.
  Not sent: shipping costs, webshop discount, payment (the seed's connector sends no charges).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from backoffice_export.connectors.accountview import envelope, mapping
from backoffice_export.connectors.accountview import settings as av_settings
from backoffice_export.mapping import exact_json
from backoffice_export.model import Order, SalesRep
from tests.unit import factories as f

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "accountview"
NOW = datetime(2024, 3, 20, 14, 5, 9)
PDF = f.pdf("App4Sales order 1000")
SETTINGS = {"OrderLinesBatchCount": 3, "OrderNoteLabel": "App4Sales:", "SelectionCodeForOrders": "A4S",
            "UseSbaItems": True, "AddOrderLineInstructionToItemDescription": True}


def golden_order() -> Order:
    def sba(code: str, description: str, sba_code: str, size: str | None = None) -> Any:
        extra = {"SbaItemCode": sba_code, **({"Size": size} if size else {})}
        return f.item(code, extra, description=description)

    return f.order(
        id=1000, internal_order_nr="1000",
        administration_=f.administration(application_name="kubussports", connector="accountview", settings=SETTINGS),
        order_date=datetime(2024, 3, 15, 9, 30), delivery_date=date(2024, 4, 2),
        customer_=f.customer(code="20010", address1="Dorpsweg 1", city="Utrecht", country_iso2="BE"),
        sales_rep=SalesRep(id=3, code="MVB", user_name="marieke.vb"),
        your_reference="PO 4471", notes="Deliver before noon", reference="A4S-1000",
        alternate_address=f.address("Industrieweg 12", postal_code="8028 PM", city="Zwolle", country_iso2="NL"),
        order_type="Presale", is_dropshipment=True, consumer_name="Sanne de Vries", delivery_method_code="POSTNL",
        shipping_costs_excl_vat=Decimal("6.95"), webshop_discount_percentage=Decimal("2.5"), payment=f.payment(),
        attachments=(f.attachment(kind="signature", file_name="signature.png", content=b"\x89PNG"),
                     f.attachment(kind="order_pdf", file_name="1000.pdf", description="App4Sales order 1000",
                                  content=PDF)),
        lines=[
            f.line(0, item_=sba("POLO-M", "Polo navy M", "POLO100", "M"), quantity="6", price="24.95"),
            f.line(1, item_=sba("POLO-L", "Polo navy L", "POLO100", "L"), quantity="2.5", price="27.50",
                   original_price=Decimal("27.50")),
            f.line(2, item_=sba("CHINO-32", "Chino beige 32", "CHINO200", "32"), quantity="3", price="44.95",
                   original_price=Decimal("49.95"), discount_percentage=Decimal("10.01"), instruction="hem to 82 cm"),
            f.line(3, item_=sba("BELT", "Belt brown", "BELT300"), quantity="1", price="0",
                   original_price=Decimal("19.95"), discount_percentage=Decimal(100)),
            f.line(4, item_=sba("SOCKS", "Socks", "SOCK400", "39-42"), quantity="12", price="9.95",
                   discount_percentage=Decimal(-5)),
        ],
    )


def golden_requests() -> tuple[bytes, bytes]:
    tables = mapping.build_order(golden_order(), av_settings.parse(SETTINGS), NOW)
    stamp = envelope.datetime_value(NOW)
    post = envelope.insert_body(stamp, tables.header, tables.lines.slice(0, 3))
    put = envelope.update_body(stamp, "10001", tables.lines.slice(3, 5))
    return exact_json.dumps(post), exact_json.dumps(put)


def test_first_batch_matches_the_golden_file() -> None:
    assert golden_requests()[0] == (GOLDEN / "order_full_batch1_post.json").read_bytes()


def test_second_batch_matches_the_golden_file() -> None:
    assert golden_requests()[1] == (GOLDEN / "order_full_batch2_put.json").read_bytes()


def _golden(name: str) -> dict[str, Any]:
    # Numbers as their exact text, so that 27.50 is not read back as 27.5.
    return json.loads((GOLDEN / name).read_text(), parse_float=lambda text: f"#{text}",
                      parse_int=lambda text: f"#{text}")


def _header(name: str) -> dict[str, Any]:
    doc = _golden(name)
    names = [fld["Name"] for fld in doc["Table"]["Definition"]["Fields"]]
    return dict(zip(names, doc["TableData"]["Data"]["Rows"][0]["Values"], strict=True))


def _lines(name: str) -> list[list[Any]]:
    return [row["Values"] for row in _golden(name)["TableData"]["DetailData"][0]["Rows"]]


HEADER_FIELDS = [
    ("RowId", "C", "000001"), ("rpl_inv", "C", "20010"), ("rpl_del", "C", "20010"), ("emp_nr", "C", "marieke.vb"),
    ("ord_date", "T", "2024-03-20T14:05:09"), ("del_date", "D", "2024-04-02"), ("comment1", "C", "PO 4471"),
    ("comment2", "M", "App4Sales: Deliver before noon"), ("comment3", "C", "A4S-1000"),
    ("address1", "C", "Industrieweg 12"), ("post_code", "C", "8028 PM"), ("city", "C", "Zwolle"),
    ("cnt_code", "C", "NL"), ("ord_expn", "C", "A4S"), ("ORDER_TYPE", "L", True), ("X11_CHK_DS", "L", True),
    ("ACCT_NAME", "C", "Sanne de Vries"), ("SHIP_MTH", "C", "POSTNL"), ("link_file", "C", "1000.pdf"),
    ("doc_desc", "C", "App4Sales order 1000"),
]


@pytest.mark.parametrize(("name", "field_type", "expected"), HEADER_FIELDS, ids=[n for n, _, _ in HEADER_FIELDS])
def test_golden_header_field(name: str, field_type: str, expected: Any) -> None:
    doc = _golden("order_full_batch1_post.json")
    types = {fld["Name"]: fld["FieldType"] for fld in doc["Table"]["Definition"]["Fields"]}
    assert types[name] == field_type
    assert _header("order_full_batch1_post.json")[name] == expected


def test_golden_header_carries_the_pdf_bytes_intact() -> None:
    import base64

    header = _header("order_full_batch1_post.json")
    assert list(header) == [n for n, _, _ in HEADER_FIELDS] + ["file_data"]
    assert base64.b64decode(header["file_data"]) == PDF


def test_golden_envelope_frame() -> None:
    post, put = _golden("order_full_batch1_post.json"), _golden("order_full_batch2_put.json")
    for doc in (post, put):
        assert (doc["BookDate"], doc["BusinessObject"]) == ("2024-03-20T14:05:09", "SO1")
        assert doc["Table"]["Definition"]["Name"] == "SO_HDR"
        assert [d["Name"] for d in doc["Table"]["DetailDefinitions"]] == ["SO_LINE"]
        assert [(fld["Name"], fld["FieldType"]) for fld in doc["Table"]["DetailDefinitions"][0]["Fields"]] == [
            ("RowId", "C"), ("HeaderId", "C"), ("art_code", "C"), ("ord_qty", "N"), ("size", "C"), ("disc_pct", "N"),
            ("art_px", "N"), ("art_desc1", "C")]
    assert _header("order_full_batch2_put.json") == {"RowId": "000001", "ORD_NR": "10001"}


def test_golden_lines_field_by_field() -> None:
    assert _lines("order_full_batch1_post.json") == [
        ["000001", "000001", "POLO100", "#6", "M", "#0", "#24.95", "Polo navy M"],
        ["000002", "000001", "POLO100", "#2.5", "L", "#0", "#27.50", "Polo navy L"],
        ["000003", "000001", "CHINO200", "#3", "32", "#10.01", "#49.95", "Chino beige 32 hem to 82 cm"],
    ]
    assert _lines("order_full_batch2_put.json") == [
        ["000004", "000001", "BELT300", "#1", "", "#100", "#19.95", "Belt brown"],
        ["000005", "000001", "SOCK400", "#12", "39-42", "#-5", "#9.48", "Socks"],
    ]


def test_golden_requests_send_no_charges() -> None:
    text = b"".join(golden_requests()).decode()
    for value in ("6.95", "tr_123", "signature.png", "60.50"):  # shipping, payment, other attachment
        assert value not in text
