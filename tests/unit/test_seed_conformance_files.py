"""Issue 23, Reflecta and EzXml: rows that disagreed with their seed or with each other."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from backoffice_export.connectors.ezxml import csv_format, default_xml, reflecta_xml
from backoffice_export.connectors.ezxml import settings as ezxml_settings
from backoffice_export.connectors.ezxml.common import OrderNumbers
from backoffice_export.connectors.reflecta import mapping as reflecta_mapping
from backoffice_export.connectors.reflecta import settings as reflecta_settings
from backoffice_export.errors import OrderDataError
from backoffice_export.mapping.dutch_address import parse_address
from backoffice_export.mapping.text import safe_path_part
from backoffice_export.mapping.xml import parse_reply
from backoffice_export.model import Order
from tests.unit import factories as f

NUMBERS = OrderNumbers(order_nr="Default17", generated="Default17")
EZ_REFLECTA = ezxml_settings.parse({"OrderFormat": "Reflecta", "ReflectaProviderCode": "APP4SALES",
                                    "ReflectaCompanyCode": "01"})
REFLECTA = reflecta_settings.parse({"CompanyCode": "RFL01"})


def default_header(order: Order, tag: str) -> str:
    return parse_reply(default_xml.render(order, NUMBERS)).findtext(f"OrderHeader/{tag}") or ""


def ez_reflecta(order: Order) -> etree._Element:
    return parse_reply(reflecta_xml.render(order, EZ_REFLECTA, NUMBERS))


def reflecta(order: Order) -> etree._Element:
    return reflecta_mapping.build_order(order, REFLECTA, "WEB1")


def csv_rows(order: Order) -> list[dict[str, Any]]:
    from datetime import datetime
    return csv_format.build_rows(order, OrderNumbers(order_nr="Inv17", generated="Inv17"), datetime(2024, 3, 18))


def test_computed_totals_take_the_line_discount_off() -> None:
    order = f.order(lines=[f.line(0, price="100.00", discount_percentage=Decimal(10))])
    assert default_header(order, "TotalExclVat") == "90.00"
    assert default_header(order, "TotalVat") == "18.90"
    assert default_header(order, "TotalInclVat") == "108.90"
    assert csv_rows(order)[0]["TotalExclVat"] == "90.00"


def test_totals_are_the_sum_of_the_rounded_lines() -> None:
    # 0.675 is sent as 0.68 per unit: three units are 2.04 on the lines, so 2.04 in the header.
    order = f.order(lines=[f.line(0, price="0.675", quantity=3)])
    root = parse_reply(default_xml.render(order, NUMBERS))
    line_amounts = [Decimal(t) for t in root.xpath("OrderLines/OrderLine/LineAmount/text()")]
    assert sum(line_amounts) == Decimal(root.findtext("OrderHeader/TotalExclVat")) == Decimal("2.04")
    row = csv_rows(order)[0]
    assert row["TotalExclVat"] == row["LineAmount"] == "2.04"


def test_stored_totals_that_disagree_with_the_lines_do_not_go_out() -> None:
    order = f.order(lines=[f.line(0, price="10.00", quantity="2.4")], total_excl_vat=Decimal("24.00"),
                    total_vat=Decimal("5.04"), total_incl_vat=Decimal("29.04"))
    assert default_header(order, "TotalExclVat") == "20.00"  # 2.4 goes out as 2 whole units


def test_one_rounding_rule_for_freight_in_every_format() -> None:
    no_vat = f.customer()
    order = f.order(customer_=no_vat, lines=[f.line(0, vat_percentage=Decimal(0), item_=f.item(vat_percentage=None))],
                    shipping_costs_excl_vat=Decimal("0.125"), shipping_costs_incl_vat=Decimal("0.125"))
    default = default_header(order, "Freight_costs")
    reflecta_format = ez_reflecta(order).findtext("OrderHeader/FreightChargesAmt")
    assert default == reflecta_format == "0.12"  # half to even, like every EzXml amount


def test_house_number_addition_loses_the_spaces_around_its_separator() -> None:
    assert parse_address("Nieuwe gracht 22zw /2") == ("Nieuwe gracht", "22", "zw/2")
    assert parse_address("De Dompelaar 1 B") == ("De Dompelaar", "1", "B")
    assert parse_address("Kerkstraat 42 - f3") == ("Kerkstraat", "42", "f3")


def test_reflecta_without_any_currency_is_a_clear_error() -> None:
    order = f.order(administration_=f.administration(default_currency=None))
    with pytest.raises(OrderDataError) as caught:
        reflecta(order)
    assert caught.value.field == "Customer.PriceList.CurrencyIso"


def test_ezxml_reflecta_without_any_currency_is_a_clear_error() -> None:
    order = f.order(administration_=f.administration(default_currency=None))
    with pytest.raises(OrderDataError) as caught:
        ez_reflecta(order)
    assert caught.value.field == "Customer.PriceList.CurrencyIso"


def test_reflecta_refuses_an_alternate_address_without_an_address_line_like_ezxml() -> None:
    order = f.order(alternate_address=f.address(None))
    with pytest.raises(OrderDataError) as caught:
        reflecta(order)
    assert caught.value.field == "AlternateAddress.Address1"
    with pytest.raises(OrderDataError) as caught:
        ez_reflecta(order)
    assert caught.value.field == "AlternateAddress.Address1"


def test_a_lower_case_country_code_goes_out_upper_case() -> None:
    order = f.order(alternate_address=f.address(country_iso2="nl"))
    assert reflecta(order).findtext("OrderHeader/DeliveryAddresses/DeliveryAddress/CountryIsoCode") == "NL"
    assert ez_reflecta(order).findtext("OrderHeader/DeliveryAddresses/DeliveryAddress/CountryIsoCode") == "NL"


@pytest.mark.parametrize("name", ["Rv Space", "Mode & Co (NL)", "shop+1"])
def test_an_application_name_a_file_name_allows_is_accepted(name: str) -> None:
    assert safe_path_part(name, "Administration.ApplicationName") == name


@pytest.mark.parametrize("name", ["../x", "a/b", "a\\b", "C:x", "CON", "nul.txt", " lead", "trail ", "dot.", "a\tb"])
def test_an_unsafe_file_name_is_still_refused(name: str) -> None:
    with pytest.raises(OrderDataError):
        safe_path_part(name, "Administration.ApplicationName")
