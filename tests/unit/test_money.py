"""Money helpers: the two .NET roundings, invariant text, and VAT/totals in Decimal only."""

from __future__ import annotations

from decimal import Decimal

import pytest

from backoffice_export.errors import OrderDataError
from backoffice_export.mapping.money import (
    invariant,
    net_round,
    shipping_costs,
    unit_price_excl_vat,
    whole_quantity,
)
from tests.unit import factories as f

D = Decimal


# --- net_round: Math.Round(decimal, n) is half to even -------------------------------------------------------

@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2.345", "2.34"),
        ("2.355", "2.36"),
        ("0.125", "0.12"),
        ("-2.345", "-2.34"),
        ("2.3451", "2.35"),  # above the midpoint: up, whatever the parity
        ("2.3449", "2.34"),
        ("1.005", "1.00"),  # exact in Decimal, unlike the float 1.005
    ],
)
def test_net_round_is_half_to_even(value: str, expected: str) -> None:
    result = net_round(D(value))
    assert isinstance(result, Decimal)
    assert str(result) == expected


def test_net_round_to_other_places() -> None:
    assert str(net_round(D("2.5"), 0)) == "2"
    assert str(net_round(D("3.5"), 0)) == "4"
    assert str(net_round(D("1.2345"), 3)) == "1.234"


# --- invariant ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2.000", "2"),
        ("12.50", "12.5"),
        ("-0.0", "0"),
        ("-0", "0"),
        ("0", "0"),
        ("0.00", "0"),
        ("1E+2", "100"),
        ("1.5E+3", "1500"),
        ("1E-7", "0.0000001"),
        ("-3.1400", "-3.14"),
        ("100", "100"),  # trailing zeros before the point stay
    ],
)
def test_invariant(value: str, expected: str) -> None:
    text = invariant(D(value))
    assert text == expected
    assert "E" not in text and "e" not in text


# --- whole_quantity ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [("2.5", 2), ("3.5", 4), ("2.4", 2), ("2.6", 3), ("7", 7)])
def test_whole_quantity_is_math_round_half_to_even(value: str, expected: int) -> None:
    result = whole_quantity(D(value))
    assert result == expected
    assert type(result) is int


# --- unit_price_excl_vat -------------------------------------------------------------------------------------------

def test_unit_price_excl_vat_explicit_price_excl_vat_wins() -> None:
    line = f.line(price="121.00", price_excl_vat=D("99.99"), vat_percentage=D(21))
    order = f.order(lines=[line], prices_include_vat=True)
    assert unit_price_excl_vat(line, order, field="Price") == D("99.99")


def test_unit_price_excl_vat_recomputes_price_incl_vat() -> None:
    line = f.line(price="121", vat_percentage=D(21))
    order = f.order(lines=[line], prices_include_vat=True)
    result = unit_price_excl_vat(line, order, field="Price")
    assert isinstance(result, Decimal)
    assert result == D(100)  # exactly, no float residue


def test_unit_price_excl_vat_uses_item_vat_when_line_has_none() -> None:
    line = f.line(price="109", item_=f.item("A", vat_percentage=D(9)))
    order = f.order(lines=[line], prices_include_vat=True)
    assert unit_price_excl_vat(line, order, field="Price") == D(100)


def test_unit_price_excl_vat_price_excl_vat_already() -> None:
    line = f.line(price="121", vat_percentage=D(21))
    order = f.order(lines=[line], prices_include_vat=False)
    assert unit_price_excl_vat(line, order, field="Price") == D(121)


def test_unit_price_excl_vat_without_price_names_the_field() -> None:
    line = f.line(2, price=None)
    order = f.order(lines=[line])
    with pytest.raises(OrderDataError) as caught:
        unit_price_excl_vat(line, order, field="OrderLine.Price")
    assert caught.value.field == "OrderLine.Price"
    assert "line 3" in str(caught.value)


# --- shipping_costs ---------------------------------------------------------------------------------------------------

def _assert_decimals(values: tuple[object, ...]) -> None:
    for value in values:
        assert type(value) is Decimal, f"{value!r} is {type(value).__name__}, not Decimal"


def test_shipping_costs_none() -> None:
    costs = shipping_costs(f.order())
    _assert_decimals(costs)
    assert costs == (D(0), D(0))


def test_shipping_costs_incl_vat_derived_at_highest_line_rate() -> None:
    order = f.order(lines=[f.line(0, vat_percentage=D(9)), f.line(1, vat_percentage=D(21))],
                    shipping_costs_incl_vat=D("12.10"))
    costs = shipping_costs(order)
    _assert_decimals(costs)
    assert costs == (D("10"), D("12.10"))


def test_shipping_costs_excl_vat_derived() -> None:
    order = f.order(lines=[f.line(0, vat_percentage=D(21))], shipping_costs_excl_vat=D("10"))
    costs = shipping_costs(order)
    _assert_decimals(costs)
    assert costs == (D("10"), D("12.1"))


def test_shipping_costs_both_given_are_kept() -> None:
    order = f.order(shipping_costs_excl_vat=D("4.13"), shipping_costs_incl_vat=D("5.00"))
    costs = shipping_costs(order)
    _assert_decimals(costs)
    assert costs == (D("4.13"), D("5.00"))


def test_shipping_costs_without_lines_use_rate_zero() -> None:
    order = f.order(lines=[], shipping_costs_incl_vat=D("7.50"))
    costs = shipping_costs(order)
    _assert_decimals(costs)
    assert costs == (D("7.50"), D("7.50"))
