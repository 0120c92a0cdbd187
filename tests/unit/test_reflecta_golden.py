"""The full Reflecta order against a golden file, byte for byte.

tests/golden/reflecta/order_full.xml was generated once from ``golden_order()`` and then checked element by
element against the seed (shared/seeds/000_adf382cff99276f0.txt) and the element names of
shared/notes/erp-wire-formats.md. The check:

  <?xml version='1.0' encoding='UTF-8'?>  lxml's declaration (xml.to_bytes); UTF-8 as the notes' one-file-per-order
  Orders/OrderHeader                      notes: "Orders/OrderHeader"; one order per file ([OrderNr].xml)
  WebOrderNr = WEB5001                    seed Order Header "Order Number": Order.OrderNr, as drawn/kept
  CompanyCode = RFL01                     seed Order Header "Company Code": the mandatory connector setting
  OrderDate = 2024-03-15                  seed Order Header "Order Date": Order.OrderDate (2024-03-15 09:30),
                                          notes: yyyy-MM-dd; not created_at (2024-03-16)
  CustomerCode = CUST-0042                seed Order Header "Customer Code": Order.Customer.Code
  CurrencyCode = GBP                      seed Order Header "Currency": the customer's data (price list GBP);
                                          the administration's EUR is not used
  DeliveryAddresses/DeliveryAddress       seed "Delivery Address": present because Order.AlternateAddress is set
    Name = Modehuis De Vries              seed "Customer Name": the main Customer.Name, not the address' own
                                          name ("Magazijn Zuid")
    Street = Kerkstraat                   seed "Street": street part of AlternateAddress "Kerkstraat 42-f3"
    HouseNr = 42                          seed "House Number": house number part of the same line
    HouseNrExt = f3                       the addition of that line (notes' table row "Kerkstraat 42-f3")
    ZipCode = 1017 GM                     seed "Postal Code": AlternateAddress.PostalCode (customer: 3511 AA)
    City = Amsterdam                      seed "City": AlternateAddress.City (customer: Utrecht)
    CountryIsoCode = NL                   seed "Country": AlternateAddress.CountryIso2 (customer: BE)
  OrderLines/OrderLine x 3                seed "Order Lines", one per App4Sales line, in order
    line 1: WebOrderLineSeq = 1           seed "Line Sequence": starts at 1 (App4Sales line_index 0)
            ItemCode = 100200             seed "Item Code": Item.ExtraData.BackofficeItemCode (App4Sales code
                                          SHIRT-RED-M is not sent)
            ItemDimension_obj = RED       seed "Dimension": Item.ExtraData.ItemDimension
            ItemDimensionSize_obj = M     seed "Dimension Size": Item.ExtraData.ItemDimensionSize
            OrderedQty = 2                seed "Quantity": OrderLine.Quantity 2, directly
            SalesPriceAmt = 19.95         seed "Price": OrderLine.Price 19.95, directly; the order's prices
                                          include 21% VAT and price_excl_vat is 16.49, yet no VAT logic
            EarliestDeliveryDate = 2024-04-02   seed "Delivery Date": the order's DeliveryDate, not the line's
                                                own 2024-04-20
    line 2: WebOrderLineSeq = 2, ItemCode = 100300, ItemDimension_obj = BLUE, ItemDimensionSize_obj = 32,
            OrderedQty = 1.5 (quantity 1.500, directly, not rounded to whole), SalesPriceAmt = 49.50
            (price 49.5, at least two decimals), EarliestDeliveryDate = 2024-04-02 (order's)
    line 3: WebOrderLineSeq = 3, ItemCode = 100400 (ExtraData holds only BackofficeItemCode, so no
            ItemDimension_obj / ItemDimensionSize_obj elements), OrderedQty = 3, SalesPriceAmt = 12.00
            (price 12), EarliestDeliveryDate = 2024-04-02 (order's)
  Not present: shipping costs 6.95, webshop discount 2.5 %, line 1's 10 % discount and original price,
  the payment and the attachment -- seed "Charges & Attachments" and "Known Limitations".
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from backoffice_export.connectors.reflecta import mapping
from backoffice_export.connectors.reflecta import settings as reflecta_settings
from backoffice_export.connectors.reflecta.delivery import XSD
from backoffice_export.mapping.xml import parse_reply, to_bytes, validate
from backoffice_export.model import Order
from tests.unit import factories as f

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "reflecta" / "order_full.xml"


def golden_order() -> Order:
    return f.order(
        id=4711,
        order_nr="WEB5001",
        order_date=datetime(2024, 3, 15, 9, 30),
        created_at=datetime(2024, 3, 16, 8, 0),
        delivery_date=date(2024, 4, 2),
        administration_=f.administration(default_currency="EUR"),
        customer_=f.customer(code="CUST-0042", name="Modehuis De Vries", price_list_currency="GBP",
                             address1="Oudegracht 1", postal_code="3511 AA", city="Utrecht", country_iso2="BE"),
        alternate_address=f.address("Kerkstraat 42-f3", name="Magazijn Zuid", postal_code="1017 GM",
                                    city="Amsterdam", country_iso2="NL"),
        prices_include_vat=True,
        lines=[
            f.line(0, item_=f.item("SHIRT-RED-M", {"BackofficeItemCode": "100200", "ItemDimension": "RED",
                                                   "ItemDimensionSize": "M"}),
                   quantity="2", price="19.95", price_excl_vat=Decimal("16.49"), vat_percentage=Decimal(21),
                   original_price=Decimal("22.17"), discount_percentage=Decimal(10),
                   delivery_date=date(2024, 4, 20)),
            f.line(1, item_=f.item("JEANS-BLUE-32", {"BackofficeItemCode": "100300", "ItemDimension": "BLUE",
                                                     "ItemDimensionSize": "32"}),
                   quantity="1.500", price="49.5", vat_percentage=Decimal(21)),
            f.line(2, item_=f.item("BELT", {"BackofficeItemCode": "100400"}), quantity="3", price="12",
                   vat_percentage=Decimal(21)),
        ],
        shipping_costs_excl_vat=Decimal("6.95"),
        webshop_discount_percentage=Decimal("2.5"),
        payment=f.payment(),
        attachments=(f.attachment(),),
    )


def golden_bytes() -> bytes:
    root = mapping.build_order(golden_order(), reflecta_settings.parse({"CompanyCode": "RFL01"}), "WEB5001")
    validate(root, XSD)
    return to_bytes(root)


def test_full_order_matches_the_golden_file() -> None:
    assert golden_bytes() == GOLDEN.read_bytes()


def test_golden_file_is_valid_against_the_xsd() -> None:
    validate(parse_reply(GOLDEN.read_bytes()), XSD)


HEADER = "OrderHeader"
ADDRESS = "OrderHeader/DeliveryAddresses/DeliveryAddress"
LINE = "OrderHeader/OrderLines/OrderLine"

FIELDS = [
    (f"{HEADER}/WebOrderNr", ["WEB5001"]),
    (f"{HEADER}/CompanyCode", ["RFL01"]),
    (f"{HEADER}/OrderDate", ["2024-03-15"]),
    (f"{HEADER}/CustomerCode", ["CUST-0042"]),
    (f"{HEADER}/CurrencyCode", ["GBP"]),
    (f"{ADDRESS}/Name", ["Modehuis De Vries"]),
    (f"{ADDRESS}/Street", ["Kerkstraat"]),
    (f"{ADDRESS}/HouseNr", ["42"]),
    (f"{ADDRESS}/HouseNrExt", ["f3"]),
    (f"{ADDRESS}/ZipCode", ["1017 GM"]),
    (f"{ADDRESS}/City", ["Amsterdam"]),
    (f"{ADDRESS}/CountryIsoCode", ["NL"]),
    (f"{LINE}/WebOrderLineSeq", ["1", "2", "3"]),
    (f"{LINE}/ItemCode", ["100200", "100300", "100400"]),
    (f"{LINE}/OrderedQty", ["2", "1.5", "3"]),
    (f"{LINE}/SalesPriceAmt", ["19.95", "49.50", "12.00"]),
    (f"{LINE}/EarliestDeliveryDate", ["2024-04-02", "2024-04-02", "2024-04-02"]),
    (f"{LINE}[1]/ItemDimension_obj", ["RED"]),
    (f"{LINE}[1]/ItemDimensionSize_obj", ["M"]),
    (f"{LINE}[2]/ItemDimension_obj", ["BLUE"]),
    (f"{LINE}[2]/ItemDimensionSize_obj", ["32"]),
    (f"{LINE}[3]/ItemDimension_obj", []),
    (f"{LINE}[3]/ItemDimensionSize_obj", []),
    (f"{HEADER}/DeliveryAddresses", [""]),  # exactly one block (its text is whitespace only)
]


@pytest.mark.parametrize(("path", "expected"), FIELDS, ids=[path for path, _ in FIELDS])
def test_golden_field(path: str, expected: list[str]) -> None:
    root = parse_reply(GOLDEN.read_bytes())
    assert [(node.text or "").strip() for node in root.findall(path)] == expected


def test_golden_element_tree() -> None:
    root = parse_reply(GOLDEN.read_bytes())
    assert root.tag == "Orders"
    assert [child.tag for child in root] == ["OrderHeader"]
    header = root[0]
    assert [child.tag for child in header] == ["WebOrderNr", "CompanyCode", "OrderDate", "CustomerCode",
                                              "CurrencyCode", "DeliveryAddresses", "OrderLines"]
    assert [[child.tag for child in line] for line in root.findall(LINE)] == [
        ["WebOrderLineSeq", "ItemCode", "ItemDimension_obj", "ItemDimensionSize_obj", "OrderedQty", "SalesPriceAmt",
         "EarliestDeliveryDate"],
        ["WebOrderLineSeq", "ItemCode", "ItemDimension_obj", "ItemDimensionSize_obj", "OrderedQty", "SalesPriceAmt",
         "EarliestDeliveryDate"],
        ["WebOrderLineSeq", "ItemCode", "OrderedQty", "SalesPriceAmt", "EarliestDeliveryDate"],
    ]
