"""Order -> EzXml default XML (``OrderFormat`` empty / ``Default``). Pure: no database, no network.

Every element is always written, in a fixed order, empty when App4Sales has no value (one shape
for the ERP's importer; ``ezxml_default_order.xsd``). Full reference: docs/formats/ezxml.md.

``Order/OrderHeader``: OrderNr (``Default<n>``), WebOrderNr, OrderType (``Default``), OrderDate,
YourReference, DeliveryDate (latest line date), CustomerCode, CustomerName, CustomerEmail,
CustomerPhone, ContactPerson, Reference, Notes, ConsumerName, ConsumerEmail, ConsumerPhone,
DeliveryAddress, DeliveryPostalCode, DeliveryCity, DeliveryState, DeliveryCountry,
AlternateAddress (``1``/``0``), TotalExclVat, TotalVat, TotalInclVat, Freight_costs (incl. VAT),
PaymentmethodId (``7``, Mollie, when paid), Payment_id, Paid (``SUCCESS`` when paid).

``OrderLines/OrderLine``: LineId (from 0), Quantity, ItemDescription, DiscountPercentage, Price,
UnitPrice, ListPrice (all three the unit price excl. VAT), LineAmount, EAN, VatPercentage,
Instruction, ItemCode, ModelDescription, Stock, SalesPrice, GivenDiscountAmount (``0``), Color,
StyleNumber, ColorSorting (the last three for a matrix child only).
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from backoffice_export.connectors.ezxml.common import (
    OrderNumbers,
    PreparedLine,
    matrix_values,
    money,
    optional_amount,
    prepared_lines,
    require_customer,
    rounded_totals,
)
from backoffice_export.errors import OrderDataError
from backoffice_export.mapping.money import invariant, shipping_costs
from backoffice_export.mapping.xml import element, to_bytes, validate
from backoffice_export.model import Order

ORDER_TYPE = "Default"
EXTENSION = "xml"
XSD = Path(__file__).with_name("ezxml_default_order.xsd")
MOLLIE_PAYMENT_METHOD_ID = "7"
PAID = "SUCCESS"


def build_order(order: Order, numbers: OrderNumbers) -> etree._Element:
    customer = require_customer(order)
    lines = prepared_lines(order)
    if numbers.generated is None:
        raise ValueError("the default XML format needs the generated order number")
    root = etree.Element("Order")
    header = etree.SubElement(root, "OrderHeader")
    element(header, "OrderNr", numbers.generated, field="Order.OrderNr")
    element(header, "WebOrderNr", numbers.order_nr, field="Order.InternalOrderNr")
    element(header, "OrderType", ORDER_TYPE)
    element(header, "OrderDate", order.order_date.strftime("%Y-%m-%dT%H:%M:%S"))
    element(header, "YourReference", order.your_reference, field="Order.YourReference")
    dates = [p.line.delivery_date for p in lines if p.line.delivery_date is not None]
    element(header, "DeliveryDate", max(dates).isoformat() if dates else None)
    element(header, "CustomerCode", customer.code, field="Customer.Code")
    element(header, "CustomerName", customer.name, field="Customer.Name")
    element(header, "CustomerEmail", customer.email, field="Customer.Email")
    element(header, "CustomerPhone", customer.phone, field="Customer.Phone")
    contact = customer.main_contact
    element(header, "ContactPerson", contact.full_name if contact else None, field="Customer.MainContact")
    element(header, "Reference", order.reference, field="Order.Reference")
    element(header, "Notes", order.notes, field="Order.Notes")
    element(header, "ConsumerName", order.consumer_name, field="Order.ConsumerName")
    element(header, "ConsumerEmail", order.consumer_email, field="Order.ConsumerEmail")
    element(header, "ConsumerPhone", order.consumer_phone, field="Order.ConsumerPhone")
    address = order.alternate_address
    element(header, "DeliveryAddress", address.address1 if address else None, field="AlternateAddress.Address1")
    element(header, "DeliveryPostalCode", address.postal_code if address else None,
            field="AlternateAddress.PostalCode")
    element(header, "DeliveryCity", address.city if address else None, field="AlternateAddress.City")
    element(header, "DeliveryState", address.state if address else None, field="AlternateAddress.State")
    element(header, "DeliveryCountry", address.country_iso2 if address else None,
            field="AlternateAddress.CountryIso2")
    element(header, "AlternateAddress", "1" if address is not None else "0")
    excl, vat, incl = rounded_totals(order, lines)
    element(header, "TotalExclVat", money(excl))
    element(header, "TotalVat", money(vat))
    element(header, "TotalInclVat", money(incl))
    element(header, "Freight_costs", money(shipping_costs(order)[1]))
    _payment(header, order)
    parent = etree.SubElement(root, "OrderLines")
    for prepared in lines:
        _order_line(parent, prepared)
    return root


def _payment(header: etree._Element, order: Order) -> None:
    if not order.is_paid:
        for tag in ("PaymentmethodId", "Payment_id", "Paid"):
            element(header, tag)
        return
    payment_id = order.payment.payment_id if order.payment else None
    if not payment_id or not payment_id.strip():
        raise OrderDataError("PaymentDetails.PaymentId", "the order is marked as paid but has no payment id")
    element(header, "PaymentmethodId", MOLLIE_PAYMENT_METHOD_ID)
    element(header, "Payment_id", payment_id, field="PaymentDetails.PaymentId")
    element(header, "Paid", PAID)


def _order_line(parent: etree._Element, prepared: PreparedLine) -> None:
    line, item = prepared.line, prepared.item
    price = money(prepared.price)
    color, style_number, color_sorting = matrix_values(item)
    node = etree.SubElement(parent, "OrderLine")
    element(node, "LineId", prepared.position)
    element(node, "Quantity", prepared.quantity)
    element(node, "ItemDescription", item.description, field="Item.Description")
    element(node, "DiscountPercentage",
            None if line.discount_percentage is None else invariant(line.discount_percentage))
    element(node, "Price", price)
    element(node, "UnitPrice", price)
    element(node, "ListPrice", price)
    element(node, "LineAmount", money(prepared.amount))
    element(node, "EAN", item.ean, field="Item.Ean")
    element(node, "VatPercentage", optional_amount(line.effective_vat_percentage))
    element(node, "Instruction", line.instruction, field="OrderLine.Instruction")
    element(node, "ItemCode", item.code, field="Item.Code")
    element(node, "ModelDescription", item.model_description, field="Item.ModelDescription")
    element(node, "Stock", optional_amount(item.stock))
    element(node, "SalesPrice", price)
    element(node, "GivenDiscountAmount", 0)
    element(node, "Color", color, field="Item.MatrixColorDescription")
    element(node, "StyleNumber", style_number, field="Item.MatrixStyleNumber")
    element(node, "ColorSorting", color_sorting)


def render(order: Order, numbers: OrderNumbers) -> bytes:
    """The file's bytes, checked against the XSD before anything leaves the machine."""
    root = build_order(order, numbers)
    validate(root, XSD)
    return to_bytes(root)
