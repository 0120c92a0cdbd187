"""Order -> Reflecta order XML. Pure: no database, no network, one function per seed table.

Seed rows and where they land (``Orders/OrderHeader`` ...):

===================  ==========================================  ==============================
Seed row             Element                                     From
===================  ==========================================  ==============================
Order Number         ``WebOrderNr``                              Order.OrderNr (generated if missing)
Company Code         ``CompanyCode``                             setting CompanyCode (mandatory)
Order Date           ``OrderDate`` (yyyy-MM-dd)                  Order.OrderDate
Customer Code        ``CustomerCode``                            Order.Customer.Code
Currency             ``CurrencyCode``                            the customer's price list currency,
                                                                 else the administration's currency;
                                                                 neither: the order fails
Line Sequence        ``OrderLine/WebOrderLineSeq``               1, 2, 3 ...
Item Code            ``OrderLine/ItemCode``                      Item.ExtraData.BackofficeItemCode
Dimension            ``OrderLine/ItemDimension_obj``             Item.ExtraData.ItemDimension
Dimension Size       ``OrderLine/ItemDimensionSize_obj``         Item.ExtraData.ItemDimensionSize
Quantity             ``OrderLine/OrderedQty``                    OrderLine.Quantity, as is
Price                ``OrderLine/SalesPriceAmt``                 OrderLine.Price, as is (no VAT logic)
Delivery Date        ``OrderLine/EarliestDeliveryDate``          Order.DeliveryDate (the order's)
Customer Name        ``DeliveryAddress/Name``                    Order.Customer.Name
Street / House Nr    ``Street`` / ``HouseNr`` / ``HouseNrExt``   AlternateAddress.Address1, parsed
                                                                 (required with an alternate address)
City                 ``DeliveryAddress/City``                    AlternateAddress.City
Postal Code          ``DeliveryAddress/ZipCode``                 AlternateAddress.PostalCode
Country              ``DeliveryAddress/CountryIsoCode``          AlternateAddress.CountryIso2, upper case
===================  ==========================================  ==============================

The delivery address is written only when the order has an alternate address. No discounts,
surcharges, payments or attachments: the seed's connector sends none.
"""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from backoffice_export.connectors.reflecta.settings import ReflectaSettings
from backoffice_export.errors import OrderDataError
from backoffice_export.mapping.dates import iso_date
from backoffice_export.mapping.dutch_address import parse_address
from backoffice_export.mapping.money import invariant, order_currency
from backoffice_export.mapping.text import checked_text, country_code
from backoffice_export.mapping.xml import element
from backoffice_export.model import Order, OrderLine

EXTRA_ITEM_CODE, EXTRA_DIMENSION, EXTRA_DIMENSION_SIZE = "BackofficeItemCode", "ItemDimension", "ItemDimensionSize"


def build_order(order: Order, settings: ReflectaSettings, order_nr: str) -> etree._Element:
    if order.customer is None:
        raise OrderDataError("Order.Customer", "the order has no customer")
    if not order.lines:
        raise OrderDataError("Order.OrderLines", "the order has no lines")
    root = etree.Element("Orders")
    header = etree.SubElement(root, "OrderHeader")
    element(header, "WebOrderNr", order_nr, field="Order.OrderNr")
    element(header, "CompanyCode", settings.CompanyCode, field="setting CompanyCode")
    element(header, "OrderDate", iso_date(order.order_date))
    element(header, "CustomerCode", order.customer.code, field="Customer.Code")
    element(header, "CurrencyCode", order_currency(order), field="Customer.PriceList.CurrencyIso")
    if order.alternate_address is not None:
        _delivery_address(header, order)
    lines = etree.SubElement(header, "OrderLines")
    delivery_date = None if order.delivery_date is None else iso_date(order.delivery_date)  # the same on every line
    for sequence, line in enumerate(order.lines, start=1):
        _order_line(lines, line, sequence, delivery_date)
    return root


def _delivery_address(header: etree._Element, order: Order) -> None:
    address = order.alternate_address
    assert address is not None and order.customer is not None
    parts = parse_address(checked_text(address.address1, "AlternateAddress.Address1", required=True))
    node = etree.SubElement(etree.SubElement(header, "DeliveryAddresses"), "DeliveryAddress")
    element(node, "Name", order.customer.name, field="Customer.Name")
    element(node, "Street", parts.street, field="AlternateAddress.Address1")
    if parts.house_number:
        element(node, "HouseNr", parts.house_number, field="AlternateAddress.Address1")
    if parts.addition:
        element(node, "HouseNrExt", parts.addition, field="AlternateAddress.Address1")
    element(node, "ZipCode", address.postal_code, field="AlternateAddress.PostalCode")
    element(node, "City", address.city, field="AlternateAddress.City")
    element(node, "CountryIsoCode", country_code(address.country_iso2, "AlternateAddress.CountryIso2"),
            field="AlternateAddress.CountryIso2")


def _order_line(parent: etree._Element, line: OrderLine, sequence: int, delivery_date: str | None) -> None:
    where = f"line {sequence}"
    if line.item is None:
        raise OrderDataError("OrderLine.Item", f"{where} has no item")
    extra = line.item.extra_data
    if not extra:
        raise OrderDataError(
            "Item.ExtraData",
            f"item {line.item.code} on {where} has no ExtraData (BackofficeItemCode, ItemDimension, "
            "ItemDimensionSize), so its Reflecta item is unknown",
        )
    if not extra.get(EXTRA_ITEM_CODE):
        raise OrderDataError(f"Item.ExtraData.{EXTRA_ITEM_CODE}", f"item {line.item.code} on {where} has none")
    if line.quantity <= 0:
        raise OrderDataError("OrderLine.Quantity", f"{where} has quantity {invariant(line.quantity)}; must be positive")
    if line.price is None:
        raise OrderDataError("OrderLine.Price", f"{where} has no price")
    if line.price < Decimal(0):
        raise OrderDataError("OrderLine.Price", f"{where} has a negative price {invariant(line.price)}")
    node = etree.SubElement(parent, "OrderLine")
    element(node, "WebOrderLineSeq", sequence)
    element(node, "ItemCode", extra[EXTRA_ITEM_CODE], field=f"Item.ExtraData.{EXTRA_ITEM_CODE}")
    if extra.get(EXTRA_DIMENSION):
        element(node, "ItemDimension_obj", extra[EXTRA_DIMENSION], field=f"Item.ExtraData.{EXTRA_DIMENSION}")
    if extra.get(EXTRA_DIMENSION_SIZE):
        element(node, "ItemDimensionSize_obj", extra[EXTRA_DIMENSION_SIZE],
                field=f"Item.ExtraData.{EXTRA_DIMENSION_SIZE}")
    element(node, "OrderedQty", invariant(line.quantity))
    element(node, "SalesPriceAmt", _price(line.price))
    if delivery_date is not None:
        element(node, "EarliestDeliveryDate", delivery_date)


def _price(value: Decimal) -> str:
    """The price as stored, at least two decimals (12.5 -> 12.50, 3.1415 stays)."""
    text = invariant(value)
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(2, '0')}"
