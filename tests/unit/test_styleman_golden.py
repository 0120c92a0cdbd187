"""StyleMan golden files: one full order, as sent with the default shape and with every switch on.

Field-by-field check of ``tests/golden/styleman/order_full.json`` against the seed
(shared/seeds/003_6544af1d6f44ec6c.txt), settings ``{"OrderType": "VO"}``, every switch off:

  OrderID = 6f1c2a9e-0b7d-4c3e-9a51-2d8e4f6a7b10       "Order ID (GUID)": Order.Guid, given upper-case,
                                                        sent in canonical lower-case form
  OrderNumber = A4S-1000                               "Order Number": App4Sales' internal number (the
                                                        order's old backoffice number ERP-9 is not sent)
  CustomerGUID = 0d9b8c7a-6e5f-4a3b-8c2d-1e0f9a8b7c6d  "Customer GUID": Customer.Guid
  CustomerCode = DEB-0042                              "Customer Code": Customer.Code
  Created = 2024-03-16T14:05:09                        "Created Date": the send moment (DateTime.Now),
                                                        not Order.CreatedAt 2024-03-15T09:31
  OrderDate = 2024-03-15T09:30:00                      "Order Date": Order.OrderDate
  IsOpen = true                                        "Is Open": hard-coded true
  Notes = "Levering na 12:00 \\u2013 bel aan"           "Notes": Order.Notes, as is (filter off: the en
                                                        dash stays)
  Description1 / 2 / 3 = "Voorjaar 2024" / "Beurs Utrecht" / null
                                                       "Description 1/2/3": Order.Description1..3
  Reference = REF-77                                   "Reference": Order.Reference
  SubTotal = 132.79                                    "Subtotal (Excl. VAT)": the rounded lines and freight,
                                                        not the stored 86.635: 32.98 (16.49 x 2) + 61.36
                                                        (74.25 incl. less its VAT 12.89) + 31.50 (10.50 x 3)
                                                        + shipping 6.95
  Total = 156.91                                       "Total Amount": SubTotal + VatTotal
  VatTotal = 24.12                                     "VAT Total": 6.93 + 12.89 + 2.84 (2.835 half to even)
                                                        + shipping 8.41 - 6.95 = 1.46
  YourReference = PO 2024-118                          "Your Reference": Order.YourReference
  Username = jan.devries                               "Username": SalesRep.UserName
  Warehouse = AMS-01                                   "Warehouse": SalesRep.Warehouse
  Signature = data:image/png;base64,iVBORw0KGgo=       "Signature": Order.Signature
  DeliveryMethodCode = DHL                             "Delivery Method Code": Order.DeliveryMethodCode
  OrderType = Pre-order                                "Order Type": the order's own, before the configured VO
  DeliveryAddress = {Name Magazijn Zuid, Contact P. de Vries, Address1 Kerkstraat 42-f3, Address2 null,
                     PostalCode 1017 GM, City Amsterdam, State null, CountryCode NL, Phone +31 20 1234567,
                     Email null}                        "Delivery Address": the alternate address (switch off)
  DeliveryAddressID = a1b2c3d4-e5f6-4789-8abc-def012345678
                                                       "Delivery Address ID": AlternateAddress.Guid, valid
  Lines (3), each:                                     "Order Line Mapping"
    ID = 00000000-0000-4000-8000-00000000000n          "Line ID": a new GUID per line (fixed in the test)
    CustomerGUID = the header's                        "Customer GUID"
    line 1: SHIRT-RED-M, Quantity 2, QuantityDelivered 0 (none stored), VatPercentage 21 (the line's),
            PriceExcl 16.49 (stored price excl. VAT), PriceIncl 19.95 (16.49 x 1.21 = 19.9529),
            Discount 10 (the line's), TotalDiscount 3.66 (original 22.17 incl. VAT -> 18.3223 excl.,
            (18.3223 - 16.49) x 2 = 3.6646 -> 3.66), DefaultPrice 18.50 (Item.SalesPrice),
            LineNumber 1, Instruction "Gift wrap", Description "T-shirt rood M" (the line's own),
            DeliveryDate 2024-04-20T00:00:00 (the line's)
    line 2: JEANS-BLUE-32, Quantity 1.5 (stored 1.500), QuantityDelivered 0.5, VatPercentage 21 (the item's),
            PriceExcl 40.91 (price 49.50 incl. VAT / 1.21 = 40.909 -> 40.91), PriceIncl 49.50
            (40.91 x 1.21 = 49.5011 -> 49.50), Discount 5 (the customer's default discount: the line has
            none), TotalDiscount 3.23 (undone from 5 %: 40.91 / 0.95 = 43.0632, minus 40.91 = 2.1532,
            x 1.5 = 3.2298 -> 3.23), DefaultPrice null (no item price), LineNumber 2, Instruction null,
            Description "Jeans blauw 32" (the item's), no DeliveryDate (none on the line; the order's
            2024-04-02 is not used)
    line 3: BELT, Quantity 3, QuantityDelivered 0, VatPercentage 9 (the line's), PriceExcl 10.5 (the stored
            price excl. VAT, as is; the incl. price 12.705 is not used), PriceIncl 11.44 (10.5 x 1.09 = 11.445 ->
            11.44, half to even), Discount 0 (the line's explicit 0 wins over the customer's 5), TotalDiscount
            0.00, DefaultPrice 10.5, LineNumber 3, Instruction null, Description null (line and item have
            none), no DeliveryDate
  Not present as entities: shipping costs (they are in the totals), payment, attachment (seed "Charges & Attachments").

``tests/golden/styleman/order_wrapped_filtered.json`` is the same order with ``UseResultsTagForRequest``,
``DontSendAlternativeAddressOnOrder`` and ``FilterNonIso88591Characters`` on: the order sits in
``{"Results": [{"Results": [order]}]}``, ``DeliveryAddress`` and ``DeliveryAddressID`` are absent, the
en dash of ``Notes`` is transliterated ("Levering na 12:00 - bel aan"), everything else is identical.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from backoffice_export.connectors.styleman import mapping
from backoffice_export.connectors.styleman import settings as styleman_settings
from backoffice_export.mapping import exact_json
from backoffice_export.model import Order, SalesRep
from tests.unit import factories as f

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "styleman"
CREATED = datetime(2024, 3, 16, 14, 5, 9)
FULL = styleman_settings.parse({"OrderType": "VO"})
SWITCHED = styleman_settings.parse({"OrderType": "VO", "UseResultsTagForRequest": True,
                                    "DontSendAlternativeAddressOnOrder": True, "FilterNonIso88591Characters": True})


def golden_order() -> Order:
    return f.order(
        id=4711,
        guid="6F1C2A9E-0B7D-4C3E-9A51-2D8E4F6A7B10",
        internal_order_nr="A4S-1000",
        order_nr="ERP-9",
        order_date=datetime(2024, 3, 15, 9, 30),
        created_at=datetime(2024, 3, 15, 9, 31),
        delivery_date=date(2024, 4, 2),
        customer_=f.customer(code="DEB-0042", guid="0d9b8c7a-6e5f-4a3b-8c2d-1e0f9a8b7c6d", name="Modehuis De Vries",
                             default_discount=Decimal("5.00")),
        sales_rep=SalesRep(id=3, code="jdv", user_name="jan.devries", full_name="Jan de Vries", warehouse="AMS-01"),
        alternate_address=f.address("Kerkstraat 42-f3", guid="a1b2c3d4-e5f6-4789-8abc-def012345678",
                                    name="Magazijn Zuid", contact="P. de Vries", phone="+31 20 1234567"),
        notes="Levering na 12:00 \u2013 bel aan",
        description1="Voorjaar 2024",
        description2="Beurs Utrecht",
        reference="REF-77",
        your_reference="PO 2024-118",
        signature="data:image/png;base64,iVBORw0KGgo=",
        delivery_method_code="DHL",
        order_type="Pre-order",
        prices_include_vat=True,
        total_excl_vat=Decimal("86.635"),
        total_vat=Decimal("18.185"),
        total_incl_vat=Decimal("104.825"),
        shipping_costs_excl_vat=Decimal("6.95"),
        payment=f.payment(),
        attachments=(f.attachment(),),
        lines=[
            f.line(0, item_=f.item("SHIRT-RED-M", sales_price=Decimal("18.50")), quantity="2", price="19.95",
                   price_excl_vat=Decimal("16.49"), vat_percentage=Decimal(21), original_price=Decimal("22.17"),
                   discount_percentage=Decimal(10), instruction="Gift wrap", description="T-shirt rood M",
                   delivery_date=date(2024, 4, 20)),
            f.line(1, item_=f.item("JEANS-BLUE-32", description="Jeans blauw 32"), quantity="1.500", price="49.50",
                   quantity_delivered=Decimal("0.500")),
            f.line(2, item_=f.item("BELT", sales_price=Decimal("10.50")), quantity="3", price="12.705",
                   price_excl_vat=Decimal("10.50"), vat_percentage=Decimal(9), discount_percentage=Decimal(0)),
        ],
    )


def golden_body(settings: styleman_settings.StyleManSettings) -> Any:
    guids = iter(f"00000000-0000-4000-8000-{n:012d}" for n in range(1, 10))
    sales_order = mapping.build_sales_order(golden_order(), settings, created=CREATED, line_guid=lambda: next(guids))
    return mapping.request_body(sales_order, settings)


def read(name: str) -> Any:
    return json.loads((GOLDEN / name).read_bytes(), parse_float=Decimal)


@pytest.mark.parametrize(("name", "settings"), [("order_full.json", FULL), ("order_wrapped_filtered.json", SWITCHED)])
def test_order_matches_the_golden_file(name: str, settings: styleman_settings.StyleManSettings) -> None:
    body = golden_body(settings)
    assert exact_json.dumps(body, indent=2) + b"\n" == (GOLDEN / name).read_bytes()
    # The compact wire form says exactly the same.
    assert json.loads(exact_json.dumps(body), parse_float=Decimal) == read(name)


HEADER = [
    ("OrderID", "6f1c2a9e-0b7d-4c3e-9a51-2d8e4f6a7b10"),
    ("OrderNumber", "A4S-1000"),
    ("CustomerGUID", "0d9b8c7a-6e5f-4a3b-8c2d-1e0f9a8b7c6d"),
    ("CustomerCode", "DEB-0042"),
    ("Created", "2024-03-16T14:05:09"),
    ("OrderDate", "2024-03-15T09:30:00"),
    ("IsOpen", True),
    ("Notes", "Levering na 12:00 \u2013 bel aan"),
    ("Description1", "Voorjaar 2024"),
    ("Description2", "Beurs Utrecht"),
    ("Description3", None),
    ("Reference", "REF-77"),
    ("SubTotal", Decimal("132.79")),
    ("Total", Decimal("156.91")),
    ("VatTotal", Decimal("24.12")),
    ("YourReference", "PO 2024-118"),
    ("Username", "jan.devries"),
    ("Warehouse", "AMS-01"),
    ("Signature", "data:image/png;base64,iVBORw0KGgo="),
    ("DeliveryMethodCode", "DHL"),
    ("OrderType", "Pre-order"),
    ("DeliveryAddress", {"Name": "Magazijn Zuid", "Contact": "P. de Vries", "Address1": "Kerkstraat 42-f3",
                         "Address2": None, "PostalCode": "1017 GM", "City": "Amsterdam", "State": None,
                         "CountryCode": "NL", "Phone": "+31 20 1234567", "Email": None}),
    ("DeliveryAddressID", "a1b2c3d4-e5f6-4789-8abc-def012345678"),
]

CUSTOMER = "0d9b8c7a-6e5f-4a3b-8c2d-1e0f9a8b7c6d"
LINES = [
    {"ID": "00000000-0000-4000-8000-000000000001", "CustomerGUID": CUSTOMER, "Discount": Decimal(10),
     "TotalDiscount": Decimal("3.66"), "ItemCode": "SHIRT-RED-M", "Quantity": 2, "QuantityDelivered": 0,
     "VatPercentage": 21, "PriceExcl": Decimal("16.49"), "PriceIncl": Decimal("19.95"),
     "DefaultPrice": Decimal("18.5"), "LineNumber": 1, "Instruction": "Gift wrap", "Description": "T-shirt rood M",
     "DeliveryDate": "2024-04-20T00:00:00"},
    {"ID": "00000000-0000-4000-8000-000000000002", "CustomerGUID": CUSTOMER, "Discount": 5,
     "TotalDiscount": Decimal("3.23"), "ItemCode": "JEANS-BLUE-32", "Quantity": Decimal("1.5"),
     "QuantityDelivered": Decimal("0.5"), "VatPercentage": 21, "PriceExcl": Decimal("40.91"),
     "PriceIncl": Decimal("49.50"), "DefaultPrice": None, "LineNumber": 2, "Instruction": None,
     "Description": "Jeans blauw 32"},
    {"ID": "00000000-0000-4000-8000-000000000003", "CustomerGUID": CUSTOMER, "Discount": 0,
     "TotalDiscount": Decimal("0.00"), "ItemCode": "BELT", "Quantity": 3, "QuantityDelivered": 0,
     "VatPercentage": 9, "PriceExcl": Decimal("10.5"), "PriceIncl": Decimal("11.44"),
     "DefaultPrice": Decimal("10.5"), "LineNumber": 3, "Instruction": None, "Description": None},
]


@pytest.mark.parametrize(("field", "expected"), HEADER, ids=[field for field, _ in HEADER])
def test_golden_header_field(field: str, expected: Any) -> None:
    assert read("order_full.json")[field] == expected


@pytest.mark.parametrize("number", [1, 2, 3])
def test_golden_line(number: int) -> None:
    line = read("order_full.json")["Lines"][number - 1]
    assert list(line) == list(LINES[number - 1])
    assert line == LINES[number - 1]


def test_golden_has_nothing_else() -> None:
    full = read("order_full.json")
    assert list(full) == [field for field, _ in HEADER] + ["Lines"]
    assert len(full["Lines"]) == 3


def test_golden_wrapped_filtered_differs_only_where_the_switches_say() -> None:
    wrapped = read("order_wrapped_filtered.json")
    assert list(wrapped) == ["Results"] and list(wrapped["Results"][0]) == ["Results"]
    (inner,) = wrapped["Results"][0]["Results"]
    full = read("order_full.json")
    assert inner["Notes"] == "Levering na 12:00 - bel aan"
    assert "DeliveryAddress" not in inner and "DeliveryAddressID" not in inner
    expected = {k: v for k, v in full.items() if k not in {"DeliveryAddress", "DeliveryAddressID"}}
    expected["Notes"] = "Levering na 12:00 - bel aan"
    assert inner == expected
