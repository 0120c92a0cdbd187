"""What the three EzXml formats compute alike: numbers, line prices and quantities, totals.

The seed applies the same normalisation to every format, so it is written once here and each
format module only decides where a value lands.

Rounding (``mapping/money.py``):

- Amounts the seed says are "rounded to 2 decimal places" (totals, VAT, freight including VAT,
  line prices, VAT percentage, stock) use ``net_round``: .NET ``Math.Round`` on a decimal, half
  to even, as the original connector computed them.
- Quantities: the seed first normalises every line quantity to 2 decimals and then "further"
  rounds it to a whole number, because EzXml has no fractional quantities. Both steps are
  ``Math.Round`` (half to even), so ``2.505`` becomes ``2.50`` and then ``2``; ``2.5`` becomes ``2``
  and ``3.5`` becomes ``4``. A line that rounds to zero or less is refused: EzXml would book an
  empty line and the customer's quantity would be lost without anyone noticing.
- Unit prices are always sent excluding VAT: ``OrderLine.PriceExclVat`` when App4Sales has it,
  else ``OrderLine.Price``, with the VAT removed when the order's prices include VAT
  (``unit_price_excl_vat``). VAT is removed from the unrounded price and the result is rounded
  once, so the recomputed price is as exact as two decimals allow.
- A line's amount is its sent price x its whole quantity less its DiscountPercentage, rounded
  to 2 decimals (``money.line_amount``): what the ERP books for the line.
- Totals are the sum of the sent lines, never the order's stored totals: excl. VAT is the sum of
  the line amounts plus the freight excl. VAT (each rounded); VAT is the sum of each line's VAT
  (amount x rate, rounded) plus the freight's VAT; incl. VAT is the two added. So the header
  always adds up to the lines the ERP reads, whatever App4Sales stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from backoffice_export.errors import OrderDataError
from backoffice_export.mapping.money import (
    HUNDRED,
    invariant,
    line_amount,
    net_round,
    shipping_costs,
    unit_price_excl_vat,
    vat_rate,
    whole_quantity,
)
from backoffice_export.model import Customer, Item, Order, OrderLine

ERROR_UNHANDLED = "ERROR_Unhandled"


class UnhandledOrderError(OrderDataError):
    """An order EzXml cannot take, stored under the seed's code with the real reason.

    The seed answers App4Sales ``ERROR_Unhandled`` for every failure and only logs the cause;
    the code is kept (App4Sales and its users know it) and the field and reason follow it, so
    the stored error says what to fix: ``ERROR_Unhandled: OrderLine.Price: line 2 has no price``.
    """

    def __str__(self) -> str:
        return f"{ERROR_UNHANDLED}: {self.field}: {self.message}"


@dataclass(frozen=True)
class OrderNumbers:
    """The numbers one export of an order carries.

    ``order_nr`` is what the ERP knows the order by: the file name, the number written back to
    App4Sales. It is the App4Sales internal number when ``UseInternalOrdersAsWebOrderNr`` is on,
    else ``generated``. ``generated`` is the order type plus the next number of the
    administration's sequence (``Default17``, ``Inv17``); ``None`` when the format does not need it.
    """

    order_nr: str
    generated: str | None = None


@dataclass(frozen=True)
class PreparedLine:
    """One order line as every format sends it: checked, VAT removed, rounded."""

    position: int  # 0, 1, 2 ... in the order's line order
    line: OrderLine
    item: Item
    quantity: int
    price: Decimal  # unit price excluding VAT, two decimals

    @property
    def amount(self) -> Decimal:
        """Price times quantity as sent, less the line's discount, rounded to two decimals."""
        return line_amount(self.price, self.quantity, self.line.discount_percentage)

    @property
    def vat(self) -> Decimal:
        return net_round(self.amount * vat_rate(self.line) / HUNDRED)


def require_customer(order: Order) -> Customer:
    if order.customer is None:
        raise OrderDataError("Order.Customer", "the order has no customer (unknown customer code?)")
    return order.customer


def whole_line_quantity(line: OrderLine, where: str) -> int:
    quantity = whole_quantity(net_round(line.quantity, 2))
    if quantity < 1:
        raise OrderDataError(
            "OrderLine.Quantity",
            f"{where} has quantity {invariant(line.quantity)}, which rounds to {quantity}; "
            "EzXml takes whole quantities of at least 1",
        )
    return quantity


def prepared_lines(order: Order) -> list[PreparedLine]:
    if not order.lines:
        raise OrderDataError("Order.OrderLines", "the order has no lines")
    prepared = []
    for position, line in enumerate(order.lines):
        where = f"line {position + 1}"
        if line.item is None:
            raise OrderDataError("OrderLine.Item", f"{where} has no item (unknown item code?)")
        if line.price is None and line.price_excl_vat is None:
            raise OrderDataError("OrderLine.Price", f"{where} (item {line.item.code}) has no price")
        price = net_round(unit_price_excl_vat(line, order, field="OrderLine.Price"), 2)
        prepared.append(PreparedLine(position, line, line.item, whole_line_quantity(line, where), price))
    return prepared


def rounded_totals(order: Order, lines: list[PreparedLine]) -> tuple[Decimal, Decimal, Decimal]:
    """(excl. VAT, VAT, incl. VAT): the sums of the sent lines and the rounded freight."""
    freight_excl, freight_incl = (net_round(amount) for amount in shipping_costs(order))
    excl = sum((p.amount for p in lines), Decimal(0)) + freight_excl
    vat = sum((p.vat for p in lines), Decimal(0)) + freight_incl - freight_excl
    return excl, vat, excl + vat


def money(value: Decimal) -> str:
    """An amount already rounded to two decimals, as invariant text (``12.50``, never ``-0.00``)."""
    text = format(net_round(value, 2), "f")
    return "0.00" if text == "-0.00" else text


def optional_amount(value: Decimal | None) -> str | None:
    return None if value is None else money(value)


def consumer_first(consumer_value: str | None, customer_value: str | None) -> str | None:
    """The consumer's value when App4Sales has one, else the customer's (seed: consumer before customer)."""
    return consumer_value if consumer_value and consumer_value.strip() else customer_value


def matrix_values(item: Item) -> tuple[str | None, str | None, int | None]:
    """(colour, style number, colour sorting) of a matrix child; nothing for a plain item."""
    if not item.is_matrix_child:
        return None, None, None
    return item.matrix_color_description, item.matrix_style_number, item.matrix_color_sorting
