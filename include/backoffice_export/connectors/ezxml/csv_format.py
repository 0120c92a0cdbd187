"""Order -> EzXml CSV (``OrderFormat`` ``CSV``): one row per order line, the header repeated on each.

Pure; the export moment is passed in. Columns in seed order: OrderNr, OrderDate, CustomerCode,
YourReference, OrderType (``Inv``), DeliveryAddress1, DeliveryAddress2, DeliveryCity,
DeliveryPostalCode, DeliveryCountry, DeliveryState, Email, Name, Reference, Notes, TotalExclVat,
TotalInclVat, ShipmentDate (empty), TotalVat, TotalExclInvoiceDiscount, ItemCode, Quantity,
DiscountPercentage, Price, LineAmount, Color, StyleNo.

File choices (``;``, RFC 4180 quoting, UTF-8 without BOM, CRLF, formula-like text prefixed with
``'``): docs/formats/ezxml.md.
"""

from __future__ import annotations

import csv
import re
from datetime import datetime
from decimal import Decimal

from backoffice_export.connectors.ezxml.common import (
    OrderNumbers,
    consumer_first,
    matrix_values,
    money,
    prepared_lines,
    require_customer,
    rounded_totals,
)
from backoffice_export.mapping.dates import compact_datetime
from backoffice_export.mapping.money import invariant
from backoffice_export.mapping.text import checked_text
from backoffice_export.model import Order

ORDER_TYPE = "Inv"
EXTENSION = "csv"
SEPARATOR = ";"
LINE_END = "\r\n"
ENCODING = "utf-8"

COLUMNS = (
    "OrderNr", "OrderDate", "CustomerCode", "YourReference", "OrderType", "DeliveryAddress1", "DeliveryAddress2",
    "DeliveryCity", "DeliveryPostalCode", "DeliveryCountry", "DeliveryState", "Email", "Name", "Reference", "Notes",
    "TotalExclVat", "TotalInclVat", "ShipmentDate", "TotalVat", "TotalExclInvoiceDiscount", "ItemCode", "Quantity",
    "DiscountPercentage", "Price", "LineAmount", "Color", "StyleNo",
)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER_OR_PHONE = re.compile(r"[+-]?[0-9][0-9 ()./-]*")


def spreadsheet_safe(text: str) -> str:
    """Text a spreadsheet will not run as a formula (see the module docstring)."""
    if text.startswith(_FORMULA_START) and not _NUMBER_OR_PHONE.fullmatch(text):
        return f"'{text}"
    return text


def _text(value: object, field: str) -> str:
    return spreadsheet_safe(checked_text(value, field))


def _number(value: Decimal | None) -> str:
    return "" if value is None else invariant(value)


def build_rows(order: Order, numbers: OrderNumbers, exported_at: datetime) -> list[dict[str, str]]:
    """One dict per order line, keyed by ``COLUMNS``; every value already the text that is written."""
    customer = require_customer(order)
    lines = prepared_lines(order)
    excl, vat, incl = rounded_totals(order, lines)
    address = order.alternate_address
    header = {
        "OrderNr": checked_text(numbers.order_nr, "Order.OrderNr", required=True),
        "OrderDate": compact_datetime(exported_at),
        "CustomerCode": _text(customer.code, "Customer.Code"),
        "YourReference": _text(order.your_reference, "Order.YourReference"),
        "OrderType": ORDER_TYPE,
        "DeliveryAddress1": _text(address.address1 if address else None, "AlternateAddress.Address1"),
        "DeliveryAddress2": _text(address.address2 if address else None, "AlternateAddress.Address2"),
        "DeliveryCity": _text(address.city if address else None, "AlternateAddress.City"),
        "DeliveryPostalCode": _text(address.postal_code if address else None, "AlternateAddress.PostalCode"),
        "DeliveryCountry": _text(address.country_iso2 if address else None, "AlternateAddress.CountryIso2"),
        "DeliveryState": _text(address.state if address else None, "AlternateAddress.State"),
        "Email": _text(consumer_first(order.consumer_email, customer.email),
                       "Order.ConsumerEmail" if order.consumer_email else "Customer.Email"),
        "Name": _text(consumer_first(order.consumer_name, customer.name),
                      "Order.ConsumerName" if order.consumer_name else "Customer.Name"),
        "Reference": _text(order.reference, "Order.Reference"),
        "Notes": _text(order.notes, "Order.Notes"),
        "TotalExclVat": money(excl),
        "TotalInclVat": money(incl),
        "ShipmentDate": "",
        "TotalVat": money(vat),
        "TotalExclInvoiceDiscount": money(excl),
    }
    rows = []
    for prepared in lines:
        color, style_number, _ = matrix_values(prepared.item)
        rows.append({
            **header,
            "ItemCode": _text(prepared.item.code, "Item.Code"),
            "Quantity": str(prepared.quantity),
            "DiscountPercentage": _number(prepared.line.discount_percentage),
            "Price": money(prepared.price),
            "LineAmount": money(prepared.amount),
            "Color": _text(color, "Item.MatrixColorDescription"),
            "StyleNo": _text(style_number, "Item.MatrixStyleNumber"),
        })
    return rows


def render(order: Order, numbers: OrderNumbers, exported_at: datetime) -> bytes:
    import pandas as pd  # only this format needs pandas: the others stay light to import

    frame = pd.DataFrame(build_rows(order, numbers, exported_at), columns=list(COLUMNS), dtype=object)
    text = frame.to_csv(index=False, sep=SEPARATOR, quoting=csv.QUOTE_MINIMAL, quotechar='"', doublequote=True,
                        lineterminator=LINE_END)
    return text.encode(ENCODING)
