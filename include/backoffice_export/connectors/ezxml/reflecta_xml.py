"""Order -> the Reflecta XML variant of EzXml (``OrderFormat`` ``Reflecta``). Pure: no I/O.

Element names are Reflecta's; codes the public format does not place sit in ``OrderHeader``
under the seed's name without the ``Reflecta`` prefix. Full reference: docs/formats/ezxml.md.

``Orders/OrderHeader``: WebOrderNr, ProviderCode, ContextCode, CompanyCode, WarehouseGroupCode,
OrderDate (``dd-MM-yyyy``), CustomerCode, CurrencyCode, CustomerReference, AdditionalInformation,
OrderOriginCode, SeasonCode, SalesDepartmentCode, SalDeliveryTermCode, FreightChargesAmt;
``DeliveryAddresses/DeliveryAddress`` with an alternate address (Name, Street, HouseNr,
HouseNrExt, ZipCode, City, CountryIsoCode, Phone, Email); ``OrderLines/OrderLine``:
WebOrderLineSeq (from 1), ItemCode, OrderedQty, SalesPriceAmt. Settings that are not configured
are left out. Whether the order has shipping costs is decided on the sent amount, so the
delivery-term code agrees with ``FreightChargesAmt``.
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
