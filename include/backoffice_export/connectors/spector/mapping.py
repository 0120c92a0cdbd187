"""Order -> Spector order JSON (the seed's ``ConvertToNewOrder``). Pure: no database, no network.

Seed row -> JSON field; prices, discount and rounding: docs/formats/spector.md.

Header
  (exactly-once key, not a seed row) -> ``externalOrderNo``: Administration.Code/Order.InternalOrderNr
  Customer ID -> ``customerId``: Customer.Code
  Order Date -> ``orderDate``: Order.OrderDate; today with SetOrderDateAsDeliveryDate
  Customer Reference -> ``customerReference``: Order.YourReference
  Customer Order Reference -> ``customerOrderReference``: Order.Reference
  Currency -> ``currency``: the customer's price list currency, else the administration's
  Delivery Date -> ``deliveryDate``: Order.OrderDate; absent with SetOrderDateAsDeliveryDate
  Internal Comment -> ``internalComment``: Customer.ExtraData, a newline, Order.Notes
  External Delivery Method -> ``externalDeliveryMethod``: Customer.DeliveryMethod
  Published Comment / Requirements -> ``publishedComment`` / ``requirements``: settings
  Stock Site ID -> ``stockSiteId``: setting StockSiteID, when a valid integer
  Our Reference User ID -> ``ourReferenceUserId``: SalesRep.UserId
Lines (``lines``)
  Line Number -> ``lineNumber``: 1, 2, 3 ...
  Article Number / Name -> ``articleNumber`` / ``articleName``: Item.Code / Item.Description
  Article Comment -> ``articleComment``: OrderLine.Instruction; ``addArticleComment`` when set
  Price Excl. VAT -> ``priceExclVAT``: the unit price after the webshop discount
  Number of Items -> ``numberOfItems``: OrderLine.Quantity, half to even to an integer
  VAT Percentage -> ``vatPercentage``: Item.VatPercentage (else the line's) when VAT-liable, else 0
  Discount -> ``discount``: 0 unless OnlySendDiscount
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from backoffice_export.connectors.spector.settings import SpectorSettings
from backoffice_export.errors import OrderDataError
from backoffice_export.mapping.dates import iso_date
from backoffice_export.mapping.money import (
    HUNDRED,
    invariant,
    net_round,
    order_currency,
    unit_price_excl_vat,
    whole_quantity,
    without_vat,
)
from backoffice_export.model import Order, OrderLine

DISCOUNT_PLACES = 4
KEY_SEPARATOR = "/"


def external_order_no(order: Order) -> str:
    """The order's key at Spector, ``<administration code>/<order number>``: unique across a shared company."""
    return f"{order.administration.code}{KEY_SEPARATOR}{order.internal_order_nr}"


def build_order(order: Order, settings: SpectorSettings, today: date) -> dict[str, Any]:
    """The ``SpecterOrderPost`` body; ``today`` is the worker's date (SetOrderDateAsDeliveryDate)."""
    customer = order.customer
    if customer is None:
        raise OrderDataError("Order.Customer", "the order has no customer")
    if not order.lines:
        raise OrderDataError("Order.OrderLines", "the order has no lines")
    if settings.SetOrderDateAsDeliveryDate:
        order_date, delivery_date = iso_date(today), None
    else:
        order_date = delivery_date = iso_date(order.order_date)
    payload: dict[str, Any] = {
        "externalOrderNo": external_order_no(order),
        "customerId": customer.code,
        "orderDate": order_date,
        "deliveryDate": delivery_date,
        "customerReference": order.your_reference,
        "customerOrderReference": order.reference,
        "currency": order_currency(order),
        "internalComment": internal_comment(order),
        "externalDeliveryMethod": customer.delivery_method,
        "publishedComment": settings.PublishedCommentOnOrder,
        "requirements": settings.RequirementsOnOrder,
        "stockSiteId": settings.stock_site_id,
        "ourReferenceUserId": order.sales_rep.user_id if order.sales_rep is not None else None,
        "lines": [order_line(order, line, number, settings) for number, line in enumerate(order.lines, start=1)],
    }
    return _without_empty(payload)


def internal_comment(order: Order) -> str | None:
    """Customer extra data, a newline, then the order notes; only the notes without extra data."""
    extra = order.customer.extra_data if order.customer is not None else None
    notes = order.notes or None
    if extra:
        return f"{extra}\n{notes}" if notes else extra
    return notes


def order_line(order: Order, line: OrderLine, number: int, settings: SpectorSettings) -> dict[str, Any]:
    item = line.item
    if item is None:
        raise OrderDataError("OrderLine.Item", f"line {number} has no item")
    where = f"line {number} (item {item.code})"
    items = whole_quantity(line.quantity)
    if items == 0:
        raise OrderDataError("OrderLine.Quantity", f"{where}: quantity {invariant(line.quantity)} rounds to 0 items")
    price, discount = price_and_discount(order, line, settings, where)
    comment = line.instruction or None
    return _without_empty({
        "lineNumber": number,
        "articleNumber": item.code,
        "articleName": item.description,
        "articleComment": comment,
        "addArticleComment": comment is not None,
        "priceExclVAT": price,
        "numberOfItems": items,
        "vatPercentage": vat_percentage(order, line),
        "discount": discount,
    })


def vat_percentage(order: Order, line: OrderLine) -> Decimal | None:
    """The item's VAT rate for a VAT-liable customer, 0 otherwise; ``None`` (required, refused) if unknown."""
    if order.customer is not None and not order.customer.vat_liable:
        return Decimal(0)
    if line.item is not None and line.item.vat_percentage is not None:
        return line.item.vat_percentage
    return line.vat_percentage


def conversion_rate(line: OrderLine) -> Decimal:
    """The VAT rate a VAT-inclusive price loses (item first), whatever the customer's liability."""
    if line.item is not None and line.item.vat_percentage is not None:
        return line.item.vat_percentage
    return line.vat_percentage or Decimal(0)


def line_discount_percentage(line: OrderLine) -> Decimal:
    """The line's own discount: as stored, else how far Price is below OriginalPrice, in percent."""
    if line.discount_percentage is not None:
        return line.discount_percentage
    if line.original_price and line.price is not None:
        return (line.original_price - line.price) * HUNDRED / line.original_price
    return Decimal(0)


def price_and_discount(order: Order, line: OrderLine, settings: SpectorSettings,
                       where: str) -> tuple[Decimal, Decimal]:
    webshop = order.webshop_discount_percentage or Decimal(0)
    if settings.OnlySendDiscount:
        discount = net_round(line_discount_percentage(line) + webshop, DISCOUNT_PLACES)
        if discount != 0:
            assert line.item is not None
            sales_price = line.item.sales_price
            if sales_price is None and line.original_price is not None:
                sales_price = line.original_price
                if order.prices_include_vat:
                    sales_price = without_vat(sales_price, conversion_rate(line))
            if sales_price is None:
                raise OrderDataError("Item.SalesPrice", f"{where}: OnlySendDiscount needs the item's sales price "
                                                        "before discount, and the item has none")
            return sales_price, discount
    price = unit_price_excl_vat(line, order, field="OrderLine.Price", rate=conversion_rate(line))
    return (price * (HUNDRED - webshop) / HUNDRED if webshop else price), Decimal(0)


def _without_empty(values: dict[str, Any]) -> dict[str, Any]:
    """Leave out optional fields that have no value ("" counts as none), as the DTO's nulls."""
    return {k: v for k, v in values.items() if v is not None and v != ""}
