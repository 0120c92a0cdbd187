"""Order -> EzXml default XML (``OrderFormat`` empty / ``Default``). Pure: no database, no network.

The seed's tables lost their "Source Field" names; the seed's prose keeps ``Freight_costs``,
``PaymentmethodId``, ``Payment_id``, ``Paid``, ``OrderType``, ``GivenDiscountAmount``,
``Color``, ``StyleNumber`` and ``ColorSorting``, and those are used as written. The other names
are this connector's choice, kept in ``ezxml_default_order.xsd``. Every element is always
written, in a fixed order, empty (``<X/>``) when App4Sales has no value: one shape for the
ERP's importer.

``Order/OrderHeader`` (seed table "Order Header (Default XML Format)", rows in seed order):

==  ====================  =====================================================================
#   Element               From / rule
==  ====================  =====================================================================
1   OrderNr               order type ``Default`` + the administration's next sequence number
2   WebOrderNr            Order.InternalOrderNr when ``UseInternalOrdersAsWebOrderNr``, else OrderNr
3   OrderType             ``Default`` (hard-coded)
4   OrderDate             Order.OrderDate, ``yyyy-MM-ddTHH:mm:ss`` (xs:dateTime)
5   YourReference         Order.YourReference
6   DeliveryDate          the latest OrderLine.DeliveryDate of the order (``yyyy-MM-dd``)
7   CustomerCode          Customer.Code
8   CustomerName          Customer.Name
9   CustomerEmail         Customer.Email
10  CustomerPhone         Customer.Phone
11  ContactPerson         full name of the customer's main contact
12  Reference             Order.Reference
13  Notes                 Order.Notes
14  ConsumerName          Order.ConsumerName, if provided
15  ConsumerEmail         Order.ConsumerEmail, if provided
16  ConsumerPhone         Order.ConsumerPhone, if provided
17  DeliveryAddress       AlternateAddress.Address1
18  DeliveryPostalCode    AlternateAddress.PostalCode
19  DeliveryCity          AlternateAddress.City
20  DeliveryState         AlternateAddress.State
21  DeliveryCountry       AlternateAddress.CountryIso2
22  AlternateAddress      ``1`` with an alternate address, else ``0``
23  TotalExclVat          sum of the LineAmounts + freight excl. VAT (see ``common``)
24  TotalVat              sum of the lines' VAT + freight VAT (see ``common``)
25  TotalInclVat          TotalExclVat + TotalVat
26  Freight_costs         shipping costs incl. VAT, ``net_round`` 2 decimals
27  PaymentmethodId       ``7`` (Mollie) when Order.IsPaid, else empty
28  Payment_id            PaymentDetails.PaymentId when Order.IsPaid (required then), else empty
29  Paid                  ``SUCCESS`` when Order.IsPaid, else empty
==  ====================  =====================================================================

``Order/OrderLines/OrderLine`` (seed table "Order Lines (Default XML Format)"):

==  ====================  =====================================================================
#   Element               From / rule
==  ====================  =====================================================================
1   LineId                position in the order, from 0
2   Quantity              OrderLine.Quantity, rounded to a whole number (see ``common``)
3   ItemDescription       Item.Description
4   DiscountPercentage    OrderLine.DiscountPercentage, as is
5   Price                 unit price excl. VAT (OrderLine.PriceExclVat, else Price without its VAT
                          when the order's prices include VAT), ``net_round`` 2 decimals
6   UnitPrice             the same calculated price
7   ListPrice             the same calculated price
8   LineAmount            Price x Quantity as sent, less DiscountPercentage, ``net_round`` 2 decimals
9   EAN                   Item.Ean
10  VatPercentage         the line's VAT rate (else the item's), ``net_round`` 2 decimals
11  Instruction           OrderLine.Instruction
12  ItemCode              Item.Code (the variant's own code)
13  ModelDescription      Item.ModelDescription
14  Stock                 Item.Stock, ``net_round`` 2 decimals
15  SalesPrice            the same calculated price
16  GivenDiscountAmount   ``0`` (hard-coded: seed "Known Limitations")
17  Color                 Item.MatrixColorDescription, for a matrix child only
18  StyleNumber           Item.MatrixStyleNumber, for a matrix child only
19  ColorSorting          Item.MatrixColorSorting, for a matrix child only
==  ====================  =====================================================================

Why ``net_round`` everywhere here: the seed says "rounded to 2 decimal places", which is .NET
``Math.Round`` (half to even); no row of this format says "formatted to 0.00".
Only Mollie is known as a payment method (seed "Known Limitations"): a paid order is always
``7``. A paid order without a payment id is refused (``PaymentDetails.PaymentId``), since the
ERP would book a payment it cannot trace.
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
