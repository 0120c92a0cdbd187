"""The full EzXml order in each of the three formats against its golden file, byte for byte.

tests/golden/ezxml/{order_default.xml, order.csv, order_reflecta.xml} were generated once from ``golden_order()``
and then checked field by field against the seed (shared/seeds/001_67d211f8e965ec92.txt). The order: App4Sales
number 5001, prices INCLUDING 21 % VAT, stored totals 144.925 / 30.434 / 175.359, shipping 6.945 excl. and 8.40345
incl. VAT, paid (payment id tr_WvXy12), consumer Sanne Bakker (email, no phone), alternate address
"Kerkstraat 42-f3", customer CUST-0042 with price list currency GBP, three lines:
  1 TS-RED-M (matrix child Rood / TS100 / 3)  qty 2      price 19.95 incl. VAT, 10 % discount, delivery 2024-04-20
  2 JEANS-BLUE-32                             qty 1.500  price 60.50 incl., PriceExclVat 50.00, delivery 2024-04-25
  3 BELT (VAT 21 % on the item only)          qty 3      price 12.10 incl., no delivery date

order_default.xml (seed "Order Header / Order Lines (Default XML Format)"):
  OrderNr = Default1017          row 1: order type "Default" + sequence number (1017, given to the mapping)
  WebOrderNr = Default1017       row 2: UseInternalOrdersAsWebOrderNr off, so the generated number (not 5001)
  OrderType = Default            row 3: hard-coded "Default"
  OrderDate = 2024-03-15T09:30:00  row 4: Order.OrderDate directly (not created_at 2024-03-16)
  YourReference = PO-2024-118    row 5: direct
  DeliveryDate = 2024-04-25      row 6: the LATEST line delivery date (04-20, 04-25, none), not the order's 04-02
  CustomerCode/Name/Email/Phone  rows 7-10: the customer's CUST-0042 / Modehuis De Vries / inkoop@devries.example /
                                 +31 30 123 4567, directly (the consumer's values do not replace them here)
  ContactPerson = Eva Jansen     row 11: full name of the MAIN contact (Piet Pieters is listed first)
  Reference = Beurs Utrecht, Notes = "Leveren na 14:00; achterom"   rows 12-13: direct
  ConsumerName = Sanne Bakker, ConsumerEmail = sanne@example.org, ConsumerPhone empty   rows 14-16: if provided
  DeliveryAddress = Kerkstraat 42-f3, DeliveryPostalCode = 1017 GM, DeliveryCity = Amsterdam,
  DeliveryState = Noord-Holland, DeliveryCountry = NL   rows 17-21: the alternate address (customer: Utrecht)
  AlternateAddress = 1           row 22: an alternate address is present
  TotalExclVat = 166.62          row 23: the sent lines 29.68 + 100.00 + 30.00 plus freight excl. 6.945 -> 6.94
                                 (half to even); the stored totals 144.925 / 30.434 / 175.359 do not go out
  TotalVat = 34.99               row 24: line VAT 6.23 + 21.00 + 6.30 plus freight VAT 8.40 - 6.94 = 1.46
  TotalInclVat = 201.61          row 25: 166.62 + 34.99
  Freight_costs = 8.40           row 26: shipping INCLUDING VAT 8.40345 rounded (not the 6.945 excl.)
  PaymentmethodId = 7, Payment_id = tr_WvXy12, Paid = SUCCESS   rows 27-29: the order is paid (Mollie)
  lines, rows 1-19 of the line table:
    LineId 0, 1, 2                               row 1: from 0
    Quantity 2, 2, 3                             row 2: 1.500 -> 2 (half to even to a whole number)
    ItemDescription T-shirt rood M, Jeans blauw 32, Riem             row 3: Item.Description
    DiscountPercentage 10, empty, empty           row 4: direct
    Price 16.49, 50.00, 10.00                    row 5: 19.95 / 1.21 = 16.4876 -> 16.49; PriceExclVat 50.00 given;
                                                 12.10 / 1.21 = 10.00 (VAT rate from the item)
    UnitPrice, ListPrice, SalesPrice = Price     rows 6, 7, 15: the same calculated price
    LineAmount 29.68, 100.00, 30.00              row 8: price x quantity as sent less the line discount
                                                 (16.49 x 2 - 10 % = 29.682 -> 29.68, 50.00 x 2, 10.00 x 3)
    EAN 8712345000019, 8712345000026, empty       row 9
    VatPercentage 21.00 x 3                      row 10: rounded to 2 decimals (line 3: the item's rate)
    Instruction "Apart verpakken", empty, empty   row 11
    ItemCode TS-RED-M, JEANS-BLUE-32, BELT        row 12: the variant's code
    ModelDescription "Basic T-shirt", empty, empty row 13
    Stock 12.34, 4.00, empty                     row 14: 12.345 half to even -> 12.34
    GivenDiscountAmount 0 x 3                    row 16: hard-coded, despite line 1's 10 % discount
    Color Rood / StyleNumber TS100 / ColorSorting 3 on line 1 only   rows 17-19: matrix child only
  Not present: the webshop discount 2.5 %, the attachment, the original price 22.17 (seed "Known Limitations").

order.csv (seed "Order (CSV Format)"), one row per line, the header columns identical on all three:
  OrderNr = Inv1017              row 1: generated number with the CSV order type
  OrderDate = 20240318 14:05     row 2: the export moment (EXPORTED_AT 2024-03-18 14:05:42), yyyyMMdd HH:mm
  CustomerCode = CUST-0042, YourReference = PO-2024-118   rows 3-4: direct
  OrderType = Inv                row 5: hard-coded
  DeliveryAddress1 = Kerkstraat 42-f3, DeliveryAddress2 = 2e verdieping, DeliveryCity = Amsterdam,
  DeliveryPostalCode = 1017 GM, DeliveryCountry = NL, DeliveryState = Noord-Holland   rows 6-11: alternate address
  Email = sanne@example.org      row 12: the consumer's, before the customer's inkoop@devries.example
  Name = Sanne Bakker            row 13: the consumer's, before Modehuis De Vries
  Reference = Beurs Utrecht, Notes = "Leveren na 14:00; achterom"   rows 14-15 (Notes is quoted: it holds ";")
  TotalExclVat = 166.62, TotalInclVat = 201.61, TotalVat = 34.99   rows 16, 17, 19: as above
  ShipmentDate empty             row 18: always empty
  TotalExclInvoiceDiscount = 166.62   row 20: same as TotalExclVat
  ItemCode / Quantity / DiscountPercentage / Price / LineAmount   rows 21-25: as the default XML's lines
  Color = Rood, StyleNo = TS100 on line 1 only   rows 26-27: matrix child only
  File: UTF-8 without BOM, ";" separated, CRLF line ends, header row first.

order_reflecta.xml (seed "Order Header / Order Lines (Reflecta XML Format)", REFLECTA_SETTINGS):
  WebOrderNr = Default1017       row 1: generated (default order type)
  ProviderCode = APP4SALES, ContextCode = WEB, CompanyCode = 01, WarehouseGroupCode = MAIN   rows 2-5: settings
  OrderDate = 15-03-2024         row 6: dd-MM-yyyy
  CustomerCode = CUST-0042       row 7: direct
  CurrencyCode = GBP             row 8: the customer's price list ISO code, not the general EUR
  CustomerReference = PO-2024-118, AdditionalInformation = notes   rows 9-10: direct
  OrderOriginCode = B2B-APP, SeasonCode = W24, SalesDepartmentCode = WHOLESALE   rows 11-13: settings
  SalDeliveryTermCode = VRACHT   row 14: the order HAS shipping costs, so ReflectaDeliveryTermCode, not FRANCO
  FreightChargesAmt = 6.94       row 15: shipping EXCLUDING VAT 6.945, half to even like every EzXml amount
  DeliveryAddress: Name = Sanne Bakker (consumer before customer), Street = Kerkstraat, HouseNr = 42,
  HouseNrExt = f3 (parsed from "Kerkstraat 42-f3"), ZipCode = 1017 GM, City = Amsterdam, CountryIsoCode = NL,
  Phone = +31 30 123 4567 (no consumer phone, so the customer's), Email = sanne@example.org (consumer's)
  lines: WebOrderLineSeq 1, 2, 3 (from 1); ItemCode TS-RED-M, JEANS-BLUE-32, BELT; OrderedQty 2, 2, 3 (whole);
         SalesPriceAmt 16.49, 50.00, 10.00 (excl. VAT, 2 decimals); nothing else per line (seed "Known Limitations").
"""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from backoffice_export.connectors.ezxml import csv_format, default_xml, reflecta_xml
from backoffice_export.connectors.ezxml import settings as ezxml_settings
from backoffice_export.connectors.ezxml.common import OrderNumbers
from backoffice_export.mapping.xml import parse_reply, validate
from backoffice_export.model import Contact, Order
from tests.unit import factories as f

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "ezxml"
EXPORTED_AT = datetime(2024, 3, 18, 14, 5, 42)
REFLECTA_SETTINGS = {
    "OrderFormat": "Reflecta", "ReflectaProviderCode": "APP4SALES", "ReflectaContextCode": "WEB",
    "ReflectaCompanyCode": "01", "ReflectaWarehouseGroupCode": "MAIN", "ReflectaOrderOriginCode": "B2B-APP",
    "ReflectaSeasonCode": "W24", "ReflectaSalesDepartmentCode": "WHOLESALE", "ReflectaDeliveryTermCode": "VRACHT",
    "ReflectaDeliveryTermCodeWhenTheOrderHasNoShippingCosts": "FRANCO",
}


