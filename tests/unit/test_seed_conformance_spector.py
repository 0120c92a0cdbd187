"""Issue 23, Spector: rows that disagreed with the seed (shared/seeds/002_01dd28680e055152.txt)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from backoffice_export.connectors.spector import mapping, validation
from backoffice_export.connectors.spector import settings as spector_settings
from backoffice_export.errors import OrderDataError
from backoffice_export.mapping.money import net_round
from backoffice_export.model import Item, Order
from tests.unit import factories as f

TODAY = date(2024, 6, 1)
DEFAULT = spector_settings.parse({})
DISCOUNT_ONLY = spector_settings.parse({"OnlySendDiscount": True})


def item(**overrides: Any) -> Item:
    values: dict[str, Any] = {"description": "Shirt", "vat_percentage": Decimal(21), "sales_price": Decimal("20.00")}
    values.update(overrides)
    return f.item("SHIRT", None, **values)


def order(*lines: Any, **overrides: Any) -> Order:
    overrides.setdefault("administration_", f.administration(connector="spector", settings={}))
    return f.order(lines=list(lines) or [f.line(0, item_=item())], **overrides)


def build(order_: Order, settings: spector_settings.SpectorSettings = DEFAULT) -> dict[str, Any]:
    payload = mapping.build_order(order_, settings, TODAY)
    validation.validate(payload)
    return payload


def test_only_send_discount_takes_the_vat_off_the_fallback_original_price() -> None:
    line = f.line(0, item_=item(sales_price=None), price="108.90", original_price=Decimal("121.00"),
                  discount_percentage=Decimal(10))
    sent = build(order(line, prices_include_vat=True), DISCOUNT_ONLY)["lines"][0]
    assert sent["priceExclVAT"] == Decimal("100.00")
    assert sent["discount"] == Decimal(10)


def test_the_price_is_converted_with_the_vat_rate_that_is_sent() -> None:
    line = f.line(0, item_=item(vat_percentage=Decimal(21)), price="121.00", vat_percentage=Decimal(9))
    sent = build(order(line, prices_include_vat=True))["lines"][0]
    assert sent["vatPercentage"] == Decimal(21)  # the seed: the item's VAT percentage
    assert net_round(sent["priceExclVAT"]) == Decimal("100.00")  # 121.00 at that same 21 %


def test_length_limits_count_utf16_units_as_dotnet_does() -> None:
    fits = order(your_reference="Y" * 68 + "😀")  # 70 UTF-16 units
    assert build(fits)["customerReference"] == "Y" * 68 + "😀"
    with pytest.raises(OrderDataError) as caught:
        build(order(your_reference="Y" * 69 + "😀"))  # 69 characters, 71 UTF-16 units
    assert caught.value.field == "Order.YourReference"
    assert "71" in caught.value.message


def test_every_problem_of_the_order_is_reported_at_once() -> None:
    long_name = item(description="N" * 131)
    bad = order(f.line(0, item_=long_name), f.line(1, item_=item(), instruction="I" * 201),
                your_reference="R" * 71, reference="O" * 51)
    with pytest.raises(OrderDataError) as caught:
        build(bad)
    text = str(caught.value)
    for field in ("Order.YourReference", "Order.Reference", "Item.Description", "OrderLine.Instruction"):
        assert field in text
    assert "line 1" in text and "line 2" in text


def test_an_order_without_any_currency_is_a_clear_error_not_a_silent_omission() -> None:
    with pytest.raises(OrderDataError) as caught:
        build(order(administration_=f.administration(connector="spector", settings={}, default_currency=None)))
    assert caught.value.field == "Customer.PriceList.CurrencyIso"
