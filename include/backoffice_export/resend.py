"""Resend chosen orders of an administration: the one deliberate way an order goes out twice.

Orders are named by App4Sales number or by backoffice order number. Each named order is made
pending again and sent in the same task, and the result is reported per number: sent (with
the ERP's number and where it went), already at the ERP (the connector found it there and sent
nothing again), failed (with the stored reason), or not found. An administration that does not
exist is refused before anything is looked up, with the administrations that do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from backoffice_export import export_state
from backoffice_export.connectors.remarks import is_already_at_erp
from backoffice_export.db import schema as s
from backoffice_export.export import send_chunk
from backoffice_export.export_state import ClaimOwner


class UnknownAdministration(ValueError):
    """The administration named for a resend does not exist (a typo, most likely)."""


@dataclass(frozen=True)
class ResendResult:
    number: str
    outcome: str  # "sent as …", "already at the ERP as …", "failed: …", "not found …", or the state it was left in
    ok: bool = False  # the ERP holds the order now

    def __str__(self) -> str:
        return f"{self.number}: {self.outcome}"


def check_administration(engine: sa.Engine, administration: str) -> None:
    """Raise ``UnknownAdministration``, naming the ones that exist, unless ``administration`` does."""
    a = s.administrations
    with engine.connect() as conn:
        codes = conn.execute(sa.select(a.c.code).order_by(a.c.code)).scalars().all()
    if administration not in codes:
        raise UnknownAdministration(f"administration {administration!r} does not exist; the administrations are: "
                                    + (", ".join(codes) or "none"))


def find_orders(engine: sa.Engine, administration: str, numbers: Sequence[str]) -> dict[str, int]:
    """Map each number (App4Sales number first, else backoffice number) to its order id."""
    o, a = s.orders, s.administrations
    wanted = [str(n).strip() for n in numbers if str(n).strip()]
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(o.c.id, o.c.internal_order_nr, o.c.order_nr).join(a, a.c.id == o.c.administration_id)
            .where(a.c.code == administration,
                   sa.or_(o.c.internal_order_nr.in_(wanted), o.c.order_nr.in_(wanted)))
        ).all()
    by_internal = {r.internal_order_nr: r.id for r in rows}
    by_backoffice = {r.order_nr: r.id for r in rows if r.order_nr}
    return {n: by_internal.get(n, by_backoffice.get(n)) for n in wanted if n in by_internal or n in by_backoffice}


def resend(engine: sa.Engine, administration: str, numbers: Sequence[str], owner: ClaimOwner) -> list[ResendResult]:
    check_administration(engine, administration)
    export_state.track_new_orders(engine)
    found = find_orders(engine, administration, numbers)
    ids = sorted(set(found.values()))
    export_state.request_resend(engine, ids)
    if ids:
        send_chunk(engine, ids, owner)
    states = {r.order_id: r for r in export_state.states(engine, order_ids=ids)} if ids else {}
    results = []
    for number in [str(n).strip() for n in numbers if str(n).strip()]:
        order_id = found.get(number)
        if order_id is None:
            results.append(ResendResult(number, f"not found in administration {administration}"))
            continue
        row = states[order_id]
        if row.state == export_state.SENT and is_already_at_erp(row.remark):
            results.append(ResendResult(number, f"already at the ERP as {row.backoffice_order_nr} -> {row.destination} "
                                                "(found there, nothing sent again)", ok=True))
        elif row.state == export_state.SENT:
            results.append(ResendResult(number, f"sent as {row.backoffice_order_nr} -> {row.destination}", ok=True))
        elif row.state == export_state.FAILED:
            results.append(ResendResult(number, f"failed: {row.error}"))
        else:
            results.append(ResendResult(number, f"{row.state}: another run holds it; try again when it is done"))
    return results