def golden_order() -> Order:
    shirt = f.item("TS-RED-M", None, description="T-shirt rood M", model_description="Basic T-shirt",
                   ean="8712345000019", stock=Decimal("12.345"), is_matrix_child=True,
                   matrix_color_description="Rood", matrix_style_number="TS100", matrix_color_sorting=3)
    jeans = f.item("JEANS-BLUE-32", None, description="Jeans blauw 32", ean="8712345000026", stock=Decimal(4))
    belt = f.item("BELT", None, description="Riem", vat_percentage=Decimal(21))
    return f.order(
        id=4711,
        internal_order_nr="5001",
        order_nr=None,
        order_date=datetime(2024, 3, 15, 9, 30),
        created_at=datetime(2024, 3, 16, 8, 0),
        delivery_date=date(2024, 4, 2),
        administration_=f.administration(connector="ezxml", default_currency="EUR"),
        customer_=f.customer(code="CUST-0042", name="Modehuis De Vries", email="inkoop@devries.example",
                             phone="+31 30 123 4567", price_list_currency="GBP", address1="Oudegracht 1",
                             postal_code="3511 AA", city="Utrecht", country_iso2="NL",
                             contacts=(Contact(first_name="Piet", last_name="Pieters"),
                                       Contact(first_name="Eva", last_name="Jansen", is_main=True))),
        your_reference="PO-2024-118",
        reference="Beurs Utrecht",
        notes="Leveren na 14:00; achterom",
        consumer_name="Sanne Bakker",
        consumer_email="sanne@example.org",
        alternate_address=f.address("Kerkstraat 42-f3", address2="2e verdieping", name="Magazijn Zuid",
                                    postal_code="1017 GM", city="Amsterdam", state="Noord-Holland",
                                    country_iso2="NL"),
        prices_include_vat=True,
        lines=[
            f.line(0, item_=shirt, quantity="2", price="19.95", vat_percentage=Decimal(21),
                   discount_percentage=Decimal(10), original_price=Decimal("22.17"), instruction="Apart verpakken",
                   delivery_date=date(2024, 4, 20)),
            f.line(1, item_=jeans, quantity="1.500", price="60.50", price_excl_vat=Decimal("50.00"),
                   vat_percentage=Decimal(21), delivery_date=date(2024, 4, 25)),
            f.line(2, item_=belt, quantity="3", price="12.10"),
        ],
        shipping_costs_excl_vat=Decimal("6.945"),
        shipping_costs_incl_vat=Decimal("8.40345"),
        total_excl_vat=Decimal("144.925"),
        total_vat=Decimal("30.434"),
        total_incl_vat=Decimal("175.359"),
        webshop_discount_percentage=Decimal("2.5"),
        is_paid=True,
        payment=f.payment(payment_id="tr_WvXy12", method="ideal"),
        attachments=(f.attachment(),),
    )


