"""Order -> StyleMan ``SalesOrder`` JSON. Pure: no database, no network, no clock of its own.

Header (``SalesOrder``): the names are StyleMan's (erp-wire-formats.md), the sources App4Sales'.

=======================  ========================  ==================================================
Seed row                 Field                     From
=======================  ========================  ==================================================
Order ID (GUID)          ``OrderID``               Order.Guid, required, canonical lower-case form
Order Number             ``OrderNumber``           Order.InternalOrderNr (App4Sales' own number)
Customer GUID            ``CustomerGUID``          Customer.Guid, required, canonical form
Customer Code            ``CustomerCode``          Customer.Code
Created Date             ``Created``               the moment the order is mapped (``DateTime.Now``)
Order Date               ``OrderDate``             Order.OrderDate
Is Open                  ``IsOpen``                always ``true``
Notes                    ``Notes``                 Order.Notes
Description 1 / 2 / 3    ``Description1`` .. ``3``  Order.Description1 .. 3
Reference                ``Reference``             Order.Reference
Subtotal (Excl. VAT)     ``SubTotal``              the rounded lines excl. VAT + freight excl. VAT
Total Amount             ``Total``                 SubTotal + VatTotal
VAT Total                ``VatTotal``              the rounded line VAT + freight VAT
Your Reference           ``YourReference``         Order.YourReference
Username                 ``Username``              SalesRep.UserName (null without a sales rep)
Warehouse                ``Warehouse``             SalesRep.Warehouse (null when the rep has none)
Signature                ``Signature``             Order.Signature
Delivery Method Code     ``DeliveryMethodCode``    Order.DeliveryMethodCode
Order Type               ``OrderType``             Order.OrderType, else setting ``OrderType``; absent
                                                   when neither (the seed's condition cell is lost)
Delivery Address         ``DeliveryAddress``       Order.AlternateAddress, unless
                                                   ``DontSendAlternativeAddressOnOrder``; absent else
Delivery Address ID      ``DeliveryAddressID``     AlternateAddress.Guid when it is a valid GUID and
                                                   the address is sent; absent otherwise
(order lines)            ``Lines``                 one ``RestJsonSalesEntryLine`` per order line
=======================  ========================  ==================================================

``DeliveryAddress`` (names open in every public source, chosen after App4Sales' own):
``Name``, ``Contact``, ``Address1``, ``Address2``, ``PostalCode``, ``City``, ``State``,
``CountryCode`` (ISO 3166 alpha-2), ``Phone``, ``Email``.

Lines (``RestJsonSalesEntryLine``; names open beyond the seed, chosen to read as the seed does):

=======================  ====================  =======================================================
Seed row                 Field                 From
=======================  ====================  =======================================================
Line ID                  ``ID``                a new GUID for every line, every time the order is mapped
Customer GUID            ``CustomerGUID``      the header's ``CustomerGUID``
Discount                 ``Discount``          OrderLine.DiscountPercentage, else the customer's default
                                               discount (the seed's ``customerDiscount``), else 0
Total Discount           ``TotalDiscount``     (original unit price - ``PriceExcl``) x Quantity; the
                                               original price is OrderLine.OriginalPrice (made excl. VAT
                                               like the price), else undone from ``Discount``; 0 when
                                               neither is known
Item Code                ``ItemCode``          Item.Code (StyleMan's item code: items come from StyleMan)
Quantity                 ``Quantity``          OrderLine.Quantity, as is
Quantity Delivered       ``QuantityDelivered``  OrderLine.QuantityDelivered, 0 when unknown
VAT Percentage           ``VatPercentage``     the line's VAT rate, else the item's, else 0
Price Excl. VAT          ``PriceExcl``         OrderLine.PriceExclVat; else OrderLine.Price, made excl.
                                               VAT when the order's prices include VAT
Price Incl. VAT          ``PriceIncl``         OrderLine.Price when the order's prices include VAT,
                                               else ``PriceExcl`` x (100 + ``VatPercentage``) / 100
Default Price            ``DefaultPrice``      Item.SalesPrice (the seed's ``defaultPrice``); null if none
Line Number              ``LineNumber``        1, 2, 3 ... in order
Instruction              ``Instruction``       OrderLine.Instruction
Item Description         ``Description``       OrderLine.Description, else Item.Description
Delivery Date            ``DeliveryDate``      OrderLine.DeliveryDate; absent when the line has none
=======================  ====================  =======================================================

Rounding: every amount the connector *computes* is rounded with ``net_round`` (.NET
``Math.Round(x, 2)``, half to even), because the original connector computes on ``decimal``
and rounds with ``Math.Round``; the result is sent as a JSON number, not formatted text. That
covers ``SubTotal``, ``Total``, ``VatTotal``, ``PriceIncl``, ``TotalDiscount`` and a ``PriceExcl``
derived from a VAT-inclusive price. Amounts taken over from App4Sales (``Quantity``, a stored ``PriceExcl``,
``Discount``, ``DefaultPrice``) are sent as stored, without trailing zeros.

Dates are ISO 8601 without offset, as Json.NET writes a .NET ``DateTime``
(``2024-03-15T09:30:00``); a line's delivery date is midnight of that day.

``FilterNonIso88591Characters`` is applied last: free text is transliterated to ISO-8859-1
(``mapping.text.latin1_text``), an identifier it would change fails the order (``IDENTIFIERS``).
Totals are the rounded lines summed (``totals``), so SubTotal + VatTotal = Total always.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from backoffice_export.connectors.styleman.settings import StyleManSettings
from backoffice_export.errors import OrderDataError
from backoffice_export.mapping.money import HUNDRED, invariant, net_round, shipping_costs, vat_rate
from backoffice_export.mapping.text import checked_text, latin1_only, latin1_text
from backoffice_export.model import Address, Order, OrderLine

ZERO = Decimal(0)


def new_guid() -> str:
    """A random (version 4) GUID in its canonical form."""
    return str(uuid.uuid4())


def build_sales_order(order: Order, settings: StyleManSettings, *, created: datetime,
                      line_guid: Callable[[], str] = new_guid) -> dict[str, Any]:
    """The ``SalesOrder`` for ``order``; ``created`` is the send moment, ``line_guid`` makes line IDs."""
    customer = order.customer
    if customer is None:
        raise OrderDataError("Order.Customer", "the order has no customer")
    if not order.lines:
        raise OrderDataError("Order.OrderLines", "the order has no lines")
    customer_guid = guid(customer.guid, "Customer.Guid", required=True)
    lines = [
        sales_entry_line(order, line, number, customer_guid, customer.default_discount, line_guid())
        for number, line in enumerate(order.lines, start=1)
    ]
    sub_total, vat_total = totals(order)
    sales_order: dict[str, Any] = {
        "OrderID": order_guid(order),
        "OrderNumber": _text(order.internal_order_nr, "Order.InternalOrderNr", required=True),
        "CustomerGUID": customer_guid,
        "CustomerCode": _text(customer.code, "Customer.Code", required=True),
        "Created": _datetime(created),
        "OrderDate": _datetime(order.order_date),
        "IsOpen": True,
        "Notes": _text(order.notes, "Order.Notes"),
        "Description1": _text(order.description1, "Order.Description1"),
        "Description2": _text(order.description2, "Order.Description2"),
        "Description3": _text(order.description3, "Order.Description3"),
        "Reference": _text(order.reference, "Order.Reference"),
        "SubTotal": sub_total,
        "Total": sub_total + vat_total,
        "VatTotal": vat_total,
        "YourReference": _text(order.your_reference, "Order.YourReference"),
        "Username": _text(order.sales_rep.user_name if order.sales_rep else None, "SalesRep.UserName"),
        "Warehouse": _text(order.sales_rep.warehouse if order.sales_rep else None, "SalesRep.Warehouse"),
        "Signature": _text(order.signature, "Order.Signature"),
        "DeliveryMethodCode": _text(order.delivery_method_code, "Order.DeliveryMethodCode"),
    }
    order_type = (order.order_type or "").strip() or settings.OrderType
    if order_type:
        sales_order["OrderType"] = _text(order_type, "Order.OrderType" if order.order_type else "setting OrderType")
    if order.alternate_address is not None and not settings.DontSendAlternativeAddressOnOrder:
        sales_order["DeliveryAddress"] = delivery_address(order.alternate_address)
        address_id = guid(order.alternate_address.guid, "AlternateAddress.Guid")
        if address_id is not None:
            sales_order["DeliveryAddressID"] = address_id
    sales_order["Lines"] = lines
    return latin1_payload(sales_order) if settings.FilterNonIso88591Characters else sales_order


def totals(order: Order) -> tuple[Decimal, Decimal]:
    """(SubTotal, VatTotal): the rounded lines and freight summed; Total is the two added."""
    excl = vat = ZERO
    for line in order.lines:
        line_excl, line_vat = line_amounts(order, line)
        excl, vat = excl + line_excl, vat + line_vat
    shipping_excl, shipping_incl = (net_round(amount) for amount in shipping_costs(order))
    return excl + shipping_excl, vat + shipping_incl - shipping_excl


def line_amounts(order: Order, line: OrderLine) -> tuple[Decimal, Decimal]:
    """(excl. VAT, VAT) of a line, each rounded; a VAT-inclusive line keeps its inclusive amount."""
    rate = vat_rate(line)
    if order.prices_include_vat and line.price_excl_vat is None and line.price is not None:
        incl = net_round(line.price * line.quantity)
        vat = net_round(incl * rate / (HUNDRED + rate))
        return incl - vat, vat
    excl = net_round(price_excl_vat(order, line, line.line_index + 1) * line.quantity)
    return excl, net_round(excl * rate / HUNDRED)


def request_body(sales_order: dict[str, Any], settings: StyleManSettings) -> Any:
    """What is POSTed: the SalesOrder itself, or wrapped in BaseResponse / BaseResponse2.

    ``UseResultsTagForRequest``: ``{"Results": [{"Results": [salesOrder]}]}`` -- the outer
    object is a BaseResponse whose ``Results`` hold one BaseResponse2, whose ``Results`` hold
    the order.
    """
    if settings.UseResultsTagForRequest:
        return {"Results": [{"Results": [sales_order]}]}
    return sales_order


def order_guid(order: Order) -> str:
    """The order's GUID: StyleMan's ``OrderID``, and the key every duplicate check looks up."""
    value = guid(order.guid, "Order.Guid", required=True)
    assert value is not None
    return value


def guid(value: str | None, field: str, *, required: bool = False) -> str | None:
    """A GUID in its canonical form (.NET ``Guid.ToString()``); ``None`` when absent or invalid.

    A required GUID that is absent or malformed fails the order; an optional one that is
    malformed is left out, as the seed says for the delivery address id.
    """
    text = (value or "").strip()
    try:
        return str(uuid.UUID(text))
    except ValueError:
        if required:
            reason = "is missing" if not text else f"{text!r} is not a valid GUID"
            raise OrderDataError(field, reason) from None
        return None


def delivery_address(address: Address) -> dict[str, Any]:
    return {
        "Name": _text(address.name, "AlternateAddress.Name"),
        "Contact": _text(address.contact, "AlternateAddress.Contact"),
        "Address1": _text(address.address1, "AlternateAddress.Address1"),
        "Address2": _text(address.address2, "AlternateAddress.Address2"),
        "PostalCode": _text(address.postal_code, "AlternateAddress.PostalCode"),
        "City": _text(address.city, "AlternateAddress.City"),
        "State": _text(address.state, "AlternateAddress.State"),
        "CountryCode": _text(address.country_iso2, "AlternateAddress.CountryIso2"),
        "Phone": _text(address.phone, "AlternateAddress.Phone"),
        "Email": _text(address.email, "AlternateAddress.Email"),
    }


def sales_entry_line(order: Order, line: OrderLine, number: int, customer_guid: str | None,
                     customer_discount: Decimal | None, line_id: str) -> dict[str, Any]:
    where = f"line {number}"
    if line.item is None:
        raise OrderDataError("OrderLine.Item", f"{where} has no item")
    discount = _first(line.discount_percentage, customer_discount, ZERO)
    price_excl = price_excl_vat(order, line, number)
    rate = vat_rate(line)
    entry: dict[str, Any] = {
        "ID": line_id,
        "CustomerGUID": customer_guid,
        "Discount": _plain(discount),
        "TotalDiscount": total_discount(order, line, price_excl, discount),
        "ItemCode": _text(line.item.code, "Item.Code", required=True),
        "Quantity": _plain(line.quantity),
        "QuantityDelivered": _plain(_first(line.quantity_delivered, ZERO)),
        "VatPercentage": _plain(rate),
        "PriceExcl": price_excl,
        "PriceIncl": price_incl_vat(order, line, price_excl, rate),
        "DefaultPrice": None if line.item.sales_price is None else _plain(line.item.sales_price),
        "LineNumber": number,
        "Instruction": _text(line.instruction, "OrderLine.Instruction"),
        "Description": _text(line.description or line.item.description, "OrderLine.Description"),
    }
    if line.delivery_date is not None:
        entry["DeliveryDate"] = _datetime(line.delivery_date)
    return entry


def price_incl_vat(order: Order, line: OrderLine, price_excl: Decimal, rate: Decimal) -> Decimal:
    """The unit price incl. VAT: App4Sales' own when its prices include VAT, else computed and rounded."""
    if order.prices_include_vat and line.price_excl_vat is None and line.price is not None:
        return net_round(line.price)
    return net_round(price_excl * (HUNDRED + rate) / HUNDRED)


