"""EzXml CSV, one test per row of the seed's CSV table, and the file's contract (separator, quoting, encoding).

Each file is read back the way the ERP or a person would: ``pandas.read_csv`` and the ``csv`` module.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal

import pandas as pd
import pytest

from backoffice_export.connectors.ezxml import csv_format
from backoffice_export.connectors.ezxml.common import OrderNumbers
from backoffice_export.errors import OrderDataError
from backoffice_export.model import Order
from tests.unit import factories as f

NUMBERS = OrderNumbers(order_nr="Inv17", generated="Inv17")
EXPORTED_AT = datetime(2024, 3, 18, 14, 5, 59)


def render(order: Order, numbers: OrderNumbers = NUMBERS) -> bytes:
    return csv_format.render(order, numbers, EXPORTED_AT)


def read_pandas(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), sep=";", dtype=str, keep_default_na=False, encoding="utf-8")


def read_csv_module(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""), delimiter=";"))


def column(order: Order, name: str, numbers: OrderNumbers = NUMBERS) -> list[str]:
    """The column as both readers see it (they must agree)."""
    data = render(order, numbers)
    by_pandas = read_pandas(data)[name].tolist()
    assert [row[name] for row in read_csv_module(data)] == by_pandas
    return by_pandas


def two_lines(**overrides: object) -> Order:
    return f.order(lines=[f.line(0, quantity=2, price="10.00"), f.line(1, quantity=1, price="5.00")], **overrides)


# ===== Order (CSV Format) rows ===================================================================================

@pytest.mark.parametrize(("numbers", "expected"), [
    (OrderNumbers(order_nr="5001"), "5001"), (OrderNumbers(order_nr="Inv17", generated="Inv17"), "Inv17")],
    ids=["UseInternalOrdersAsWebOrderNr", "generated"])
def test_order_number_internal_if_UseInternalOrdersAsWebOrderNr_else_generated(numbers: OrderNumbers,
                                                                               expected: str) -> None:
    assert column(two_lines(), "OrderNr", numbers) == [expected, expected]


def test_order_date_is_the_current_date_and_time_yyyyMMdd_HH_mm() -> None:
    order = two_lines(order_date=datetime(2024, 1, 1, 8, 0))
    assert column(order, "OrderDate") == ["20240318 14:05", "20240318 14:05"]


def test_customer_code_maps_directly() -> None:
    assert column(two_lines(customer_=f.customer(code="DEB-0042")), "CustomerCode") == ["DEB-0042"] * 2


def test_your_reference_maps_directly() -> None:
    assert column(two_lines(your_reference="PO 118"), "YourReference") == ["PO 118"] * 2


def test_order_type_is_hardcoded_Inv() -> None:
    assert column(two_lines(order_type="Webshop"), "OrderType") == ["Inv", "Inv"]


@pytest.mark.parametrize(("name", "field", "value"), [
    ("DeliveryAddress1", "address1", "Kerkstraat 42-f3"),
    ("DeliveryAddress2", "address2", "2e verdieping"),
    ("DeliveryCity", "city", "Amsterdam"),
    ("DeliveryPostalCode", "postal_code", "1017 GM"),
    ("DeliveryCountry", "country_iso2", "NL"),
    ("DeliveryState", "state", "Noord-Holland"),
])
def test_delivery_address_fields_from_the_alternate_address(name: str, field: str, value: str) -> None:
    customer = f.customer(address1="Dorpsweg 1", address2="x", postal_code="3511 AA", city="Utrecht", state="U",
                          country_iso2="BE")
    assert column(two_lines(customer_=customer, alternate_address=f.address(**{field: value})), name) == [value] * 2
    assert column(two_lines(customer_=customer, alternate_address=None), name) == ["", ""]


@pytest.mark.parametrize(("consumer", "expected"), [("sanne@example.org", "sanne@example.org"),
                                                    (None, "inkoop@jansen.example"), ("", "inkoop@jansen.example")])
def test_email_of_the_consumer_if_available_else_of_the_customer(consumer: str | None, expected: str) -> None:
    order = two_lines(consumer_email=consumer, customer_=f.customer(email="inkoop@jansen.example"))
    assert column(order, "Email") == [expected] * 2


@pytest.mark.parametrize(("consumer", "expected"), [("Sanne Bakker", "Sanne Bakker"), (None, "Jansen Mode B.V.")])
def test_name_of_the_consumer_if_available_else_of_the_customer(consumer: str | None, expected: str) -> None:
    order = two_lines(consumer_name=consumer, customer_=f.customer(name="Jansen Mode B.V."))
    assert column(order, "Name") == [expected] * 2


def test_reference_maps_directly() -> None:
    assert column(two_lines(reference="Beurs"), "Reference") == ["Beurs", "Beurs"]


def test_notes_map_directly() -> None:
    assert column(two_lines(notes="Achterom; bel aan"), "Notes") == ["Achterom; bel aan"] * 2


@pytest.mark.parametrize(("name", "price", "expected"), [
    ("TotalExclVat", "100.125", "100.12"),
    ("TotalInclVat", "100.125", "121.15"),
    ("TotalVat", "100.125", "21.03"),
    ("TotalExclInvoiceDiscount", "100.135", "100.14"),
])
def test_totals_are_the_rounded_lines_summed(name: str, price: str, expected: str) -> None:
    order = f.order(lines=[f.line(0, price=price)], total_excl_vat=Decimal(1), total_vat=Decimal(1),
                    total_incl_vat=Decimal(2))  # stored totals that disagree with the lines do not go out
    assert column(order, name) == [expected]


def test_total_excl_invoice_discount_is_the_total_excl_vat() -> None:
    order = two_lines(webshop_discount_percentage=Decimal(5), total_excl_vat=Decimal("25.00"),
                      total_vat=Decimal("5.25"), total_incl_vat=Decimal("30.25"))
    assert column(order, "TotalExclInvoiceDiscount") == column(order, "TotalExclVat") == ["25.00", "25.00"]


def test_shipment_date_is_always_empty() -> None:
    order = two_lines(delivery_date=datetime(2024, 5, 1).date())
    assert column(order, "ShipmentDate") == ["", ""]


def test_item_code_of_the_variant() -> None:
    order = f.order(lines=[f.line(0, item_=f.item("TS-RED-M")), f.line(1, item_=f.item("CAP"))])
    assert column(order, "ItemCode") == ["TS-RED-M", "CAP"]


@pytest.mark.parametrize(("quantity", "expected"), [("2", "2"), ("2.5", "2"), ("3.5", "4"), ("2.505", "2"),
                                                    ("1.51", "2")])
def test_quantity_rounded_to_a_whole_number(quantity: str, expected: str) -> None:
    assert column(f.order(lines=[f.line(0, quantity=quantity)]), "Quantity") == [expected]


def test_discount_percentage_maps_directly() -> None:
    order = f.order(lines=[f.line(0, discount_percentage=Decimal("7.50")), f.line(1)])
    assert column(order, "DiscountPercentage") == ["7.5", ""]


@pytest.mark.parametrize(("line", "prices_include_vat", "expected"), [
    ({"price": "121.00"}, True, "100.00"),
    ({"price": "19.95"}, True, "16.49"),
    ({"price": "121.00", "price_excl_vat": Decimal("99.99")}, True, "99.99"),
    ({"price": "19.955"}, False, "19.96"),
    ({"price": "19.945"}, False, "19.94"),
])
def test_price_rounded_to_2_decimals_and_without_vat(line: dict[str, object], prices_include_vat: bool,
                                                     expected: str) -> None:
    order = f.order(prices_include_vat=prices_include_vat, lines=[f.line(0, vat_percentage=Decimal(21), **line)])
    assert column(order, "Price") == [expected]


def test_line_amount_is_quantity_times_price() -> None:
    order = f.order(prices_include_vat=True, lines=[f.line(0, quantity="3", price="19.95"),
                                                    f.line(1, quantity="1.6", price="121")])
    assert column(order, "LineAmount") == ["49.47", "200.00"]


def test_color_of_a_matrix_child() -> None:
    child = f.item("A", is_matrix_child=True, matrix_color_description="Navy", matrix_style_number="ST-9")
    assert column(f.order(lines=[f.line(0, item_=child), f.line(1)]), "Color") == ["Navy", ""]


def test_style_number_of_a_matrix_child_as_StyleNo() -> None:
    child = f.item("A", is_matrix_child=True, matrix_color_description="Navy", matrix_style_number="ST-9")
    plain = f.item("B", is_matrix_child=False, matrix_style_number="ignored")
    assert column(f.order(lines=[f.line(0, item_=child), f.line(1, item_=plain)]), "StyleNo") == ["ST-9", ""]


# ===== One row per line, header repeated =========================================================================

def test_header_fields_are_repeated_on_every_line() -> None:
    order = f.order(customer_=f.customer(code="DEB-1"), your_reference="PO-9", alternate_address=f.address(),
                    lines=[f.line(0), f.line(1), f.line(2)])
    frame = read_pandas(render(order))
    assert list(frame.columns) == list(csv_format.COLUMNS)
    assert len(frame) == 3
    header_columns = csv_format.COLUMNS[:csv_format.COLUMNS.index("ItemCode")]
    assert frame[list(header_columns)].drop_duplicates().shape[0] == 1


# ===== The file: separator, quoting, encoding, formulas ==========================================================

def test_file_is_utf8_without_bom_separated_by_semicolons_with_crlf_lines() -> None:
    data = render(f.order(lines=[f.line(0), f.line(1)]))
    assert not data.startswith(b"\xef\xbb\xbf")
    assert data.startswith(b"OrderNr;OrderDate;CustomerCode;")
    assert data.count(b"\r\n") == 3 and data.endswith(b"\r\n")


@pytest.mark.parametrize("text", [
    'Jansen; Mode "De Ster"',
    "regel 1\nregel 2",
    "regel 1\r\nregel 2",
    '"',
    ";",
    "  spaties  ",
    "Café Zoë € 5,-",
    "汉字 and emoji \U0001f600",
], ids=["separator+quotes", "LF", "CRLF", "quote", "separator", "spaces", "euro", "non-latin"])
def test_text_round_trips_through_pandas_and_the_csv_module(text: str) -> None:
    order = two_lines(notes=text, customer_=f.customer(name=text))
    data = render(order)
    frame = read_pandas(data)
    rows = read_csv_module(data)
    assert frame["Notes"].tolist() == [text, text] == [row["Notes"] for row in rows]
    assert frame["Name"].tolist() == [text, text]
    assert len(rows) == 2 and frame["ItemCode"].tolist() == ["ITEM-1", "ITEM-2"]


@pytest.mark.parametrize(("text", "written"), [
    ("=HYPERLINK(\"http://evil.example\",\"x\")", "'=HYPERLINK(\"http://evil.example\",\"x\")"),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("@SUM(1+1)", "'@SUM(1+1)"),
    ("\t=1+2", "'\t=1+2"),
    ("- Sale -", "'- Sale -"),
    ("+31 (0)20 123 4567", "+31 (0)20 123 4567"),  # a phone number is no formula: unchanged
    ("-5", "-5"),
    ("Gewoon tekst = prima", "Gewoon tekst = prima"),
])
def test_formula_like_text_is_neutralised(text: str, written: str) -> None:
    order = two_lines(notes=text)
    assert column(order, "Notes") == [written, written]


def test_amounts_are_never_treated_as_formulas() -> None:
    order = f.order(lines=[f.line(0, price="-10.00")])
    assert column(order, "TotalExclVat") == ["-10.00"]


@pytest.mark.parametrize(("order", "field"), [
    (f.order(customer_=None), "Order.Customer"),
    (f.order(lines=[]), "Order.OrderLines"),
    (f.order(lines=[f.line(0, item_=None)]), "OrderLine.Item"),
    (f.order(lines=[f.line(0, quantity="0.2")]), "OrderLine.Quantity"),
    (f.order(notes="nul\x00byte"), "Order.Notes"),
])
def test_bad_input_fails_naming_the_field(order: Order, field: str) -> None:
    with pytest.raises(OrderDataError) as caught:
        render(order)
    assert caught.value.field == field