def default_bytes() -> bytes:
    return default_xml.render(golden_order(), OrderNumbers(order_nr="Default1017", generated="Default1017"))


def csv_bytes() -> bytes:
    return csv_format.render(golden_order(), OrderNumbers(order_nr="Inv1017", generated="Inv1017"), EXPORTED_AT)


def reflecta_bytes() -> bytes:
    return reflecta_xml.render(golden_order(), ezxml_settings.parse(REFLECTA_SETTINGS),
                               OrderNumbers(order_nr="Default1017", generated="Default1017"))


FILES = {"order_default.xml": default_bytes, "order.csv": csv_bytes, "order_reflecta.xml": reflecta_bytes}


@pytest.mark.parametrize("name", list(FILES))
def test_full_order_matches_the_golden_file(name: str) -> None:
    assert FILES[name]() == (GOLDEN / name).read_bytes()


def test_golden_xml_files_are_valid_against_their_xsd() -> None:
    validate(parse_reply((GOLDEN / "order_default.xml").read_bytes()), default_xml.XSD)
    validate(parse_reply((GOLDEN / "order_reflecta.xml").read_bytes()), reflecta_xml.XSD)


H, L = "OrderHeader", "OrderLines/OrderLine"
DEFAULT_FIELDS = [
    (f"{H}/OrderNr", ["Default1017"]), (f"{H}/WebOrderNr", ["Default1017"]), (f"{H}/OrderType", ["Default"]),
    (f"{H}/OrderDate", ["2024-03-15T09:30:00"]), (f"{H}/YourReference", ["PO-2024-118"]),
    (f"{H}/DeliveryDate", ["2024-04-25"]), (f"{H}/CustomerCode", ["CUST-0042"]),
    (f"{H}/CustomerName", ["Modehuis De Vries"]), (f"{H}/CustomerEmail", ["inkoop@devries.example"]),
    (f"{H}/CustomerPhone", ["+31 30 123 4567"]), (f"{H}/ContactPerson", ["Eva Jansen"]),
    (f"{H}/Reference", ["Beurs Utrecht"]), (f"{H}/Notes", ["Leveren na 14:00; achterom"]),
    (f"{H}/ConsumerName", ["Sanne Bakker"]), (f"{H}/ConsumerEmail", ["sanne@example.org"]),
    (f"{H}/ConsumerPhone", [""]), (f"{H}/DeliveryAddress", ["Kerkstraat 42-f3"]),
    (f"{H}/DeliveryPostalCode", ["1017 GM"]), (f"{H}/DeliveryCity", ["Amsterdam"]),
    (f"{H}/DeliveryState", ["Noord-Holland"]), (f"{H}/DeliveryCountry", ["NL"]), (f"{H}/AlternateAddress", ["1"]),
    (f"{H}/TotalExclVat", ["166.62"]), (f"{H}/TotalVat", ["34.99"]), (f"{H}/TotalInclVat", ["201.61"]),
    (f"{H}/Freight_costs", ["8.40"]), (f"{H}/PaymentmethodId", ["7"]), (f"{H}/Payment_id", ["tr_WvXy12"]),
    (f"{H}/Paid", ["SUCCESS"]),
    (f"{L}/LineId", ["0", "1", "2"]), (f"{L}/Quantity", ["2", "2", "3"]),
    (f"{L}/ItemDescription", ["T-shirt rood M", "Jeans blauw 32", "Riem"]),
    (f"{L}/DiscountPercentage", ["10", "", ""]), (f"{L}/Price", ["16.49", "50.00", "10.00"]),
    (f"{L}/UnitPrice", ["16.49", "50.00", "10.00"]), (f"{L}/ListPrice", ["16.49", "50.00", "10.00"]),
    (f"{L}/LineAmount", ["29.68", "100.00", "30.00"]), (f"{L}/EAN", ["8712345000019", "8712345000026", ""]),
    (f"{L}/VatPercentage", ["21.00", "21.00", "21.00"]), (f"{L}/Instruction", ["Apart verpakken", "", ""]),
    (f"{L}/ItemCode", ["TS-RED-M", "JEANS-BLUE-32", "BELT"]), (f"{L}/ModelDescription", ["Basic T-shirt", "", ""]),
    (f"{L}/Stock", ["12.34", "4.00", ""]), (f"{L}/SalesPrice", ["16.49", "50.00", "10.00"]),
    (f"{L}/GivenDiscountAmount", ["0", "0", "0"]), (f"{L}/Color", ["Rood", "", ""]),
    (f"{L}/StyleNumber", ["TS100", "", ""]), (f"{L}/ColorSorting", ["3", "", ""]),
]


