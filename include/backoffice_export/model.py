"""The order as every connector sees it: plain, immutable, already joined.

Connectors map these objects without touching the database, so their mapping stays a pure
function (order in, payload out) that tests can drive row by row. Field names follow the
App4Sales names the seeds use (``Order.AlternateAddress`` is ``Order.alternate_address``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol


@dataclass(frozen=True)
class Administration:
    id: int
    code: str
    application_name: str
    connector: str
    connection_id: str | None
    settings: dict[str, Any]
    default_currency: str | None = None

    def connection_for(self, erp: str) -> str:
        """The Airflow connection of this administration's ERP; naming none is the
        administration's data, and fails every order of it (``SettingsError``)."""
        if not self.connection_id:
            from backoffice_export.errors import SettingsError

            raise SettingsError(f"administration {self.code} names no Airflow connection for {erp}")
        return self.connection_id


@dataclass(frozen=True)
class Contact:
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    is_main: bool = False

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)


@dataclass(frozen=True)
class Customer:
    id: int
    code: str
    name: str | None = None
    guid: str | None = None
    email: str | None = None
    phone: str | None = None
    address1: str | None = None
    address2: str | None = None
    postal_code: str | None = None
    city: str | None = None
    state: str | None = None
    country_iso2: str | None = None
    price_list_code: str | None = None
    price_list_currency: str | None = None
    vat_liable: bool = True
    extra_data: str | None = None
    delivery_method: str | None = None
    default_discount: Decimal | None = None
    contacts: tuple[Contact, ...] = ()

    @property
    def main_contact(self) -> Contact | None:
        return next((c for c in self.contacts if c.is_main), self.contacts[0] if self.contacts else None)


@dataclass(frozen=True)
class Item:
    id: int
    code: str
    description: str | None = None
    model_description: str | None = None
    ean: str | None = None
    vat_percentage: Decimal | None = None
    sales_price: Decimal | None = None
    stock: Decimal | None = None
    extra_data: dict[str, Any] | None = None
    is_matrix_child: bool = False
    matrix_color_description: str | None = None
    matrix_style_number: str | None = None
    matrix_color_sorting: int | None = None


@dataclass(frozen=True)
class Address:
    id: int
    guid: str | None = None
    name: str | None = None
    contact: str | None = None
    address1: str | None = None
    address2: str | None = None
    postal_code: str | None = None
    city: str | None = None
    state: str | None = None
    country_iso2: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class SalesRep:
    id: int
    code: str
    user_id: int | None = None
    user_name: str | None = None
    full_name: str | None = None
    email: str | None = None
    warehouse: str | None = None


@dataclass(frozen=True)
class PaymentDetails:
    payment_id: str | None = None
    method: str | None = None
    status: str | None = None
    amount: Decimal | None = None


@dataclass(frozen=True)
class Attachment:
    kind: str
    file_name: str
    content: bytes
    description: str | None = None


@dataclass(frozen=True)
class OrderLine:
    line_index: int
    item: Item | None
    quantity: Decimal
    price: Decimal | None = None
    price_excl_vat: Decimal | None = None
    original_price: Decimal | None = None
    discount_percentage: Decimal | None = None
    vat_percentage: Decimal | None = None
    quantity_delivered: Decimal | None = None
    instruction: str | None = None
    description: str | None = None
    delivery_date: date | None = None

    @property
    def effective_vat_percentage(self) -> Decimal | None:
        """The line's own VAT rate, else the item's."""
        if self.vat_percentage is not None:
            return self.vat_percentage
        return self.item.vat_percentage if self.item else None


@dataclass(frozen=True)
class Order:
    id: int
    administration: Administration
    internal_order_nr: str
    order_date: datetime
    created_at: datetime
    customer: Customer | None
    lines: tuple[OrderLine, ...] = ()
    guid: str | None = None
    order_nr: str | None = None
    order_type: str | None = None
    sales_rep: SalesRep | None = None
    alternate_address: Address | None = None
    delivery_date: date | None = None
    your_reference: str | None = None
    reference: str | None = None
    notes: str | None = None
    description1: str | None = None
    description2: str | None = None
    description3: str | None = None
    signature: str | None = None
    delivery_method_code: str | None = None
    consumer_name: str | None = None
    consumer_email: str | None = None
    consumer_phone: str | None = None
    is_dropshipment: bool = False
    is_paid: bool = False
    prices_include_vat: bool = False
    shipping_costs_excl_vat: Decimal | None = None
    shipping_costs_incl_vat: Decimal | None = None
    total_excl_vat: Decimal | None = None
    total_vat: Decimal | None = None
    total_incl_vat: Decimal | None = None
    webshop_discount_percentage: Decimal | None = None
    payment: PaymentDetails | None = None
    attachments: tuple[Attachment, ...] = field(default=())
    # How many times an export run has claimed this order, this time included: above 1 an
    # earlier attempt may have reached the ERP, so an API connector looks before it sends.
    export_attempts: int = 1
    # How far a delivery in several requests got when the order was loaded (a connector's own JSON).
    export_progress: dict[str, Any] | None = field(default=None, compare=False)

    @property
    def label(self) -> str:
        """How logs and stored errors name the order: administration and App4Sales number."""
        return order_label(self.internal_order_nr, self.administration.code)


@dataclass(frozen=True)
class OrderHead:
    """What the runner knows of an order before it is loaded whole: enough to name it, number it,
    deliver what was built for it and record its outcome."""

    id: int
    internal_order_nr: str
    order_nr: str | None
    administration_id: int
    administration_code: str
    export_attempts: int = 1

    @property
    def label(self) -> str:
        return order_label(self.internal_order_nr, self.administration_code)


class OrderRef(Protocol):
    """What a connector's ``deliver`` may read of an order: everything else it sends was made by
    its ``build``. An ``Order`` and an ``OrderHead`` both are one."""

    @property
    def id(self) -> int: ...

    @property
    def internal_order_nr(self) -> str: ...

    @property
    def export_attempts(self) -> int: ...

    @property
    def label(self) -> str: ...


def order_label(internal_order_nr: str, administration_code: str) -> str:
    return f"order {internal_order_nr} ({administration_code})"
