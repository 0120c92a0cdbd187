"""Generate a benchmark backlog straight into the order database, fast and deterministic.

N orders of ~20 lines, spread evenly over the given targets (an administration each). Rows are
written with bulk inserts, the lines with one INSERT ... SELECT, rather than through the order
document loader: at 100,000 orders (2 million lines) its per-order upserts would take longer than
the export being measured.
The data is valid for every connector, so each order is expected to be sent.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from backoffice_export import export_state
from backoffice_export.db import schema as s

LINES_PER_ORDER = 20
CUSTOMERS, ITEMS = 50, 200
# A minimal valid PDF (with its cross-reference table): AccountView parses the order PDF it attaches.
PDF = base64.b64decode(
    "JVBERi0xLjQKMSAwIG9iago8PCAvVHlwZSAvQ2F0YWxvZyAvUGFnZXMgMiAwIFIgPj4KZW5kb2JqCjIgMCBvYmoKPDwgL1R5cGUgL1Bh"
    "Z2VzIC9LaWRzIFszIDAgUl0gL0NvdW50IDEgPj4KZW5kb2JqCjMgMCBvYmoKPDwgL1R5cGUgL1BhZ2UgL1BhcmVudCAyIDAgUiAvTWVk"
    "aWFCb3ggWzAgMCA1OTUgODQyXSAvQ29udGVudHMgNCAwIFIgL1Jlc291cmNlcyA8PCAvRm9udCA8PCAvRjEgNSAwIFIgPj4gPj4gPj4K"
    "ZW5kb2JqCjQgMCBvYmoKPDwgL0xlbmd0aCA0NiA+PgpzdHJlYW0KQlQgL0YxIDE4IFRmIDcyIDc2MCBUZCAoQXBwNFNhbGVzIG9yZGVy"
    "KSBUaiBFVAplbmRzdHJlYW0KZW5kb2JqCjUgMCBvYmoKPDwgL1R5cGUgL0ZvbnQgL1N1YnR5cGUgL1R5cGUxIC9CYXNlRm9udCAvSGVs"
    "dmV0aWNhID4+CmVuZG9iagp4cmVmCjAgNgowMDAwMDAwMDAwIDY1NTM1IGYgCjAwMDAwMDAwMDkgMDAwMDAgbiAKMDAwMDAwMDA1OCAw"
    "MDAwMCBuIAowMDAwMDAwMTE1IDAwMDAwIG4gCjAwMDAwMDAyNDEgMDAwMDAgbiAKMDAwMDAwMDMzNyAwMDAwMCBuIAp0cmFpbGVyCjw8"
    "IC9TaXplIDYgL1Jvb3QgMSAwIFIgPj4Kc3RhcnR4cmVmCjQwNwolJUVPRgo="
)


@dataclass(frozen=True)
class Target:
    """One administration of the benchmark: a connector (and format) with its ERP endpoint."""

    name: str
    connector: str
    connection_id: str
    settings: dict[str, Any] = field(default_factory=dict)


def _rows(n: int, make) -> Iterator[dict[str, Any]]:
    for i in range(n):
        yield make(i)


def _insert(conn: sa.Connection, table: sa.Table, rows: Iterator[dict[str, Any]], batch: int = 5000) -> None:
    buffer: list[dict[str, Any]] = []
    for row in rows:
        buffer.append(row)
        if len(buffer) >= batch:
            conn.execute(table.insert(), buffer)
            buffer = []
    if buffer:
        conn.execute(table.insert(), buffer)


def _line_template() -> sa.Subquery:
    """Line ``j`` of every order: its index and amounts, as a query of 20 literal rows."""
    return sa.union_all(*(
        sa.select(sa.literal(j).label("j"), sa.literal(Decimal(1 + j % 5), s.Amount()).label("quantity"),
                  sa.literal(Decimal("19.95"), s.Amount()).label("price"),
                  sa.literal(Decimal("24.95"), s.Amount()).label("original_price"),
                  sa.literal(Decimal("20"), s.Amount()).label("discount_percentage"),
                  sa.literal(Decimal(21), s.Amount()).label("vat_percentage"))
        for j in range(LINES_PER_ORDER))).subquery("line")


def generate(engine: sa.Engine, targets: list[Target], orders: int) -> dict[str, int]:
    """Write ``orders`` orders spread over ``targets``; return the number per target."""
    per_target = {t.name: orders // len(targets) + (1 if i < orders % len(targets) else 0)
                  for i, t in enumerate(targets)}
    start = datetime(2026, 11, 1, 8, 0)
    o, line = s.orders, _line_template()
    with engine.begin() as conn:
        for target in targets:
            admin_id = conn.execute(s.administrations.insert().values(
                code=f"bench-{target.name}", application_name=f"Bench{target.name.replace('-', '')}",
                connector=target.connector, connection_id=target.connection_id, settings=target.settings,
                default_currency="EUR").returning(s.administrations.c.id)).scalar_one()
            conn.execute(s.price_lists.insert().values(administration_id=admin_id, code="EUR", currency_iso="EUR"))
            rep_id = conn.execute(s.sales_reps.insert().values(
                administration_id=admin_id, code="rep", user_id=7, user_name="bench.rep", full_name="Bench Rep",
                warehouse="MAIN").returning(s.sales_reps.c.id)).scalar_one()
            first_customer = conn.execute(sa.select(sa.func.coalesce(sa.func.max(s.customers.c.id), 0))).scalar_one()
            _insert(conn, s.customers, _rows(CUSTOMERS, lambda i, a=admin_id: {
                "administration_id": a, "code": f"C{i:04d}", "guid": str(uuid.UUID(int=a * 100000 + i)),
                "name": f"Customer {i} B.V.", "email": f"c{i}@example.test", "phone": "+31 20 123 45 67",
                "address1": f"Hoofdstraat {i + 1}", "postal_code": "1011 AA", "city": "Amsterdam",
                "country_iso2": "NL", "price_list_code": "EUR", "vat_liable": True, "extra_data": "Bench customer",
                "delivery_method": "Post"}))
            _insert(conn, s.customer_contacts, _rows(CUSTOMERS, lambda i, c=first_customer: {
                "customer_id": c + 1 + i, "first_name": "Eva", "last_name": f"Jansen {i}", "is_main": True}))
            first_item = conn.execute(sa.select(sa.func.coalesce(sa.func.max(s.items.c.id), 0))).scalar_one()
            _insert(conn, s.items, _rows(ITEMS, lambda i, a=admin_id: {
                "administration_id": a, "code": f"ITEM-{i:04d}", "description": f"Item {i} cotton shirt",
                "model_description": f"Model {i // 10}", "ean": f"87{i:011d}", "vat_percentage": Decimal(21),
                "sales_price": Decimal("24.95"), "stock": Decimal(100), "is_matrix_child": i % 2 == 0,
                "matrix_color_description": "Red" if i % 2 == 0 else None,
                "matrix_style_number": f"ST{i // 10}" if i % 2 == 0 else None,
                "matrix_color_sorting": i % 7 if i % 2 == 0 else None,
                "extra_data": {"BackofficeItemCode": f"BO{i:04d}", "ItemDimension": "RED", "ItemDimensionSize": "M",
                               "SbaItemCode": f"SBA{i:04d}", "Size": "M"}}))
            first_order = conn.execute(sa.select(sa.func.coalesce(sa.func.max(s.orders.c.id), 0))).scalar_one()
            count = per_target[target.name]
            _insert(conn, s.orders, _rows(count, lambda i, a=admin_id, r=rep_id, c=first_customer: {
                "administration_id": a, "guid": str(uuid.UUID(int=(a << 64) + i)), "internal_order_nr": f"{i + 1}",
                "customer_id": c + 1 + i % CUSTOMERS, "sales_rep_id": r, "order_date": start + timedelta(minutes=i),
                "created_at": start + timedelta(minutes=i), "delivery_date": (start + timedelta(days=7)).date(),
                "your_reference": f"PO-{i}", "reference": f"REF-{i}", "notes": "Deliver before noon",
                "order_type": "Default", "prices_include_vat": False, "is_paid": False,
                "shipping_costs_excl_vat": Decimal("6.95"), "shipping_costs_incl_vat": Decimal("8.41")}))
            # 20 lines per order in one INSERT ... SELECT: 2 million rows at 100,000 orders in seconds.
            conn.execute(s.order_lines.insert().from_select(
                ["order_id", "line_index", "item_id", "quantity", "price", "original_price", "discount_percentage",
                 "vat_percentage"],
                sa.select(o.c.id, line.c.j,
                          first_item + 1 + ((o.c.id - first_order - 1) * 7 + line.c.j) % ITEMS,
                          line.c.quantity, line.c.price, line.c.original_price, line.c.discount_percentage,
                          line.c.vat_percentage)
                .select_from(o.join(line, sa.true()))
                .where(o.c.administration_id == admin_id, o.c.id > first_order)))
            if target.connector == "accountview":
                _insert(conn, s.attachments, _rows(count, lambda i, o=first_order: {
                    "order_id": o + 1 + i, "kind": "order_pdf", "file_name": f"order-{i + 1}.pdf",
                    "description": "Order confirmation", "content": PDF}))
    export_state.track_new_orders(engine)
    return per_target
