"""Load a chunk of orders, fully joined, with a fixed number of queries.

A chunk is a few hundred orders of one administration; loading it costs one query per table
whatever its size, and never the whole order table (memory stays flat as the backlog grows).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from backoffice_export.db import schema as s
from backoffice_export.model import (
    Address,
    Administration,
    Attachment,
    Contact,
    Customer,
    Item,
    Order,
    OrderHead,
    OrderLine,
    PaymentDetails,
    SalesRep,
)


def _records(conn: sa.Connection, statement: sa.Select) -> Iterator[dict[str, Any]]:
    """Each row as a plain dict, column name to value."""
    for row in conn.execute(statement):
        yield dict(row._mapping)


def _by_id(conn: sa.Connection, table: sa.Table, ids: Iterable[int | None]) -> dict[int, dict[str, Any]]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return {record["id"]: record for record in _records(conn, sa.select(table).where(table.c.id.in_(wanted)))}


def _without(record: dict[str, Any], *names: str) -> dict[str, Any]:
    for name in names:
        del record[name]
    return record


def load_administration(conn: sa.Connection, administration_id: int) -> Administration:
    row = conn.execute(sa.select(s.administrations).where(s.administrations.c.id == administration_id)).one()
    return Administration(
        id=row.id,
        code=row.code,
        application_name=row.application_name,
        connector=row.connector,
        connection_id=row.connection_id,
        settings=dict(row.settings or {}),
        default_currency=row.default_currency,
    )


def order_heads(engine: sa.Engine, order_ids: Sequence[int]) -> list[OrderHead]:
    """Id, numbers, administration and attempts of these orders, in id order: one light query."""
    if not order_ids:
        return []
    o, a, t = s.orders, s.administrations, s.export_state
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(o.c.id, o.c.internal_order_nr, o.c.order_nr, o.c.administration_id, a.c.code,
                      sa.func.coalesce(t.c.attempts, 1))
            .join(a, a.c.id == o.c.administration_id).outerjoin(t, t.c.order_id == o.c.id)
            .where(o.c.id.in_(list(order_ids))).order_by(o.c.id))
        return [OrderHead(*row[:5], export_attempts=max(1, row[5])) for row in rows]


def administration(engine: sa.Engine, administration_id: int) -> Administration:
    with engine.connect() as conn:
        return load_administration(conn, administration_id)


@dataclass
class Known:
    """Items, customers and sales reps a chunk already loaded for earlier slices, by id.

    A chunk is one administration: its slices share most items, customers and reps. Loaded
    once, they are what the chunk's first slice saw, as when the chunk was loaded whole.
    """

    items: dict[int, Item] = field(default_factory=dict)
    customers: dict[int, Customer] = field(default_factory=dict)
    reps: dict[int, SalesRep] = field(default_factory=dict)


def load_orders(engine: sa.Engine, order_ids: Sequence[int], *, known: Known | None = None) -> list[Order]:
    """The orders with these ids, in id order, each with everything a connector may read.

    ``known``: what earlier slices of the same chunk loaded (filled in as it goes).
    """
    if not order_ids:
        return []
    known = known if known is not None else Known()
    with engine.connect() as conn:
        order_rows = list(_records(conn, sa.select(s.orders).where(s.orders.c.id.in_(order_ids))
                                   .order_by(s.orders.c.id)))
        ids = [r["id"] for r in order_rows]
        admins = {aid: load_administration(conn, aid) for aid in {r["administration_id"] for r in order_rows}}

        line_rows = list(_records(conn, sa.select(s.order_lines).where(s.order_lines.c.order_id.in_(ids))
                                  .order_by(s.order_lines.c.order_id, s.order_lines.c.line_index)))
        item_rows = _by_id(conn, s.items, (r["item_id"] for r in line_rows if r["item_id"] not in known.items))
        customer_rows = _by_id(conn, s.customers,
                               (r["customer_id"] for r in order_rows if r["customer_id"] not in known.customers))
        rep_rows = _by_id(conn, s.sales_reps,
                          (r["sales_rep_id"] for r in order_rows if r["sales_rep_id"] not in known.reps))
        address_rows = _by_id(conn, s.addresses, (r["alternate_address_id"] for r in order_rows))

        contacts: dict[int, list[Contact]] = defaultdict(list)
        if customer_rows:
            for record in _records(conn, sa.select(s.customer_contacts)
                                   .where(s.customer_contacts.c.customer_id.in_(customer_rows))
                                   .order_by(s.customer_contacts.c.id)):
                customer_id = record["customer_id"]
                contacts[customer_id].append(Contact(**_without(record, "id", "customer_id")))

        currencies: dict[tuple[int, str], str | None] = {}
        if customer_rows:
            for row in conn.execute(
                sa.select(s.price_lists).where(s.price_lists.c.administration_id.in_(list(admins)))
            ):
                currencies[(row.administration_id, row.code)] = row.currency_iso

        payments = {
            record.pop("order_id"): PaymentDetails(**record)
            for record in _records(conn, sa.select(s.payment_details).where(s.payment_details.c.order_id.in_(ids)))
        }
        states = {order_id: (attempts, progress) for order_id, attempts, progress in conn.execute(
            sa.select(s.export_state.c.order_id, s.export_state.c.attempts, s.export_state.c.progress)
            .where(s.export_state.c.order_id.in_(ids)))}
        files: dict[int, list[Attachment]] = defaultdict(list)
        for record in _records(conn, sa.select(s.attachments).where(s.attachments.c.order_id.in_(ids))
                               .order_by(s.attachments.c.id)):
            order_id = record["order_id"]
            files[order_id].append(Attachment(**_without(record, "id", "order_id")))

    items = known.items
    items.update((i, Item(**_without(r, "administration_id"))) for i, r in item_rows.items())
    customers = known.customers
    for i, r in customer_rows.items():
        r["price_list_currency"] = currencies.get((r["administration_id"], r["price_list_code"] or ""))
        r["contacts"] = tuple(contacts[i])
        customers[i] = Customer(**_without(r, "administration_id"))
    reps = known.reps
    reps.update((i, SalesRep(**_without(r, "administration_id"))) for i, r in rep_rows.items())
    addresses = {i: Address(**_without(r, "administration_id")) for i, r in address_rows.items()}
    lines: dict[int, list[OrderLine]] = defaultdict(list)
    for r in line_rows:
        order_id, item_id = r.pop("order_id"), r.pop("item_id")
        del r["id"]
        r["item"] = items.get(item_id)
        lines[order_id].append(OrderLine(**r))

    orders = []
    for r in order_rows:
        order_id = r["id"]
        r["administration"] = admins[r.pop("administration_id")]
        r["customer"] = customers.get(r.pop("customer_id"))
        r["sales_rep"] = reps.get(r.pop("sales_rep_id"))
        r["alternate_address"] = addresses.get(r.pop("alternate_address_id"))
        r["lines"] = tuple(lines[order_id])
        r["payment"] = payments.get(order_id)
        r["attachments"] = tuple(files[order_id])
        attempts, progress = states.get(order_id, (None, None))
        r["export_attempts"] = max(1, attempts or 1)
        r["export_progress"] = json.loads(progress) if progress else None
        orders.append(Order(**r))
    return orders


def set_order_nr(engine: sa.Engine, order_id: int, order_nr: str | None) -> None:
    """Write the backoffice order number back to the order (``None`` resets it)."""
    with engine.begin() as conn:
        conn.execute(sa.update(s.orders).where(s.orders.c.id == order_id).values(order_nr=order_nr))


def set_order_nrs(engine: sa.Engine, numbers: dict[int, str]) -> None:
    """Write many backoffice order numbers back in one transaction."""
    if not numbers:
        return
    with engine.begin() as conn:
        conn.execute(
            sa.update(s.orders).where(s.orders.c.id == sa.bindparam("order_id")).values(order_nr=sa.bindparam("nr")),
            [{"order_id": order_id, "nr": nr} for order_id, nr in numbers.items()],
        )
