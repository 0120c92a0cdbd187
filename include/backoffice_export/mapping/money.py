"""Money, VAT and quantities as the original .NET connectors computed them.

Every computed amount is rounded with ``net_round``: .NET ``Math.Round(x, n)`` on a ``decimal``,
half to even, as the .NET connectors and ERPs compute. (A .NET format string such as
``ToString("0.00")`` would round half away from zero; no connector uses one, so one amount never
comes out two ways.) Everything is ``Decimal``; a float never touches an amount.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from backoffice_export.errors import OrderDataError
from backoffice_export.model import Order, OrderLine

HUNDRED = Decimal(100)


def _step(places: int) -> Decimal:
    return Decimal(1).scaleb(-places)


def net_round(value: Decimal, places: int = 2) -> Decimal:
    """``Math.Round(value, places)``: half to even, like .NET's default for ``decimal``."""
    return value.quantize(_step(places), rounding=ROUND_HALF_EVEN)


def invariant(value: Decimal) -> str:
    """A decimal as invariant-culture text, without exponent or needless trailing zeros."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in {"-0", ""} else text


def whole_quantity(value: Decimal) -> int:
    """Quantities for ERPs without fractional quantities: ``Math.Round(q, 0)``, half to even."""
    return int(net_round(value, 0))


def vat_rate(line: OrderLine) -> Decimal:
    return line.effective_vat_percentage or Decimal(0)


def unit_price_excl_vat(line: OrderLine, order: Order, *, field: str, rate: Decimal | None = None) -> Decimal:
    """The line's unit price without VAT: given, else recomputed when App4Sales' price includes VAT.

    ``rate`` is the VAT rate to take off (default: the line's, else the item's), so a connector
    that sends one rate removes that same rate.
    """
    if line.price_excl_vat is not None:
        return line.price_excl_vat
    if line.price is None:
        raise OrderDataError(field, f"line {line.line_index + 1} has no price")
    if order.prices_include_vat:
        return without_vat(line.price, vat_rate(line) if rate is None else rate)
    return line.price


def without_vat(amount: Decimal, rate: Decimal) -> Decimal:
    """An amount that includes ``rate`` % VAT, without it (unrounded)."""
    return amount * HUNDRED / (HUNDRED + rate)


def shipping_costs(order: Order) -> tuple[Decimal, Decimal]:
    """(excl. VAT, incl. VAT) shipping costs; a missing side is derived at the highest line VAT rate."""
    excl, incl = order.shipping_costs_excl_vat, order.shipping_costs_incl_vat
    if excl is None and incl is None:
        return Decimal(0), Decimal(0)
    rate = max((vat_rate(line) for line in order.lines), default=Decimal(0))
    if excl is None:
        excl = incl * HUNDRED / (HUNDRED + rate)  # type: ignore[operator]
    if incl is None:
        incl = excl * (HUNDRED + rate) / HUNDRED
    return excl, incl


def line_amount(price: Decimal, quantity: Decimal | int, discount_percentage: Decimal | None) -> Decimal:
    """Price x quantity less the line's discount, ``net_round``-ed: the amount a line adds to the totals."""
    amount = price * quantity
    if discount_percentage:
        amount = amount * (HUNDRED - discount_percentage) / HUNDRED
    return net_round(amount)


def order_currency(order: Order) -> str:
    """The customer's price list currency, else the administration's (its general price list currency).

    An order with neither fails naming the field: the ERP would otherwise book it in whatever
    currency it assumes.
    """
    customer = order.customer
    currency = (customer.price_list_currency if customer is not None else None) or order.administration.default_currency
    if not currency or not currency.strip():
        raise OrderDataError("Customer.PriceList.CurrencyIso",
                             "neither the customer's price list nor the administration names a currency")
    return currency.strip()
