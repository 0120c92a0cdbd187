"""Load an order document into the order database, idempotently.

The document's *shape* is checked against the JSON Schema first; *business* problems (an
unknown customer or item, a missing price) are loaded as they are, so the connector reports
them per order, naming the field, exactly as it would for an order App4Sales itself stored.
Re-loading an order replaces its lines; an order that already went out stays sent.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from backoffice_export import export_state
from backoffice_export.db import schema as s

log = logging.getLogger(__name__)
SCHEMA_PATH = Path(__file__).with_name("order_document.schema.json")


class DocumentError(ValueError):
    """The document does not match the schema; the message says where."""


@functools.cache
def _validator() -> Any:
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text())
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def read_document(path: Path | str) -> dict[str, Any]:
    """Parse and validate a document; amounts become ``Decimal`` (never float)."""
    document = json.loads(Path(path).read_text(encoding="utf-8"), parse_float=Decimal)
    validate_document(document)
    return document


def _invalid_text(value: Any, path: str = "") -> list[str]:
    """Paths of strings no database can store: lone surrogates (invalid Unicode) or NUL."""
    if isinstance(value, str):
        if "\x00" in value or any("\ud800" <= c <= "\udfff" for c in value):
            return [f"{path or 'value'}: contains invalid Unicode (a lone surrogate or NUL character)"]
        return []
    if isinstance(value, Mapping):
        return [p for k, v in value.items() for p in _invalid_text(v, f"{path}/{k}".lstrip("/"))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _invalid_text(v, f"{path}/{i}".lstrip("/"))]
    return []


def validate_document(document: Mapping[str, Any]) -> None:
    """Check the document's shape; orders are checked one by one when they are loaded."""
    shell = {**document, "administrations": [
        {**a, "orders": []} if isinstance(a, Mapping) else a for a in document.get("administrations", [])
    ]} if isinstance(document, Mapping) and isinstance(document.get("administrations"), list) else document
    errors = sorted(_validator().iter_errors(shell), key=lambda e: list(e.absolute_path))
    lines = [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in errors[:20]]
    lines += _invalid_text(shell)[:20]
    if lines:
        raise DocumentError("order document does not match its schema:\n  " + "\n  ".join(lines))


@functools.cache
def _order_validator() -> Any:
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text())
    return jsonschema.Draft202012Validator({"$defs": schema["$defs"], "$ref": "#/$defs/order"},
                                           format_checker=jsonschema.FormatChecker())


def order_problems(order: Any) -> list[str]:
    """What makes one order unloadable, each naming the field; empty when it can be stored."""
    problems = [f"{'/'.join(str(p) for p in e.absolute_path) or 'order'}: {e.message}"
                for e in sorted(_order_validator().iter_errors(order), key=lambda e: list(e.absolute_path))]
    problems += _invalid_text(order)
    if problems:
        return problems
    checks = [("order_date", order.get("order_date"), _datetime), ("created_at", order.get("created_at"), _datetime),
              ("delivery_date", order.get("delivery_date"), _date)]
    checks += [(f"lines/{i}/delivery_date", line.get("delivery_date"), _date) for i, line in enumerate(order["lines"])]
    for field, value, parse in checks:
        try:
            parse(value)
        except ValueError as exc:
            problems.append(f"{field}: {value!r} is not a valid date: {exc}")
    return problems


def _amount(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _datetime(value: str | None) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def _wall_clock(value: str) -> datetime:
    """The order's own date and time where it was taken: an offset is dropped, not converted, so an
    order taken at 00:30 on the 21st in Amsterdam stays on the 21st for every ERP."""
    return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)


