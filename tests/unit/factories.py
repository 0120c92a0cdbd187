"""Small builders for the model dataclasses: every argument has a plain default, tests override what they test."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from backoffice_export.model import (
    Address,
    Administration,
    Attachment,
    Customer,
    Item,
    Order,
    OrderLine,
    PaymentDetails,
)

_DEFAULT = object()


def administration(**overrides: Any) -> Administration:
    values: dict[str, Any] = {
        "id": 1,
        "code": "ADM1",
        "application_name": "demo",
        "connector": "reflecta",
        "connection_id": "reflecta_ftp",
        "settings": {"CompanyCode": "RFL01"},
        "default_currency": "EUR",
    }
    values.update(overrides)
    return Administration(**values)


def customer(**overrides: Any) -> Customer:
    values: dict[str, Any] = {"id": 10, "code": "CUST001", "name": "Jansen Mode B.V."}
    values.update(overrides)
    return Customer(**values)


def item(code: str = "ITEM-1", extra_data: Any = _DEFAULT, **overrides: Any) -> Item:
    if extra_data is _DEFAULT:
        extra_data = {"BackofficeItemCode": f"RF-{code}"}
    values: dict[str, Any] = {"id": 100, "code": code, "extra_data": extra_data, "vat_percentage": Decimal(21)}
    values.update(overrides)
    return Item(**values)


def line(index: int = 0, *, item_: Item | object | None = _DEFAULT, quantity: Decimal | str | int = 1,
         price: Decimal | str | int | None = "10.00", **overrides: Any) -> OrderLine:
    values: dict[str, Any] = {
        "line_index": index,
        "item": item(f"ITEM-{index + 1}") if item_ is _DEFAULT else item_,
        "quantity": Decimal(str(quantity)),
        "price": None if price is None else Decimal(str(price)),
    }
    values.update(overrides)
    return OrderLine(**values)


def address(address1: str | None = "Kerkstraat 42-f3", **overrides: Any) -> Address:
    values: dict[str, Any] = {
        "id": 50,
        "address1": address1,
        "postal_code": "1017 GM",
        "city": "Amsterdam",
        "country_iso2": "NL",
    }
    values.update(overrides)
    return Address(**values)


def payment(**overrides: Any) -> PaymentDetails:
    values: dict[str, Any] = {"payment_id": "tr_123", "method": "ideal", "status": "paid", "amount": Decimal("60.50")}
    values.update(overrides)
    return PaymentDetails(**values)


def attachment(**overrides: Any) -> Attachment:
    values: dict[str, Any] = {"kind": "pdf", "file_name": "order.pdf", "content": pdf(), "description": "Order"}
    values.update(overrides)
    return Attachment(**values)


def order(*, lines: tuple[OrderLine, ...] | list[OrderLine] | None = None,
          customer_: Customer | object | None = _DEFAULT, administration_: Administration | None = None,
          **overrides: Any) -> Order:
    values: dict[str, Any] = {
        "id": 1000,
        "administration": administration_ or administration(),
        "internal_order_nr": "A4S-1000",
        "order_date": datetime(2024, 3, 15, 9, 30),
        "created_at": datetime(2024, 3, 15, 9, 31),
        "customer": customer() if customer_ is _DEFAULT else customer_,
        "lines": tuple(lines) if lines is not None else (line(0),),
        "order_nr": "WEB5001",
        "delivery_date": date(2024, 4, 2),
    }
    values.update(overrides)
    return Order(**values)


def pdf(text: str = "App4Sales order", *, extra: bytes = b"") -> bytes:
    """A small, valid one-page PDF (cross-reference table and all) that says ``text``; ``extra``
    bytes (any, binary too) ride along in a stream object of their own."""
    stream = f"BT /F1 18 Tf 72 760 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    if extra:
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(extra), extra))
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