def price_excl_vat(order: Order, line: OrderLine, number: int) -> Decimal:
    """The unit price excl. VAT: stored as is, or derived from a VAT-inclusive price and rounded."""
    if line.price_excl_vat is not None:
        return _plain(line.price_excl_vat)
    if line.price is None:
        raise OrderDataError("OrderLine.Price", f"line {number} has no price")
    if order.prices_include_vat:
        return net_round(line.price * HUNDRED / (HUNDRED + vat_rate(line)))
    return _plain(line.price)


def total_discount(order: Order, line: OrderLine, price_excl: Decimal, discount: Decimal) -> Decimal:
    """What the discount takes off the line's original value, excl. VAT, for the whole quantity.

    App4Sales enters the original price like the price (incl. VAT when the order's prices
    include VAT), so it is brought to the excl. basis of ``PriceExcl`` first.
    """
    if line.original_price is not None:
        original = line.original_price
        if order.prices_include_vat:
            original = original * HUNDRED / (HUNDRED + vat_rate(line))
    elif ZERO < discount < HUNDRED:
        original = price_excl * HUNDRED / (HUNDRED - discount)
    else:
        return net_round(ZERO)
    return net_round((original - price_excl) * line.quantity)


# Fields that identify something in StyleMan: the filter must never change them.
IDENTIFIERS = {
    "OrderID": "Order.Guid", "OrderNumber": "Order.InternalOrderNr", "CustomerGUID": "Customer.Guid",
    "CustomerCode": "Customer.Code", "Username": "SalesRep.UserName", "Warehouse": "SalesRep.Warehouse",
    "DeliveryMethodCode": "Order.DeliveryMethodCode", "OrderType": "Order.OrderType",
    "DeliveryAddressID": "AlternateAddress.Guid", "CountryCode": "AlternateAddress.CountryIso2",
    "Email": "AlternateAddress.Email", "ID": "OrderLine", "ItemCode": "Item.Code",
}


