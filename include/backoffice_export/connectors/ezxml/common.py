"""What the three EzXml formats compute alike: numbers, line prices and quantities, totals.

Amounts are rounded half to even (``net_round``); quantities to 2 decimals then to a whole
number (EzXml has none fractional), a line below 1 fails; totals are the sum of the sent lines,
so the header adds up to what the ERP reads. Rules: docs/formats/ezxml.md.
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
    """An order EzXml cannot take: the seed's ``ERROR_Unhandled`` code, then the field and reason."""

    def __str__(self) -> str:
        return f"{ERROR_UNHANDLED}: {self.field}: {self.message}"


@dataclass(frozen=True)
class OrderNumbers:
    """The numbers one export carries: ``order_nr`` (file name, written back) and ``generated`` (``Default17``)."""

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
