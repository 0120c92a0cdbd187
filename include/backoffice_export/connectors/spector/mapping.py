"""Order -> Spector order JSON (the seed's ``ConvertToNewOrder``). Pure: no database, no network.

The seed's table lost its "Source Field" cells; JSON names are the App4Sales DTO's
(``SpecterOrderPost`` / ``SpecterOrderLinePost``) where the seed or the issue gives them, else
the v1 API's names in camelCase (``shared/notes/erp-wire-formats.md``). ``externalOrderNo`` is
not in the seed (its Known Limitations say the original left it empty); it carries this
project's key for the order (``external_order_no``), so that a retry can look the order up
instead of creating it twice, and Spector's own duplicate check (result 10) works for us.

Order header:

========================  ==========================  ==============================================
Seed row                  JSON field                  From (App4Sales)
========================  ==========================  ==============================================
(exactly-once key)        ``externalOrderNo``         Administration.Code + "/" +
                                                      Order.InternalOrderNr (max 50)
Customer ID               ``customerId``              Order.Customer.Code (required)
Order Date                ``orderDate`` yyyy-MM-dd    Order.OrderDate; today when the setting
                                                      SetOrderDateAsDeliveryDate is on
Customer Reference        ``customerReference``       Order.YourReference (max 70)
Customer Order Reference  ``customerOrderReference``  Order.Reference (max 50)
Currency                  ``currency``                the customer's price list currency, else the
                                                      administration's (its default price list);
                                                      neither: the order fails
Delivery Date             ``deliveryDate`` yyyy-MM-dd Order.OrderDate, as the seed says; left out
                                                      when SetOrderDateAsDeliveryDate is on
Internal Comment          ``internalComment``         Customer.ExtraData + newline + Order.Notes
External Delivery Method  ``externalDeliveryMethod``  Customer.DeliveryMethod (max 100)
Published Comment         ``publishedComment``        setting PublishedCommentOnOrder
Requirements              ``requirements``            setting RequirementsOnOrder
Stock Site ID             ``stockSiteId``             setting StockSiteID, only when a valid integer
Our Reference User ID     ``ourReferenceUserId``      Order.SalesRep.UserId (integer)
========================  ==========================  ==============================================

Order lines (``lines``):

========================  ==========================  ==============================================
Seed row                  JSON field                  From (App4Sales)
========================  ==========================  ==============================================
Line Number               ``lineNumber``              1, 2, 3 ... by position
Article Number            ``articleNumber``           Item.Code (required, max 50)
Article Name              ``articleName``             Item.Description (required, max 130)
Article Comment           ``articleComment``          OrderLine.Instruction (max 200)
Add Article Comment       ``addArticleComment``       true when there is an article comment
Price Excl. VAT           ``priceExclVAT``            see "Prices and discount" below (required)
Number of Items           ``numberOfItems``           OrderLine.Quantity as an integer (required)
VAT Percentage            ``vatPercentage``           Item.VatPercentage (else the line's) when
                                                      Customer.VatLiable, else 0 (required); the
                                                      same rate is taken off a VAT-inclusive price
Discount                  ``discount``                see below; 0 unless OnlySendDiscount
========================  ==========================  ==============================================

Prices and discount, and which rounding each uses:

- ``OnlySendDiscount`` off (or on but the line has no discount): ``priceExclVAT`` is the line's
  unit price excl. VAT (``money.unit_price_excl_vat``) times ``(100 - Order.WebshopDiscountPercentage)
  / 100``, ``discount`` is 0. Not rounded: the seed rounds nothing here and .NET's ``decimal``
  keeps the exact product (``12.50`` at 2.5 % -> ``12.1875``).
- ``OnlySendDiscount`` on and a discount present: ``priceExclVAT`` is Item.SalesPrice (the price
  before any discount; the line's OriginalPrice when the item has none, without its VAT when the
  order's prices include VAT), ``discount`` is the
  line's discount percentage (OrderLine.DiscountPercentage, else derived from OriginalPrice and
  Price) plus the webshop discount percentage, rounded to 4 decimals with ``net_round``:
  the seed's "rounded to 4 decimal places" is ``Math.Round(x, 4)``, half to even.
- ``numberOfItems``: "converted to an integer" is .NET ``Convert.ToInt32(decimal)``, which
  rounds half to even: ``money.whole_quantity`` (2.5 -> 2, 3.5 -> 4). A line that rounds to
  0 items is refused rather than sent empty.

Amounts are ``Decimal`` and go out as exact JSON numbers (``mapping.exact_json``). Optional
fields without a value are left out. No charges, surcharges or attachments: the seed's
connector sends none.
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
    """The order's key at Spector: ``<administration code>/<App4Sales order number>``.

    App4Sales numbers are unique per administration only, and several administrations may send
    to one Spector company, so the number alone would let one administration's order 1001 be
    taken for another's. Administration codes are unique and never hold the separator
    (``delivery`` refuses one that does), so the key is unique across everything that can
    share a company, and still tells a Spector user where the order came from.
    """
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
    """The VAT rate a VAT-inclusive price loses: the one ``vatPercentage`` names (item first), whatever
    the customer's liability."""
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