@pytest.mark.parametrize(("path", "expected"), DEFAULT_FIELDS, ids=[p for p, _ in DEFAULT_FIELDS])
def test_golden_default_xml_field(path: str, expected: list[str]) -> None:
    root = parse_reply((GOLDEN / "order_default.xml").read_bytes())
    assert [node.text or "" for node in root.findall(path)] == expected


RH, RA, RL = "OrderHeader", "OrderHeader/DeliveryAddresses/DeliveryAddress", "OrderHeader/OrderLines/OrderLine"
REFLECTA_FIELDS = [
    (f"{RH}/WebOrderNr", ["Default1017"]), (f"{RH}/ProviderCode", ["APP4SALES"]), (f"{RH}/ContextCode", ["WEB"]),
    (f"{RH}/CompanyCode", ["01"]), (f"{RH}/WarehouseGroupCode", ["MAIN"]), (f"{RH}/OrderDate", ["15-03-2024"]),
    (f"{RH}/CustomerCode", ["CUST-0042"]), (f"{RH}/CurrencyCode", ["GBP"]),
    (f"{RH}/CustomerReference", ["PO-2024-118"]), (f"{RH}/AdditionalInformation", ["Leveren na 14:00; achterom"]),
    (f"{RH}/OrderOriginCode", ["B2B-APP"]), (f"{RH}/SeasonCode", ["W24"]),
    (f"{RH}/SalesDepartmentCode", ["WHOLESALE"]), (f"{RH}/SalDeliveryTermCode", ["VRACHT"]),
    (f"{RH}/FreightChargesAmt", ["6.94"]),
    (f"{RA}/Name", ["Sanne Bakker"]), (f"{RA}/Street", ["Kerkstraat"]), (f"{RA}/HouseNr", ["42"]),
    (f"{RA}/HouseNrExt", ["f3"]), (f"{RA}/ZipCode", ["1017 GM"]), (f"{RA}/City", ["Amsterdam"]),
    (f"{RA}/CountryIsoCode", ["NL"]), (f"{RA}/Phone", ["+31 30 123 4567"]), (f"{RA}/Email", ["sanne@example.org"]),
    (f"{RL}/WebOrderLineSeq", ["1", "2", "3"]), (f"{RL}/ItemCode", ["TS-RED-M", "JEANS-BLUE-32", "BELT"]),
    (f"{RL}/OrderedQty", ["2", "2", "3"]), (f"{RL}/SalesPriceAmt", ["16.49", "50.00", "10.00"]),
]


