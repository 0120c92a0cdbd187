"""The Reflecta XML variant of EzXml, one test per row of the seed's two Reflecta tables and its settings."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from backoffice_export.connectors.ezxml import reflecta_xml
from backoffice_export.connectors.ezxml import settings as ezxml_settings
from backoffice_export.connectors.ezxml.common import OrderNumbers
from backoffice_export.errors import OrderDataError
from backoffice_export.mapping.xml import parse_reply, validate
from backoffice_export.model import Order
from tests.unit import factories as f

NUMBERS = OrderNumbers(order_nr="Default17", generated="Default17")
BASE = {"OrderFormat": "Reflecta", "ReflectaProviderCode": "APP4SALES", "ReflectaCompanyCode": "01"}
HEADER = "OrderHeader"
ADDRESS = "OrderHeader/DeliveryAddresses/DeliveryAddress"
LINE = "OrderHeader/OrderLines/OrderLine"


def build(order: Order, numbers: OrderNumbers = NUMBERS, **settings: Any) -> etree._Element:
    root = parse_reply(reflecta_xml.render(order, ezxml_settings.parse({**BASE, **settings}), numbers))
    validate(root, reflecta_xml.XSD)
    return root


def found(root: etree._Element, path: str) -> list[str]:
    return [node.text or "" for node in root.findall(path)]


# ===== Order Header (Reflecta XML Format) ========================================================================

@pytest.mark.parametrize(("numbers", "expected"), [
    (OrderNumbers(order_nr="5001"), "5001"), (NUMBERS, "Default17")],
    ids=["UseInternalOrdersAsWebOrderNr", "generated"])
def test_web_order_nr_internal_if_UseInternalOrdersAsWebOrderNr_else_generated(numbers: OrderNumbers,
                                                                               expected: str) -> None:
    assert found(build(f.order(), numbers), f"{HEADER}/WebOrderNr") == [expected]


@pytest.mark.parametrize(("setting", "tag"), [
    ("ReflectaProviderCode", "ProviderCode"),
    ("ReflectaContextCode", "ContextCode"),
    ("ReflectaCompanyCode", "CompanyCode"),
    ("ReflectaWarehouseGroupCode", "WarehouseGroupCode"),
    ("ReflectaOrderOriginCode", "OrderOriginCode"),
    ("ReflectaSeasonCode", "SeasonCode"),
    ("ReflectaSalesDepartmentCode", "SalesDepartmentCode"),
])
def test_codes_mapped_from_connector_settings(setting: str, tag: str) -> None:
    assert found(build(f.order(), **{setting: "CODE-9"}), f"{HEADER}/{tag}") == ["CODE-9"]


@pytest.mark.parametrize("tag", ["ContextCode", "WarehouseGroupCode", "OrderOriginCode", "SeasonCode",
                                 "SalesDepartmentCode", "SalDeliveryTermCode"])
def test_optional_codes_left_out_when_not_configured(tag: str) -> None:
    assert found(build(f.order()), f"{HEADER}/{tag}") == []


def test_order_date_formatted_dd_MM_yyyy() -> None:
    order = f.order(order_date=datetime(2024, 3, 5, 23, 59), created_at=datetime(2024, 3, 6, 1, 0))
    assert found(build(order), f"{HEADER}/OrderDate") == ["05-03-2024"]


def test_customer_code_maps_directly() -> None:
    assert found(build(f.order(customer_=f.customer(code="DEB-0042"))), f"{HEADER}/CustomerCode") == ["DEB-0042"]


@pytest.mark.parametrize(("price_list", "general", "expected"), [
    ("GBP", "EUR", ["GBP"]), (None, "EUR", ["EUR"]), ("", "EUR", ["EUR"]), ("USD", None, ["USD"])])
def test_currency_from_the_customers_price_list_else_the_general_currency(
        price_list: str | None, general: str | None, expected: list[str]) -> None:
    order = f.order(customer_=f.customer(price_list_currency=price_list),
                    administration_=f.administration(default_currency=general))
    assert found(build(order), f"{HEADER}/CurrencyCode") == expected


def test_customer_reference_maps_directly_from_your_reference() -> None:
    assert found(build(f.order(your_reference="PO-118")), f"{HEADER}/CustomerReference") == ["PO-118"]
    assert found(build(f.order(your_reference=None)), f"{HEADER}/CustomerReference") == []


def test_additional_information_maps_directly_from_the_notes() -> None:
    assert found(build(f.order(notes="Bel aan")), f"{HEADER}/AdditionalInformation") == ["Bel aan"]


@pytest.mark.parametrize(("shipping", "settings", "expected"), [
    ({"shipping_costs_excl_vat": Decimal("6.95")},
     {"ReflectaDeliveryTermCode": "VRACHT", "ReflectaDeliveryTermCodeWhenTheOrderHasNoShippingCosts": "FRANCO"},
     ["VRACHT"]),
    ({}, {"ReflectaDeliveryTermCode": "VRACHT", "ReflectaDeliveryTermCodeWhenTheOrderHasNoShippingCosts": "FRANCO"},
     ["FRANCO"]),
    ({"shipping_costs_excl_vat": Decimal("0")},
     {"ReflectaDeliveryTermCode": "VRACHT", "ReflectaDeliveryTermCodeWhenTheOrderHasNoShippingCosts": "FRANCO"},
     ["FRANCO"]),
    ({"shipping_costs_excl_vat": Decimal("0.004")},  # 0.00 as sent: no shipping costs
     {"ReflectaDeliveryTermCode": "VRACHT", "ReflectaDeliveryTermCodeWhenTheOrderHasNoShippingCosts": "FRANCO"},
     ["FRANCO"]),
    ({}, {"ReflectaDeliveryTermCode": "VRACHT"}, ["VRACHT"]),  # no special code configured
    ({"shipping_costs_excl_vat": Decimal("6.95")}, {"ReflectaDeliveryTermCodeWhenTheOrderHasNoShippingCosts": "F"},
     []),
])
def test_delivery_term_code_chosen_by_whether_the_order_has_shipping_costs(
        shipping: dict[str, Decimal], settings: dict[str, str], expected: list[str]) -> None:
    assert found(build(f.order(**shipping), **settings), f"{HEADER}/SalDeliveryTermCode") == expected


@pytest.mark.parametrize(("shipping", "expected"), [
    ({"shipping_costs_excl_vat": Decimal("6.95")}, "6.95"),
    ({"shipping_costs_excl_vat": Decimal("6.945")}, "6.94"),  # half to even, as every EzXml amount
    ({"shipping_costs_excl_vat": Decimal("6.9449")}, "6.94"),
    ({"shipping_costs_excl_vat": Decimal("5")}, "5.00"),
    ({"shipping_costs_incl_vat": Decimal("12.10")}, "10.00"),  # excl. VAT derived at the line's 21 %
    ({}, "0.00"),
])
def test_freight_charges_excluding_vat_rounded_to_2_decimals(shipping: dict[str, Decimal], expected: str) -> None:
    order = f.order(lines=[f.line(0, vat_percentage=Decimal(21))], **shipping)
    assert found(build(order), f"{HEADER}/FreightChargesAmt") == [expected]


def test_header_element_order() -> None:
    settings = {"ReflectaContextCode": "CTX", "ReflectaWarehouseGroupCode": "WG", "ReflectaOrderOriginCode": "WEB",
                "ReflectaSeasonCode": "W24", "ReflectaSalesDepartmentCode": "B2B", "ReflectaDeliveryTermCode": "DT"}
    order = f.order(your_reference="PO", notes="N", alternate_address=f.address())
    assert [child.tag for child in build(order, **settings).find(HEADER)] == [
        "WebOrderNr", "ProviderCode", "ContextCode", "CompanyCode", "WarehouseGroupCode", "OrderDate", "CustomerCode",
        "CurrencyCode", "CustomerReference", "AdditionalInformation", "OrderOriginCode", "SeasonCode",
        "SalesDepartmentCode", "SalDeliveryTermCode", "FreightChargesAmt", "DeliveryAddresses", "OrderLines"]


# ===== Address Fields (within Header) ============================================================================

def test_address_only_with_an_alternate_address() -> None:
    assert build(f.order(alternate_address=None)).find(f"{HEADER}/DeliveryAddresses") is None
    assert len(build(f.order(alternate_address=f.address())).findall(ADDRESS)) == 1


@pytest.mark.parametrize(("line", "parts"), [
    ("Kerkstraat 42-f3", ["Kerkstraat", "42", "f3"]),
    ("Hoofdstraat 12", ["Hoofdstraat", "12"]),
    ("1e Constantijn Huigensstraat 9b", ["1e Constantijn Huigensstraat", "9", "b"]),
    ("De Dompelaar 1 B", ["De Dompelaar", "1", "B"]),
    ("Plein '40-'45 10", ["Plein '40-'45", "10"]),
    ("Steenkade a/b Twee Gezusters", ["Steenkade a/b Twee Gezusters"]),
])
def test_street_house_number_and_addition_parsed_from_address1(line: str, parts: list[str]) -> None:
    node = build(f.order(alternate_address=f.address(line))).find(ADDRESS)
    assert node is not None
    assert [node.findtext(t) for t in ("Street", "HouseNr", "HouseNrExt") if node.find(t) is not None] == parts


@pytest.mark.parametrize(("tag", "field", "value"), [
    ("ZipCode", "postal_code", "8011 CW"), ("City", "city", "Zwolle"), ("CountryIsoCode", "country_iso2", "BE")])
def test_address_fields_populated_from_the_alternate_address(tag: str, field: str, value: str) -> None:
    customer = f.customer(postal_code="3511 AA", city="Utrecht", country_iso2="NL")
    order = f.order(customer_=customer, alternate_address=f.address(**{field: value}))
    assert found(build(order), f"{ADDRESS}/{tag}") == [value]


@pytest.mark.parametrize(("tag", "consumer_field", "customer_field"), [
    ("Name", "consumer_name", "name"), ("Phone", "consumer_phone", "phone"), ("Email", "consumer_email", "email")])
def test_consumer_values_before_customer_values(tag: str, consumer_field: str, customer_field: str) -> None:
    customer = f.customer(**{customer_field: "from-customer"})
    with_consumer = f.order(customer_=customer, alternate_address=f.address(), **{consumer_field: "from-consumer"})
    without = f.order(customer_=customer, alternate_address=f.address(), **{consumer_field: None})
    assert found(build(with_consumer), f"{ADDRESS}/{tag}") == ["from-consumer"]
    assert found(build(without), f"{ADDRESS}/{tag}") == ["from-customer"]


def test_address_element_order() -> None:
    order = f.order(customer_=f.customer(phone="1", email="e@x.example"), alternate_address=f.address())
    node = build(order).find(ADDRESS)
    assert node is not None
    assert [child.tag for child in node] == ["Name", "Street", "HouseNr", "HouseNrExt", "ZipCode", "City",
                                            "CountryIsoCode", "Phone", "Email"]


def test_alternate_address_without_address_line_fails_naming_the_field() -> None:
    with pytest.raises(OrderDataError) as caught:
        reflecta_xml.render(f.order(alternate_address=f.address(None)), ezxml_settings.parse(BASE), NUMBERS)
    assert caught.value.field == "AlternateAddress.Address1"


# ===== Order Lines (Reflecta XML Format) =========================================================================

def test_line_sequence_starts_at_1() -> None:
    assert found(build(f.order(lines=[f.line(4), f.line(2), f.line(0)])), f"{LINE}/WebOrderLineSeq") == ["1", "2", "3"]


def test_item_code_maps_directly() -> None:
    order = f.order(lines=[f.line(0, item_=f.item("TS-RED-M", {"BackofficeItemCode": "OTHER"}))])
    assert found(build(order), f"{LINE}/ItemCode") == ["TS-RED-M"]


@pytest.mark.parametrize(("quantity", "expected"), [("2", "2"), ("2.5", "2"), ("3.5", "4"), ("1.2", "1"),
                                                    ("2.505", "2")])
def test_ordered_quantity_rounded_to_a_whole_number(quantity: str, expected: str) -> None:
    assert found(build(f.order(lines=[f.line(0, quantity=quantity)])), f"{LINE}/OrderedQty") == [expected]


@pytest.mark.parametrize(("line", "prices_include_vat", "expected"), [
    ({"price": "121.00"}, True, "100.00"),
    ({"price": "19.95"}, True, "16.49"),
    ({"price": "121.00", "price_excl_vat": Decimal("99.99")}, True, "99.99"),
    ({"price": "12.345"}, False, "12.34"),
    ({"price": "12"}, False, "12.00"),
])
def test_sales_price_rounded_to_2_decimals_and_without_vat(line: dict[str, Any], prices_include_vat: bool,
                                                           expected: str) -> None:
    order = f.order(prices_include_vat=prices_include_vat, lines=[f.line(0, vat_percentage=Decimal(21), **line)])
    assert found(build(order), f"{LINE}/SalesPriceAmt") == [expected]


def test_lines_carry_only_the_four_reflecta_elements() -> None:
    order = f.order(lines=[f.line(0, discount_percentage=Decimal(10), vat_percentage=Decimal(21),
                                  instruction="x", description="y")])
    for node in build(order).findall(LINE):
        assert [child.tag for child in node] == ["WebOrderLineSeq", "ItemCode", "OrderedQty", "SalesPriceAmt"]


# ===== Bad input =================================================================================================

@pytest.mark.parametrize(("order", "field"), [
    (f.order(customer_=None), "Order.Customer"),
    (f.order(lines=[f.line(0, item_=None)]), "OrderLine.Item"),
    (f.order(lines=[f.line(0, price=None)]), "OrderLine.Price"),
    (f.order(lines=[f.line(0, quantity="0.1")]), "OrderLine.Quantity"),
])
def test_bad_input_fails_naming_the_field(order: Order, field: str) -> None:
    with pytest.raises(OrderDataError) as caught:
        reflecta_xml.render(order, ezxml_settings.parse(BASE), NUMBERS)
    assert caught.value.field == field


def test_lowercase_currency_is_refused_by_the_xsd() -> None:
    with pytest.raises(OrderDataError):
        build(f.order(customer_=f.customer(price_list_currency="gbp")))
