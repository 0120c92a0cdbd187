"""Order -> EzXml CSV (``OrderFormat`` ``CSV``): one row per order line, the header repeated on each.

Pure: no database, no network; the export moment is passed in (the seed's "current date and
time"), so a test can fix it. Built with pandas, one column per seed row, in seed order.

The seed's table lost its "Source Field" names; ``OrderType``, ``ShipmentDate`` and ``StyleNo``
are the seed's own, the rest are this connector's choice:

==  ========================  ==================================================================
#   Column                    From / rule
==  ========================  ==================================================================
1   OrderNr                   Order.InternalOrderNr when ``UseInternalOrdersAsWebOrderNr``, else
                              ``Inv`` + the administration's next sequence number
2   OrderDate                 the moment of export, ``yyyyMMdd HH:mm`` (seed: "current date and time")
3   CustomerCode              Customer.Code
4   YourReference             Order.YourReference
5   OrderType                 ``Inv`` (hard-coded)
6   DeliveryAddress1          AlternateAddress.Address1
7   DeliveryAddress2          AlternateAddress.Address2
8   DeliveryCity              AlternateAddress.City
9   DeliveryPostalCode        AlternateAddress.PostalCode
10  DeliveryCountry           AlternateAddress.CountryIso2
11  DeliveryState             AlternateAddress.State
12  Email                     Order.ConsumerEmail if given, else Customer.Email
13  Name                      Order.ConsumerName if given, else Customer.Name
14  Reference                 Order.Reference
15  Notes                     Order.Notes
16  TotalExclVat              sum of the LineAmounts + freight excl. VAT (see ``common``)
17  TotalInclVat              TotalExclVat + TotalVat
18  ShipmentDate              always empty (seed "Known Limitations")
19  TotalVat                  sum of the lines' VAT + freight VAT (see ``common``)
20  TotalExclInvoiceDiscount  the same as TotalExclVat
21  ItemCode                  Item.Code (the variant's own code)
22  Quantity                  OrderLine.Quantity, rounded to a whole number (see ``common``)
23  DiscountPercentage        OrderLine.DiscountPercentage, as is (seed: CSV has line discounts)
24  Price                     unit price excl. VAT, ``net_round`` 2 decimals (see ``common``)
25  LineAmount                Quantity x Price as sent, less DiscountPercentage, ``net_round``
26  Color                     Item.MatrixColorDescription, for a matrix child only
27  StyleNo                   Item.MatrixStyleNumber, for a matrix child only
==  ========================  ==================================================================

Every amount is "rounded to 2 decimal places" in the seed, i.e. ``Math.Round``: ``net_round``.

The file, decided for this format (the seed does not say; EzXml's XML formats are UTF-8):

- Separator ``;``: the list separator of the Dutch spreadsheet locale the ERP's users open
  exports with, and a character addresses and amounts ("12.50") rarely contain.
- Quoting RFC 4180: a value is put in double quotes when it holds the separator, a quote, or a
  line break, and a quote inside is doubled. Text with ``;``, ``"`` or newlines therefore comes
  back unchanged through any CSV reader (``csv`` module, ``pandas.read_csv``); nothing is dropped.
- Encoding UTF-8 without a byte order mark, lines ending ``CRLF``. UTF-8 because Latin-1
  cannot hold ``€`` (``to_csv(encoding="iso-8859-1")`` raises on it) and dropping characters
  from names and addresses would corrupt the order; no BOM, because a BOM would become part of
  the first column name for importers that do not expect one.
- Formula-like text: a text value starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return is a formula when the file is opened in a spreadsheet (CSV injection). Such text gets
  a leading apostrophe, which spreadsheets show as "this is text". Values that are only a number
  or a phone number (``+31 20 123 4567``, ``-5``) are left alone: they carry no formula, and
  prefixing them would damage the phone numbers the ERP stores. Amounts this module writes are
  numbers and never prefixed.
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