def latin1_payload(value: Any, where: str = "") -> Any:
    """``FilterNonIso88591Characters``: free text transliterated to ISO-8859-1 (``mapping.text.latin1_text``);
    an identifier the filter would change fails the order naming its field."""
    if isinstance(value, dict):
        filtered = {}
        for key, item in value.items():
            if key in IDENTIFIERS and isinstance(item, str) and latin1_only(item) != item:
                raise OrderDataError(IDENTIFIERS[key], f"{where}{item!r} holds characters outside ISO-8859-1 "
                                                       "(setting FilterNonIso88591Characters) and identifies it")
            filtered[key] = latin1_payload(item, where)
        return filtered
    if isinstance(value, list):
        return [latin1_payload(item, f"line {number}: ") for number, item in enumerate(value, start=1)]
    return latin1_text(value) if isinstance(value, str) else value


def _text(value: object, field: str, *, required: bool = False) -> str | None:
    if value is None and not required:
        return None
    return checked_text(value, field, required=required)


def _datetime(value: date | datetime) -> str:
    moment = value if isinstance(value, datetime) else datetime.combine(value, time())
    return moment.replace(tzinfo=None).isoformat(timespec="seconds")


def _plain(value: Decimal) -> Decimal:
    """A stored amount as its plain value: ``2.00000000`` (PostgreSQL NUMERIC) becomes ``2``."""
    return Decimal(invariant(value))


def _first(*values: Decimal | None) -> Decimal:
    return next(v for v in values if v is not None)
