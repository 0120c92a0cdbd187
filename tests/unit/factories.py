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
    values: dict[str, Any] = {"kind": "pdf", "file_name": "order.pdf", "content": b"%PDF-1.4", "description": "Order"}
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