@pytest.mark.parametrize(("path", "expected"), REFLECTA_FIELDS, ids=[p for p, _ in REFLECTA_FIELDS])
def test_golden_reflecta_xml_field(path: str, expected: list[str]) -> None:
    root = parse_reply((GOLDEN / "order_reflecta.xml").read_bytes())
    assert [node.text or "" for node in root.findall(path)] == expected


CSV_FIELDS = {
    "OrderNr": ["Inv1017"] * 3, "OrderDate": ["20240318 14:05"] * 3, "CustomerCode": ["CUST-0042"] * 3,
    "YourReference": ["PO-2024-118"] * 3, "OrderType": ["Inv"] * 3, "DeliveryAddress1": ["Kerkstraat 42-f3"] * 3,
    "DeliveryAddress2": ["2e verdieping"] * 3, "DeliveryCity": ["Amsterdam"] * 3,
    "DeliveryPostalCode": ["1017 GM"] * 3, "DeliveryCountry": ["NL"] * 3, "DeliveryState": ["Noord-Holland"] * 3,
    "Email": ["sanne@example.org"] * 3, "Name": ["Sanne Bakker"] * 3, "Reference": ["Beurs Utrecht"] * 3,
    "Notes": ["Leveren na 14:00; achterom"] * 3, "TotalExclVat": ["166.62"] * 3, "TotalInclVat": ["201.61"] * 3,
    "ShipmentDate": [""] * 3, "TotalVat": ["34.99"] * 3, "TotalExclInvoiceDiscount": ["166.62"] * 3,
    "ItemCode": ["TS-RED-M", "JEANS-BLUE-32", "BELT"], "Quantity": ["2", "2", "3"],
    "DiscountPercentage": ["10", "", ""], "Price": ["16.49", "50.00", "10.00"],
    "LineAmount": ["29.68", "100.00", "30.00"], "Color": ["Rood", "", ""], "StyleNo": ["TS100", "", ""],
}


@pytest.mark.parametrize("column", list(CSV_FIELDS))
def test_golden_csv_field(column: str) -> None:
    frame = pd.read_csv(io.BytesIO((GOLDEN / "order.csv").read_bytes()), sep=";", dtype=str, keep_default_na=False)
    assert list(frame.columns) == list(csv_format.COLUMNS)
    assert frame[column].tolist() == CSV_FIELDS[column]


def test_golden_element_trees() -> None:
    default = parse_reply((GOLDEN / "order_default.xml").read_bytes())
    assert default.tag == "Order" and [c.tag for c in default] == ["OrderHeader", "OrderLines"]
    reflecta = parse_reply((GOLDEN / "order_reflecta.xml").read_bytes())
    assert reflecta.tag == "Orders" and [c.tag for c in reflecta] == ["OrderHeader"]
    assert len(reflecta.findall(RA)) == 1