def _date(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _upsert(conn: sa.Connection, table: sa.Table, keys: dict[str, Any], values: dict[str, Any]) -> int:
    key_clause = sa.and_(*(table.c[k] == v for k, v in keys.items()))
    existing = conn.execute(sa.select(table.c.id).where(key_clause)).scalar_one_or_none()
    if existing is None:
        return conn.execute(table.insert().values(**keys, **values).returning(table.c.id)).scalar_one()
    if values:
        conn.execute(table.update().where(table.c.id == existing).values(**values))
    return existing


AMOUNT_FIELDS = {"quantity", "quantity_delivered", "price", "price_excl_vat", "original_price", "discount_percentage",
                 "vat_percentage", "shipping_costs_excl_vat", "shipping_costs_incl_vat", "total_excl_vat", "total_vat",
                 "total_incl_vat", "webshop_discount_percentage", "sales_price", "stock", "default_discount", "amount"}


LINE_FIELDS = tuple(c.name for c in s.order_lines.columns if c.name != "id")


def _plain(record: Mapping[str, Any], *skip: str) -> dict[str, Any]:
    out = {}
    for key, value in record.items():
        if key in skip:
            continue
        out[key] = _amount(value) if key in AMOUNT_FIELDS else value
    return out


def load_document(engine: sa.Engine, document: Mapping[str, Any]) -> dict[str, Any]:
    """Store everything in the document; return counts, and the orders refused with why.

    An order that cannot be stored as it is (a date that does not exist, an amount that is not
    a number) is refused alone, with a message naming the administration, the order and the
    field; the rest of the document is loaded.
    """
    validate_document(document)
    counts: dict[str, Any] = {"administrations": 0, "orders": 0, "lines": 0, "rejected": []}
    reloaded: list[int] = []
    with engine.begin() as conn:
        for adm in document["administrations"]:
            admin_id = _upsert(conn, s.administrations, {"code": adm["code"]}, {
                "application_name": adm["application_name"], "connector": adm["connector"],
                "connection_id": adm.get("connection_id"), "settings": adm.get("settings", {}),
                "default_currency": adm.get("default_currency"),
            })
            counts["administrations"] += 1
            scope = {"administration_id": admin_id}
            for pl in adm.get("price_lists", []):
                _upsert(conn, s.price_lists, {**scope, "code": pl["code"]}, {"currency_iso": pl.get("currency_iso")})
            reps = {r["code"]: _upsert(conn, s.sales_reps, {**scope, "code": r["code"]}, _plain(r, "code"))
                    for r in adm.get("sales_reps", [])}
            customers = {}
            for c in adm.get("customers", []):
                cid = _upsert(conn, s.customers, {**scope, "code": c["code"]}, _plain(c, "code", "contacts"))
                conn.execute(s.customer_contacts.delete().where(s.customer_contacts.c.customer_id == cid))
                for contact in c.get("contacts", []):
                    conn.execute(s.customer_contacts.insert().values(customer_id=cid, **contact))
                customers[c["code"]] = cid
            items = {}
            for i in adm.get("items", []):
                matrix = i.get("matrix_child") or {}
                items[i["code"]] = _upsert(conn, s.items, {**scope, "code": i["code"]}, {
                    **_plain(i, "code", "matrix_child"), "is_matrix_child": bool(matrix),
                    "matrix_color_description": matrix.get("color_description"),
                    "matrix_style_number": matrix.get("style_number"),
                    "matrix_color_sorting": matrix.get("color_sorting"),
                })
            for position, order in enumerate(adm.get("orders", [])):
                problems = order_problems(order)
                if problems:
                    number = order.get("internal_order_nr", f"#{position + 1}") if isinstance(order, Mapping) else \
                        f"#{position + 1}"
                    message = f"order {number} ({adm['code']}) not loaded: " + "; ".join(problems)
                    log.error("%s", message)
                    counts["rejected"].append(message)
                    continue
                reloaded.append(_load_order(conn, admin_id, order, customers, reps, items))
                counts["orders"] += 1
                counts["lines"] += len(order["lines"])
    export_state.track_new_orders(engine)
    for order_id in reloaded:
        export_state.reset_after_reload(engine, order_id)
    return counts


def _lookup(conn: sa.Connection, table: sa.Table, admin_id: int, code: str | None, known: dict[str, int]) -> int | None:
    if code is None:
        return None
    if code not in known:
        found = conn.execute(
            sa.select(table.c.id).where(table.c.administration_id == admin_id, table.c.code == code)
        ).scalar_one_or_none()
        if found is None:
            log.warning("%s %r is not in the order database; the order will fail naming it", table.name, code)
            return None
        known[code] = found
    return known[code]


def _load_order(conn: sa.Connection, admin_id: int, order: Mapping[str, Any], customers: dict[str, int],
                reps: dict[str, int], items: dict[str, int]) -> int:
    internal_nr = str(order["internal_order_nr"])
    existing = conn.execute(
        sa.select(s.orders.c.id, s.orders.c.order_nr, s.orders.c.alternate_address_id).where(
            s.orders.c.administration_id == admin_id, s.orders.c.internal_order_nr == internal_nr)
    ).one_or_none()
    address_id = None
    if order.get("alternate_address"):
        address = {"administration_id": admin_id, **order["alternate_address"]}
        if existing is not None and existing.alternate_address_id is not None:
            address_id = existing.alternate_address_id
            conn.execute(s.addresses.update().where(s.addresses.c.id == address_id).values(**address))
        else:
            address_id = conn.execute(s.addresses.insert().values(**address).returning(s.addresses.c.id)).scalar_one()
    order_date = _wall_clock(order["order_date"])
    values = {
        **_plain(order, "internal_order_nr", "customer", "sales_rep", "lines", "alternate_address", "payment",
                 "attachments", "order_date", "created_at", "delivery_date"),
        "order_date": order_date,
        "created_at": _datetime(order.get("created_at")) or _datetime(order["order_date"]),
        "delivery_date": _date(order.get("delivery_date")),
        "customer_id": _lookup(conn, s.customers, admin_id, order.get("customer"), customers),
        "sales_rep_id": _lookup(conn, s.sales_reps, admin_id, order.get("sales_rep"), reps),
        "alternate_address_id": address_id,
    }
    if existing is None:
        order_id = conn.execute(
            s.orders.insert().values(administration_id=admin_id, internal_order_nr=internal_nr, **values)
            .returning(s.orders.c.id)
        ).scalar_one()
    else:
        order_id = existing.id
        if existing.order_nr and "order_nr" not in order:
            values.pop("order_nr", None)  # keep a number the export already gave it
        conn.execute(s.orders.update().where(s.orders.c.id == order_id).values(**values))
        for table in (s.order_lines, s.payment_details, s.attachments):
            conn.execute(table.delete().where(table.c.order_id == order_id))
    lines = [
        {**dict.fromkeys(LINE_FIELDS), **_plain(line, "item", "delivery_date"), "order_id": order_id,
         "line_index": index, "item_id": _lookup(conn, s.items, admin_id, line["item"], items),
         "delivery_date": _date(line.get("delivery_date"))}
        for index, line in enumerate(order["lines"])
    ]
    if lines:
        conn.execute(s.order_lines.insert(), lines)
    if order.get("payment"):
        conn.execute(s.payment_details.insert().values(order_id=order_id, **_plain(order["payment"])))
    for attachment in order.get("attachments", []):
        conn.execute(s.attachments.insert().values(
            order_id=order_id, kind=attachment["kind"], file_name=attachment["file_name"],
            description=attachment.get("description"), content=base64.b64decode(attachment["content_base64"]),
        ))
    return order_id
