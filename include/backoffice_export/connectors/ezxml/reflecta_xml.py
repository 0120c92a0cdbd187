"""Order -> the Reflecta XML variant of EzXml (``OrderFormat`` ``Reflecta``). Pure: no I/O.

Element names are Reflecta's (``Orders/OrderHeader``, ``WebOrderNr``, ``ProviderCode``,
``CompanyCode``, ``OrderDate``, ``CustomerCode``, ``CurrencyCode``, ``CustomerReference``,
``AdditionalInformation``, ``OrderOriginCode``, the delivery address and line elements: see
``shared/notes/erp-wire-formats.md``). Where the public format documentation does not place a
code (context, warehouse group, season, sales department, delivery term, freight), it sits in
``OrderHeader`` under the name the seed gives it without the ``Reflecta`` prefix
(``SalDeliveryTermCode`` and ``FreightChargesAmt`` are the seed's own names).

``Orders/OrderHeader`` (seed table "Order Header (Reflecta XML Format)", in seed order):

==  ===========================  ================================================================
#   Element                      From / rule
==  ===========================  ================================================================
1   WebOrderNr                   Order.InternalOrderNr when ``UseInternalOrdersAsWebOrderNr``, else
                                 ``Default`` + the administration's next sequence number
2   ProviderCode                 setting ReflectaProviderCode (required for this format)
3   ContextCode                  setting ReflectaContextCode (omitted when not configured)
4   CompanyCode                  setting ReflectaCompanyCode (required for this format)
5   WarehouseGroupCode           setting ReflectaWarehouseGroupCode (omitted when not configured)
6   OrderDate                    Order.OrderDate, ``dd-MM-yyyy``
7   CustomerCode                 Customer.Code
8   CurrencyCode                 the ISO code of the customer's price list, else the general
                                 (administration's) currency; the order fails when neither is known
9   CustomerReference            Order.YourReference (omitted when empty)
10  AdditionalInformation        Order.Notes (omitted when empty)
11  OrderOriginCode              setting ReflectaOrderOriginCode (omitted when not configured)
12  SeasonCode                   setting ReflectaSeasonCode (omitted when not configured)
13  SalesDepartmentCode          setting ReflectaSalesDepartmentCode (omitted when not configured)
14  SalDeliveryTermCode          no shipping costs and ReflectaDeliveryTermCodeWhenTheOrderHas-
                                 NoShippingCosts configured: that code; else ReflectaDeliveryTermCode
                                 (omitted when that is not configured either)
15  FreightChargesAmt            shipping costs excl. VAT, ``net_round`` 2 decimals (``0.00`` without)
==  ===========================  ================================================================

Address fields (``OrderHeader/DeliveryAddresses/DeliveryAddress``, only with an alternate
address): ``Name`` (Order.ConsumerName, else Customer.Name), ``Street`` / ``HouseNr`` /
``HouseNrExt`` (AlternateAddress.Address1 parsed by ``mapping/dutch_address.py``, the parts
that are empty are left out), ``ZipCode`` (AlternateAddress.PostalCode), ``City``
(AlternateAddress.City), ``CountryIsoCode`` (AlternateAddress.CountryIso2), ``Phone``
(Order.ConsumerPhone, else Customer.Phone) and ``Email`` (Order.ConsumerEmail, else
Customer.Email).

``OrderHeader/OrderLines/OrderLine`` (seed table "Order Lines (Reflecta XML Format)"):

==  ===========================  ================================================================
1   WebOrderLineSeq              position in the order, from 1
2   ItemCode                     Item.Code
3   OrderedQty                   OrderLine.Quantity, rounded to a whole number (see ``common``)
4   SalesPriceAmt                unit price excl. VAT, ``net_round`` 2 decimals (see ``common``)
==  ===========================  ================================================================

Rounding: every amount is ``net_round`` (half to even), ``FreightChargesAmt`` included, so the
same freight is the same amount in every EzXml format (the seed's "formatted to 0.00" is read as
the text form). Whether the order has shipping costs is decided on the sent amount, so the
delivery-term code always agrees with the ``FreightChargesAmt`` the ERP reads. The country code
is upper-cased.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from backoffice_export.connectors.ezxml.common import (
    OrderNumbers,
    consumer_first,
    money,
    prepared_lines,
    require_customer,
)
from backoffice_export.connectors.ezxml.settings import EzXmlSettings
from backoffice_export.mapping.dates import dutch_date
from backoffice_export.mapping.dutch_address import parse_address
from backoffice_export.mapping.money import order_currency, shipping_costs
from backoffice_export.mapping.text import checked_text, country_code
from backoffice_export.mapping.xml import element, to_bytes, validate
from backoffice_export.model import Order

ORDER_TYPE = "Default"
EXTENSION = "xml"
XSD = Path(__file__).with_name("ezxml_reflecta_order.xsd")


def delivery_term_code(settings: EzXmlSettings, freight_charges: str) -> str | None:
    no_shipping_code = settings.ReflectaDeliveryTermCodeWhenTheOrderHasNoShippingCosts
    if freight_charges == "0.00" and no_shipping_code:
        return no_shipping_code
    return settings.ReflectaDeliveryTermCode


def _optional(parent: etree._Element, tag: str, value: str | None, field: str) -> None:
    if value is not None and str(value).strip():
        element(parent, tag, value, field=field)


def build_order(order: Order, settings: EzXmlSettings, numbers: OrderNumbers) -> etree._Element:
    customer = require_customer(order)
    lines = prepared_lines(order)
    root = etree.Element("Orders")
    header = etree.SubElement(root, "OrderHeader")
    element(header, "WebOrderNr", numbers.order_nr, field="Order.OrderNr")
    element(header, "ProviderCode", settings.ReflectaProviderCode, field="setting ReflectaProviderCode")
    _optional(header, "ContextCode", settings.ReflectaContextCode, "setting ReflectaContextCode")
    element(header, "CompanyCode", settings.ReflectaCompanyCode, field="setting ReflectaCompanyCode")
    _optional(header, "WarehouseGroupCode", settings.ReflectaWarehouseGroupCode, "setting ReflectaWarehouseGroupCode")
    element(header, "OrderDate", dutch_date(order.order_date))
    element(header, "CustomerCode", customer.code, field="Customer.Code")
    element(header, "CurrencyCode", order_currency(order), field="Customer.PriceList.CurrencyIso")
    _optional(header, "CustomerReference", order.your_reference, "Order.YourReference")
    _optional(header, "AdditionalInformation", order.notes, "Order.Notes")
    _optional(header, "OrderOriginCode", settings.ReflectaOrderOriginCode, "setting ReflectaOrderOriginCode")
    _optional(header, "SeasonCode", settings.ReflectaSeasonCode, "setting ReflectaSeasonCode")
    _optional(header, "SalesDepartmentCode", settings.ReflectaSalesDepartmentCode,
              "setting ReflectaSalesDepartmentCode")
    freight_charges = money(shipping_costs(order)[0])
    _optional(header, "SalDeliveryTermCode", delivery_term_code(settings, freight_charges),
              "setting ReflectaDeliveryTermCode")
    element(header, "FreightChargesAmt", freight_charges)
    if order.alternate_address is not None:
        _delivery_address(header, order)
    parent = etree.SubElement(header, "OrderLines")
    for prepared in lines:
        node = etree.SubElement(parent, "OrderLine")
        element(node, "WebOrderLineSeq", prepared.position + 1)
        element(node, "ItemCode", prepared.item.code, field="Item.Code")
        element(node, "OrderedQty", prepared.quantity)
        element(node, "SalesPriceAmt", money(prepared.price))
    return root


def _delivery_address(header: etree._Element, order: Order) -> None:
    address, customer = order.alternate_address, order.customer
    assert address is not None and customer is not None
    street_line = checked_text(address.address1, "AlternateAddress.Address1", required=True)
    parts = parse_address(street_line)
    node = etree.SubElement(etree.SubElement(header, "DeliveryAddresses"), "DeliveryAddress")
    element(node, "Name", consumer_first(order.consumer_name, customer.name),
            field="Order.ConsumerName" if order.consumer_name else "Customer.Name")
    element(node, "Street", parts.street, field="AlternateAddress.Address1")
    _optional(node, "HouseNr", parts.house_number, "AlternateAddress.Address1")
    _optional(node, "HouseNrExt", parts.addition, "AlternateAddress.Address1")
    element(node, "ZipCode", address.postal_code, field="AlternateAddress.PostalCode")
    element(node, "City", address.city, field="AlternateAddress.City")
    _optional(node, "CountryIsoCode", country_code(address.country_iso2, "AlternateAddress.CountryIso2"),
              "AlternateAddress.CountryIso2")
    _optional(node, "Phone", consumer_first(order.consumer_phone, customer.phone),
              "Order.ConsumerPhone" if order.consumer_phone else "Customer.Phone")
    _optional(node, "Email", consumer_first(order.consumer_email, customer.email),
              "Order.ConsumerEmail" if order.consumer_email else "Customer.Email")


def render(order: Order, settings: EzXmlSettings, numbers: OrderNumbers) -> bytes:
    """The file's bytes, checked against the XSD before anything leaves the machine."""
    root = build_order(order, settings, numbers)
    validate(root, XSD)
    return to_bytes(root)
