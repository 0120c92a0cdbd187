"""EzXml default XML, one test per row of the seed (shared/seeds/001_67d211f8e965ec92.txt).

Every document is built as ``default_xml.render`` builds it and checked against the XSD that ships with it.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from lxml import etree

from backoffice_export.connectors.ezxml import default_xml
from backoffice_export.connectors.ezxml.common import OrderNumbers
from backoffice_export.errors import OrderDataError
from backoffice_export.mapping.xml import parse_reply, validate
from backoffice_export.model import Contact, Order
from tests.unit import factories as f

NUMBERS = OrderNumbers(order_nr="Default17", generated="Default17")
HEADER = "OrderHeader"
LINE = "OrderLines/OrderLine"
HEADER_ELEMENTS = [
    "OrderNr", "WebOrderNr", "OrderType", "OrderDate", "YourReference", "DeliveryDate", "CustomerCode",
    "CustomerName", "CustomerEmail", "CustomerPhone", "ContactPerson", "Reference", "Notes", "ConsumerName",
    "ConsumerEmail", "ConsumerPhone", "DeliveryAddress", "DeliveryPostalCode", "DeliveryCity", "DeliveryState",
    "DeliveryCountry", "AlternateAddress", "TotalExclVat", "TotalVat", "TotalInclVat", "Freight_costs",
    "PaymentmethodId", "Payment_id", "Paid",
]
LINE_ELEMENTS = [
    "LineId", "Quantity", "ItemDescription", "DiscountPercentage", "Price", "UnitPrice", "ListPrice", "LineAmount",
    "EAN", "VatPercentage", "Instruction", "ItemCode", "ModelDescription", "Stock", "SalesPrice",
    "GivenDiscountAmount", "Color", "StyleNumber", "ColorSorting",
]


def build(order: Order, numbers: OrderNumbers = NUMBERS) -> etree._Element:
    root = parse_reply(default_xml.render(order, numbers))
    validate(root, default_xml.XSD)
    return root


def header(order: Order, tag: str, numbers: OrderNumbers = NUMBERS) -> str:
    node = build(order, numbers).find(f"{HEADER}/{tag}")
    assert node is not None, f"{tag} is missing"
    return node.text or ""


def lines(order: Order, tag: str) -> list[str]:
    return [node.text or "" for node in build(order).findall(f"{LINE}/{tag}")]


def matrix_item(code: str = "TS-RED-M") -> object:
    return f.item(code, None, is_matrix_child=True, matrix_color_description="Rood", matrix_style_number="TS100",
                  matrix_color_sorting=3)


# ===== Order Header ==============================================================================================

def test_order_number_is_order_type_plus_sequence_number() -> None:
    assert header(f.order(), "OrderNr") == "Default17"


@pytest.mark.parametrize(("numbers", "expected"), [
    (OrderNumbers(order_nr="5001", generated="Default17"), "5001"),
    (OrderNumbers(order_nr="Default17", generated="Default17"), "Default17"),
], ids=["UseInternalOrdersAsWebOrderNr", "generated"])
def test_web_order_number_is_internal_number_if_UseInternalOrdersAsWebOrderNr(numbers: OrderNumbers,
                                                                              expected: str) -> None:
    root = build(f.order(), numbers)
    assert root.findtext(f"{HEADER}/WebOrderNr") == expected
    assert root.findtext(f"{HEADER}/OrderNr") == "Default17"


def test_order_type_is_hardcoded_Default() -> None:
    assert header(f.order(order_type="Webshop"), "OrderType") == "Default"


def test_order_date_maps_directly() -> None:
    order = f.order(order_date=datetime(2024, 1, 5, 23, 59, 7), created_at=datetime(2024, 2, 1))
    assert header(order, "OrderDate") == "2024-01-05T23:59:07"


def test_your_reference_maps_directly() -> None:
    assert header(f.order(your_reference="PO-2024-118"), "YourReference") == "PO-2024-118"


def test_delivery_date_is_the_latest_among_the_order_lines() -> None:
    order = f.order(delivery_date=date(2024, 12, 31), lines=[
        f.line(0, delivery_date=date(2024, 5, 3)), f.line(1, delivery_date=date(2024, 6, 1)), f.line(2)])
    assert header(order, "DeliveryDate") == "2024-06-01"
    assert header(f.order(lines=[f.line(0)]), "DeliveryDate") == ""


@pytest.mark.parametrize(("tag", "field", "value"), [
    ("CustomerCode", "code", "DEB-0042"),
    ("CustomerName", "name", "Modehuis De Vries"),
    ("CustomerEmail", "email", "inkoop@devries.example"),
    ("CustomerPhone", "phone", "+31 20 123 4567"),
])
def test_customer_fields_map_directly_from_the_customer(tag: str, field: str, value: str) -> None:
    order = f.order(customer_=f.customer(**{field: value}), consumer_name="Consument", consumer_email="c@x.example",
                    consumer_phone="0600000000")
    assert header(order, tag) == value


def test_contact_person_is_the_full_name_of_the_main_contact() -> None:
    contacts = (Contact(first_name="Piet", last_name="Pieters"), Contact(first_name="Eva", last_name="Jansen",
                                                                          is_main=True))
    assert header(f.order(customer_=f.customer(contacts=contacts)), "ContactPerson") == "Eva Jansen"
    assert header(f.order(customer_=f.customer(contacts=())), "ContactPerson") == ""


def test_reference_maps_directly() -> None:
    assert header(f.order(reference="Beurs Utrecht"), "Reference") == "Beurs Utrecht"


def test_notes_map_directly() -> None:
    assert header(f.order(notes="Leveren na 14:00\nbij de achteringang"), "Notes") == (
        "Leveren na 14:00\nbij de achteringang")


@pytest.mark.parametrize(("tag", "field", "value"), [
    ("ConsumerName", "consumer_name", "Sanne Bakker"),
    ("ConsumerEmail", "consumer_email", "sanne@example.org"),
    ("ConsumerPhone", "consumer_phone", "06-12345678"),
])
def test_consumer_fields_if_provided(tag: str, field: str, value: str) -> None:
    assert header(f.order(**{field: value}), tag) == value
    assert header(f.order(**{field: None}), tag) == ""


@pytest.mark.parametrize(("tag", "field", "value"), [
    ("DeliveryAddress", "address1", "Kerkstraat 42-f3"),
    ("DeliveryPostalCode", "postal_code", "1017 GM"),
    ("DeliveryCity", "city", "Amsterdam"),
    ("DeliveryState", "state", "Noord-Holland"),
    ("DeliveryCountry", "country_iso2", "NL"),
])
def test_delivery_address_fields_from_the_alternate_address(tag: str, field: str, value: str) -> None:
    customer = f.customer(address1="Dorpsweg 1", postal_code="3511 AA", city="Utrecht", state="Utrecht",
                          country_iso2="BE")
    with_address = f.order(customer_=customer, alternate_address=f.address(**{field: value}))
    assert header(with_address, tag) == value
    assert header(f.order(customer_=customer, alternate_address=None), tag) == ""


def test_alternate_address_flag_is_1_with_an_alternate_address_else_0() -> None:
    assert header(f.order(alternate_address=f.address()), "AlternateAddress") == "1"
    assert header(f.order(alternate_address=None), "AlternateAddress") == "0"


@pytest.mark.parametrize(("price", "expected"), [
    ("100.125", ["100.12", "21.03", "121.15"]),  # the price rounds half to even (Math.Round) before it is summed
    ("100.135", ["100.14", "21.03", "121.17"]),
    ("100", ["100.00", "21.00", "121.00"]),
])
def test_totals_are_the_rounded_lines_summed(price: str, expected: list[str]) -> None:
    order = f.order(lines=[f.line(0, price=price)], total_excl_vat=Decimal(1), total_vat=Decimal(1),
                    total_incl_vat=Decimal(2))  # stored totals that disagree with the lines do not go out
    assert [header(order, t) for t in ("TotalExclVat", "TotalVat", "TotalInclVat")] == expected


def test_totals_computed_from_the_lines_and_the_freight() -> None:
    order = f.order(prices_include_vat=False, shipping_costs_excl_vat=Decimal("5.00"),
                    lines=[f.line(0, quantity=3, price="10.005", vat_percentage=Decimal(21))])
    root = build(order)
    # 10.005 is sent as 10.00 (half to even): 3 x 10.00 + 5.00 = 35.00; VAT 6.30 + 1.05 = 7.35; incl. 42.35
    assert [root.findtext(f"{HEADER}/{t}") for t in ("TotalExclVat", "TotalVat", "TotalInclVat")] == [
        "35.00", "7.35", "42.35"]


@pytest.mark.parametrize(("shipping", "expected"), [
    ({"shipping_costs_incl_vat": Decimal("6.955"), "shipping_costs_excl_vat": Decimal("5.75")}, "6.96"),
    ({"shipping_costs_incl_vat": Decimal("6.945")}, "6.94"),
    ({"shipping_costs_excl_vat": Decimal("5.00")}, "6.05"),  # incl. VAT derived at the line's 21 %
    ({}, "0.00"),
])
def test_freight_costs_including_vat_rounded_to_2_decimals(shipping: dict[str, Decimal], expected: str) -> None:
    order = f.order(lines=[f.line(0, vat_percentage=Decimal(21))], **shipping)
    assert header(order, "Freight_costs") == expected


def test_payment_method_id_is_7_for_mollie_when_paid() -> None:
    assert header(f.order(is_paid=True, payment=f.payment()), "PaymentmethodId") == "7"
    assert header(f.order(is_paid=False, payment=f.payment()), "PaymentmethodId") == ""


def test_payment_id_from_the_payment_details_when_paid() -> None:
    assert header(f.order(is_paid=True, payment=f.payment(payment_id="tr_WvXy12")), "Payment_id") == "tr_WvXy12"
    assert header(f.order(is_paid=False, payment=f.payment(payment_id="tr_WvXy12")), "Payment_id") == ""


def test_paid_is_SUCCESS_when_paid() -> None:
    assert header(f.order(is_paid=True, payment=f.payment()), "Paid") == "SUCCESS"
    assert header(f.order(is_paid=False), "Paid") == ""


@pytest.mark.parametrize("payment", [None, f.payment(payment_id=None), f.payment(payment_id=" ")])
def test_paid_order_without_payment_id_fails_naming_the_field(payment: object) -> None:
    with pytest.raises(OrderDataError) as caught:
        default_xml.build_order(f.order(is_paid=True, payment=payment), NUMBERS)
    assert caught.value.field == "PaymentDetails.PaymentId"


def test_header_element_order() -> None:
    root = build(f.order(alternate_address=f.address(), is_paid=True, payment=f.payment()))
    assert [child.tag for child in root] == ["OrderHeader", "OrderLines"]
    assert [child.tag for child in root.find(HEADER)] == HEADER_ELEMENTS


# ===== Order Lines ===============================================================================================

def test_line_id_is_sequential_from_0() -> None:
    order = f.order(lines=[f.line(5), f.line(2), f.line(9)])
    assert lines(order, "LineId") == ["0", "1", "2"]


@pytest.mark.parametrize(("quantity", "expected"), [
    ("2", "2"), ("2.000", "2"), ("2.4", "2"), ("2.5", "2"), ("3.5", "4"), ("2.6", "3"),
    ("2.505", "2"),  # first to 2 decimals (2.50, half to even), then to whole: 2 (not 3)
    ("0.6", "1"),
])
def test_quantity_rounded_to_a_whole_number(quantity: str, expected: str) -> None:
    assert lines(f.order(lines=[f.line(0, quantity=quantity)]), "Quantity") == [expected]


@pytest.mark.parametrize("quantity", ["0.4", "0.5", "0", "-1"])
def test_quantity_that_rounds_below_1_fails_naming_the_field(quantity: str) -> None:
    with pytest.raises(OrderDataError) as caught:
        default_xml.build_order(f.order(lines=[f.line(0), f.line(1, quantity=quantity)]), NUMBERS)
    assert caught.value.field == "OrderLine.Quantity"
    assert "line 2" in caught.value.message


def test_item_description_maps_directly() -> None:
    order = f.order(lines=[f.line(0, item_=f.item("A", description="T-shirt rood M"), description="other")])
    assert lines(order, "ItemDescription") == ["T-shirt rood M"]


def test_discount_percentage_maps_directly() -> None:
    order = f.order(lines=[f.line(0, discount_percentage=Decimal("12.50")), f.line(1)])
    assert lines(order, "DiscountPercentage") == ["12.5", ""]


@pytest.mark.parametrize(("line", "prices_include_vat", "expected"), [
    ({"price": "121.00", "price_excl_vat": Decimal("99.99")}, True, "99.99"),   # given excl. VAT wins
    ({"price": "121.00"}, True, "100.00"),                                    # recomputed: 121 / 1.21
    ({"price": "19.95"}, True, "16.49"),                                      # 16.4876... -> 16.49
    ({"price": "19.95", "vat_percentage": Decimal(9)}, True, "18.30"),         # the line's own rate
    ({"price": "19.95"}, False, "19.95"),                                     # already excl. VAT
    ({"price": "10.125"}, False, "10.12"),                                    # half to even
    ({"price": "10.135"}, False, "10.14"),
])
def test_price_always_excluding_vat_rounded_to_2_decimals(line: dict[str, object], prices_include_vat: bool,
                                                         expected: str) -> None:
    order = f.order(prices_include_vat=prices_include_vat, lines=[f.line(0, **line)])
    assert lines(order, "Price") == [expected]


@pytest.mark.parametrize("tag", ["UnitPrice", "ListPrice", "SalesPrice"])
def test_unit_list_and_sales_price_are_the_calculated_price(tag: str) -> None:
    order = f.order(prices_include_vat=True, lines=[f.line(0, price="19.95", original_price=Decimal("25.00")),
                                                    f.line(1, price="121.00")])
    assert lines(order, tag) == lines(order, "Price") == ["16.49", "100.00"]


def test_line_amount_is_price_times_quantity_invariant_culture() -> None:
    order = f.order(prices_include_vat=True, lines=[f.line(0, quantity="3", price="19.95"),
                                                    f.line(1, quantity="2.6", price="10")])
    # 16.49 x 3 and 8.26 x 3 (quantity 2.6 sent as 3): the quantities and prices as sent, with a point
    assert lines(order, "LineAmount") == ["49.47", "24.78"]


def test_ean_of_the_item() -> None:
    order = f.order(lines=[f.line(0, item_=f.item("A", ean="8712345678906")), f.line(1)])
    assert lines(order, "EAN") == ["8712345678906", ""]


@pytest.mark.parametrize(("line_rate", "item_rate", "expected"), [
    (Decimal("21"), Decimal("9"), "21.00"), (None, Decimal("9"), "9.00"), (Decimal("5.125"), None, "5.12"),
    (None, None, ""),
])
def test_vat_percentage_rounded_to_2_decimals(line_rate: Decimal | None, item_rate: Decimal | None,
                                              expected: str) -> None:
    order = f.order(lines=[f.line(0, item_=f.item("A", vat_percentage=item_rate), vat_percentage=line_rate)])
    assert lines(order, "VatPercentage") == [expected]


def test_instruction_maps_directly() -> None:
    assert lines(f.order(lines=[f.line(0, instruction="Apart verpakken")]), "Instruction") == ["Apart verpakken"]


def test_item_code_of_the_variant() -> None:
    order = f.order(lines=[f.line(0, item_=matrix_item("TS-RED-M")), f.line(1, item_=f.item("CAP-01"))])
    assert lines(order, "ItemCode") == ["TS-RED-M", "CAP-01"]


def test_model_description_of_the_item() -> None:
    order = f.order(lines=[f.line(0, item_=f.item("A", model_description="Basic T-shirt"))])
    assert lines(order, "ModelDescription") == ["Basic T-shirt"]


@pytest.mark.parametrize(("stock", "expected"), [
    (Decimal("12.345"), "12.34"), (Decimal("12.355"), "12.36"), (Decimal(7), "7.00"), (None, "")])
def test_stock_rounded_to_2_decimals(stock: Decimal | None, expected: str) -> None:
    assert lines(f.order(lines=[f.line(0, item_=f.item("A", stock=stock))]), "Stock") == [expected]


def test_given_discount_amount_is_hardcoded_0() -> None:
    order = f.order(lines=[f.line(0, discount_percentage=Decimal(10), original_price=Decimal("20"))])
    assert lines(order, "GivenDiscountAmount") == ["0"]


def test_color_of_a_matrix_child() -> None:
    assert lines(f.order(lines=[f.line(0, item_=matrix_item()), f.line(1)]), "Color") == ["Rood", ""]


def test_style_number_of_a_matrix_child() -> None:
    assert lines(f.order(lines=[f.line(0, item_=matrix_item()), f.line(1)]), "StyleNumber") == ["TS100", ""]


def test_color_sorting_of_a_matrix_child() -> None:
    assert lines(f.order(lines=[f.line(0, item_=matrix_item()), f.line(1)]), "ColorSorting") == ["3", ""]


def test_matrix_values_of_an_item_that_is_not_a_matrix_child_are_not_sent() -> None:
    plain = f.item("A", is_matrix_child=False, matrix_color_description="Rood", matrix_style_number="S")
    order = f.order(lines=[f.line(0, item_=plain)])
    assert [lines(order, t) for t in ("Color", "StyleNumber", "ColorSorting")] == [[""], [""], [""]]


def test_line_element_order() -> None:
    for node in build(f.order(lines=[f.line(0, item_=matrix_item()), f.line(1)])).findall(LINE):
        assert [child.tag for child in node] == LINE_ELEMENTS


# ===== Bad input =================================================================================================

@pytest.mark.parametrize(("order", "field"), [
    (f.order(customer_=None), "Order.Customer"),
    (f.order(lines=[]), "Order.OrderLines"),
    (f.order(lines=[f.line(0, item_=None)]), "OrderLine.Item"),
    (f.order(lines=[f.line(0, price=None)]), "OrderLine.Price"),
    (f.order(customer_=f.customer(name="Jansen\x0b Mode")), "Customer.Name"),
    (f.order(lines=[f.line(0, instruction="bel \x00 aan")]), "OrderLine.Instruction"),
])
def test_bad_input_fails_naming_the_field(order: Order, field: str) -> None:
    with pytest.raises(OrderDataError) as caught:
        default_xml.render(order, NUMBERS)
    assert caught.value.field == field


def test_text_beyond_latin1_and_markup_is_kept_exactly() -> None:
    order = f.order(customer_=f.customer(name="Café <Zoë> & Søn €"), notes="a]]>b")
    root = build(order)
    assert root.findtext(f"{HEADER}/CustomerName") == "Café <Zoë> & Søn €"
    assert root.findtext(f"{HEADER}/Notes") == "a]]>b"


def test_the_xsd_refuses_a_document_that_breaks_the_contract() -> None:
    root = default_xml.build_order(f.order(), NUMBERS)
    node = root.find(f"{LINE}/Quantity")
    assert node is not None
    node.text = "1.5"
    with pytest.raises(OrderDataError):
        validate(root, default_xml.XSD)
