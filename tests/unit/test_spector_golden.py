"""Two full Spector orders against golden files, byte for byte as sent.

tests/golden/spector/*.json were generated once from ``golden_order()`` and then checked field by
field against the seed (shared/seeds/002_01dd28680e055152.txt) and the field names of
connectors/spector/mapping.py. The check:

order_full.json -- settings: PublishedCommentOnOrder, RequirementsOnOrder, StockSiteID "3"; customer VAT liable
  externalOrderNo = "ADM1/5001"        not a seed row: Administration.Code "/" Order.InternalOrderNr, the
                                       exactly-once key, unique across administrations sharing a company
                                       (not OrderNr, which Spector's number is written back into)
  customerId = "CUST-0042"             seed "Customer ID": Customer.Code
  orderDate = "2024-03-15"             seed "Order Date": Order.OrderDate 2024-03-15 09:30 as yyyy-MM-dd;
                                       not created_at (2024-03-16), setting off so not today (2024-06-01)
  deliveryDate = "2024-03-15"          seed "Delivery Date": "Otherwise, the App4Sales order date is used":
                                       the order date again, not Order.DeliveryDate 2024-04-02
  customerReference = "PO-2024-117"    seed "Customer Reference": Order.YourReference (11 <= 70)
  customerOrderReference = "Fair order Stockholm"   seed "Customer Order Reference": Order.Reference (20 <= 50)
  currency = "SEK"                     seed "Currency": the customer's price list currency, not the
                                       administration's EUR
  internalComment = "Key account; invoice monthly\nDeliver before noon"
                                       seed "Internal Comment": Customer.ExtraData, newline, Order.Notes
  externalDeliveryMethod = "DHL Freight"            seed "External Delivery Method": Customer.DeliveryMethod
  publishedComment = "Tack för din beställning!"    seed "Published Comment": the setting, UTF-8 as is
  requirements = "Deliver on pallets"  seed "Requirements": the setting
  stockSiteId = 3                      seed "Stock Site ID": setting "3" is a valid integer: sent as a number
  ourReferenceUserId = 17              seed "Our Reference User ID": SalesRep.UserId as an integer
  lines x 3                            one per App4Sales line, in order
    line 1: lineNumber 1 (seed "Line Number": from 1), articleNumber "SHIRT-RED-M" (Item.Code),
            articleName "T-shirt red, size M" (Item.Description), articleComment "Gift wrap, please"
            (OrderLine.Instruction), addArticleComment true (there is a comment), priceExclVAT 19.305
            (OnlySendDiscount off: line price 19.80 x (100 - webshop 2.5) / 100, not rounded),
            numberOfItems 2 (quantity 2), vatPercentage 21 (Item.VatPercentage, customer VAT liable),
            discount 0 (OnlySendDiscount off; the line's own 10 % is already in its price)
    line 2: lineNumber 2, "JEANS-BLUE-32", "Jeans blue 32", no articleComment, addArticleComment false,
            priceExclVAT 48.2625 (49.50 x 0.975), numberOfItems 2 (1.500 -> Convert.ToInt32 half to even -> 2),
            vatPercentage 21, discount 0
    line 3: lineNumber 3, "BOOK-SV", "Book (Swedish)", addArticleComment false, priceExclVAT 11.700
            (12.00 x 0.975), numberOfItems 2 (2.5 -> half to even -> 2, not 3), vatPercentage 6, discount 0

order_only_send_discount.json -- as above plus OnlySendDiscount and SetOrderDateAsDeliveryDate on; customer not
VAT liable
  orderDate = "2024-06-01"             seed "Order Date": the setting is on, so today (the test's 2024-06-01)
  deliveryDate                         absent: seed "Delivery Date" is not populated with the setting on
  (every other header field as in order_full.json)
    line 1: priceExclVAT 22.00         seed "Price Excl. VAT": discount present, so Item.SalesPrice before discount
            discount 12.5000           seed "Discount": line's 10 % + webshop 2.5 %, Math.Round(x, 4)
            vatPercentage 0            seed "VAT Percentage": customer not VAT liable
    line 2: priceExclVAT 49.50, discount 2.5000 (no line discount, the webshop's 2.5 % alone is a discount),
            vatPercentage 0
    line 3: priceExclVAT 15.00 (Item.SalesPrice), discount 22.5000 ((15.00 - 12.00) / 15.00 = 20 % derived from
            OriginalPrice and Price, + 2.5 %), vatPercentage 0
  Not present in either file: shipping costs 6.95, the payment, the attachment, the order's delivery date
  2024-04-02 and line 1's own delivery date -- seed "Charges & Attachments" and "Known Limitations".
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from backoffice_export.connectors.spector import mapping, validation
from backoffice_export.connectors.spector import settings as spector_settings
from backoffice_export.mapping import exact_json
from backoffice_export.model import Order, SalesRep
from tests.unit import factories as f

D = Decimal
GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "spector"
TODAY = date(2024, 6, 1)
FULL_SETTINGS = {"PublishedCommentOnOrder": "Tack för din beställning!", "RequirementsOnOrder": "Deliver on pallets",
                 "StockSiteID": "3"}
DISCOUNT_SETTINGS = {**FULL_SETTINGS, "OnlySendDiscount": True, "SetOrderDateAsDeliveryDate": True}


def golden_order(*, vat_liable: bool = True) -> Order:
    return f.order(
        id=4711,
        internal_order_nr="5001",
        order_nr=None,
        order_date=datetime(2024, 3, 15, 9, 30),
        created_at=datetime(2024, 3, 16, 8, 0),
        delivery_date=date(2024, 4, 2),
        administration_=f.administration(connector="spector", settings=FULL_SETTINGS, default_currency="EUR"),
        customer_=f.customer(code="CUST-0042", name="Modehuis Stockholm AB", price_list_currency="SEK",
                             vat_liable=vat_liable, extra_data="Key account; invoice monthly",
                             delivery_method="DHL Freight"),
        sales_rep=SalesRep(id=3, code="jdv", user_id=17, user_name="jan.devries", full_name="Jan de Vries"),
        your_reference="PO-2024-117",
        reference="Fair order Stockholm",
        notes="Deliver before noon",
        webshop_discount_percentage=D("2.5"),
        lines=[
            f.line(0, item_=f.item("SHIRT-RED-M", None, description="T-shirt red, size M", vat_percentage=D(21),
                                   sales_price=D("22.00")),
                   quantity="2", price="19.80", original_price=D("22.00"), discount_percentage=D(10),
                   instruction="Gift wrap, please", delivery_date=date(2024, 4, 20)),
            f.line(1, item_=f.item("JEANS-BLUE-32", None, description="Jeans blue 32", vat_percentage=D(21),
                                   sales_price=D("49.50")),
                   quantity="1.500", price="49.50"),
            f.line(2, item_=f.item("BOOK-SV", None, description="Book (Swedish)", vat_percentage=D(6),
                                   sales_price=D("15.00")),
                   quantity="2.5", price="12.00", original_price=D("15.00")),
        ],
        shipping_costs_excl_vat=D("6.95"),
        payment=f.payment(),
        attachments=(f.attachment(),),
    )


def body(settings: dict[str, Any], *, vat_liable: bool = True) -> bytes:
    payload = mapping.build_order(golden_order(vat_liable=vat_liable), spector_settings.parse(settings), TODAY)
    validation.validate(payload)
    return exact_json.dumps(payload)


CASES = {"order_full.json": (FULL_SETTINGS, True), "order_only_send_discount.json": (DISCOUNT_SETTINGS, False)}


def read(name: str) -> Any:
    return json.loads((GOLDEN / name).read_text(encoding="utf-8"), parse_float=Decimal)


@pytest.mark.parametrize("name", list(CASES))
def test_order_matches_the_golden_file(name: str) -> None:
    settings, vat_liable = CASES[name]
    # The golden file is indented for reading; its numbers keep their digits, so re-serialised it is the body.
    assert body(settings, vat_liable=vat_liable) == exact_json.dumps(read(name))


HEADER = {
    "externalOrderNo": "ADM1/5001", "customerId": "CUST-0042", "customerReference": "PO-2024-117",
    "customerOrderReference": "Fair order Stockholm", "currency": "SEK",
    "internalComment": "Key account; invoice monthly\nDeliver before noon", "externalDeliveryMethod": "DHL Freight",
    "publishedComment": "Tack för din beställning!", "requirements": "Deliver on pallets", "stockSiteId": 3,
    "ourReferenceUserId": 17,
}
FIELDS = [
    ("order_full.json", "orderDate", "2024-03-15"),
    ("order_full.json", "deliveryDate", "2024-03-15"),
    ("order_only_send_discount.json", "orderDate", "2024-06-01"),
    ("order_only_send_discount.json", "deliveryDate", None),
    *[(name, field, value) for name in CASES for field, value in HEADER.items()],
    *[(name, f"lines.{field}", values) for name in CASES for field, values in {
        "lineNumber": [1, 2, 3], "articleNumber": ["SHIRT-RED-M", "JEANS-BLUE-32", "BOOK-SV"],
        "articleName": ["T-shirt red, size M", "Jeans blue 32", "Book (Swedish)"],
        "articleComment": ["Gift wrap, please", None, None], "addArticleComment": [True, False, False],
        "numberOfItems": [2, 2, 2]}.items()],
    ("order_full.json", "lines.priceExclVAT", ["19.305", "48.2625", "11.700"]),
    ("order_full.json", "lines.vatPercentage", [21, 21, 6]),
    ("order_full.json", "lines.discount", [0, 0, 0]),
    ("order_only_send_discount.json", "lines.priceExclVAT", ["22.00", "49.50", "15.00"]),
    ("order_only_send_discount.json", "lines.vatPercentage", [0, 0, 0]),
    ("order_only_send_discount.json", "lines.discount", ["12.5000", "2.5000", "22.5000"]),
]


def _text(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


@pytest.mark.parametrize(("name", "field", "expected"), FIELDS, ids=[f"{n}:{p}" for n, p, _ in FIELDS])
def test_golden_field(name: str, field: str, expected: Any) -> None:
    data = read(name)
    if field.startswith("lines."):
        assert [_text(line.get(field[len("lines."):])) for line in data["lines"]] == expected
    else:
        assert _text(data.get(field)) == expected


@pytest.mark.parametrize("name", list(CASES))
def test_golden_has_no_other_fields(name: str) -> None:
    data = read(name)
    dated = {"orderDate", "deliveryDate"} if name == "order_full.json" else {"orderDate"}
    assert set(data) == {*HEADER, *dated, "lines"}
    for line in data["lines"]:
        assert set(line) <= {"lineNumber", "articleNumber", "articleName", "articleComment", "addArticleComment",
                             "priceExclVAT", "numberOfItems", "vatPercentage", "discount"}
    assert validation.problems(data) == []
