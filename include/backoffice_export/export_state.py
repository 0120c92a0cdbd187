"""Export state per order: pending -> claimed -> sent | failed.

Why claims: a chunk task first *claims* its orders in one atomic statement (on PostgreSQL the
rows are picked with ``FOR UPDATE SKIP LOCKED``; on SQLite the database write lock serialises
the UPDATE). Only claimed orders are sent, so two overlapping runs never send one order twice,
and a cleared task that re-runs finds its sent orders no longer claimable and sends nothing.

A claim expires (``ttl``) so that orders held by a killed worker go out again later; the same
task instance (its retry, or ops clearing it) may take its own claims back at once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from backoffice_export.db import schema as s

PENDING, CLAIMED, SENT, FAILED = "pending", "claimed", "sent", "failed"
t = s.export_state


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class ClaimOwner:
    """The task instance that holds a claim; also what the ledger links to."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int = -1

    @property
    def token(self) -> str:
        return f"{self.dag_id}/{self.run_id}/{self.task_id}/{self.map_index}"

    def columns(self) -> dict[str, object]:
        return {"dag_id": self.dag_id, "run_id": self.run_id, "task_id": self.task_id,
                "map_index": self.map_index}


def track_new_orders(engine: sa.Engine) -> int:
    """Give every order without export state a pending row (orders App4Sales added itself)."""
    o, a = s.orders, s.administrations
    untracked = (
        sa.select(o.c.id, o.c.administration_id, a.c.connector, sa.literal(PENDING), sa.literal(True),
                  sa.literal(0), sa.literal(utcnow()))
        .join(a, a.c.id == o.c.administration_id)
        .where(~sa.exists().where(t.c.order_id == o.c.id))
    )
    with engine.begin() as conn:
        return conn.execute(
            t.insert().from_select(
                ["order_id", "administration_id", "connector", "state", "retryable", "attempts", "updated_at"],
                untracked,
            )
        ).rowcount


def _claimable(owner: ClaimOwner, now: datetime, *, reexport_pass: str | None) -> sa.ColumnElement[bool]:
    states = [t.c.state == PENDING, sa.and_(t.c.state == FAILED, t.c.retryable.is_(True)),
              sa.and_(t.c.state == CLAIMED, sa.or_(t.c.claim_expires_at < now, t.c.claimed_by == owner.token))]
    if reexport_pass is not None:
        # A re-export sends each sent order once per pass: not again when a chunk of it is cleared.
        states.append(sa.and_(t.c.state == SENT,
                              sa.or_(t.c.reexport_pass.is_(None), t.c.reexport_pass != reexport_pass)))
    return sa.or_(*states)


def unsent_order_ids(
    engine: sa.Engine,
    *,
    created_from: datetime | None = None,
    created_before: datetime | None = None,
    include_sent: bool = False,
) -> list[tuple[str, int, int]]:
    """(connector, administration id, order id) of every order a run should try, in order."""
    o = s.orders
    now = utcnow()
    states = [t.c.state == PENDING, sa.and_(t.c.state == FAILED, t.c.retryable.is_(True)),
              sa.and_(t.c.state == CLAIMED, t.c.claim_expires_at < now)]
    if include_sent:
        states.append(t.c.state == SENT)
    query = (
        sa.select(t.c.connector, t.c.administration_id, t.c.order_id)
        .join(o, o.c.id == t.c.order_id)
        .where(sa.or_(*states))
        .order_by(t.c.connector, t.c.administration_id, t.c.order_id)
    )
    if created_from is not None:
        query = query.where(o.c.created_at >= created_from)
    if created_before is not None:
        query = query.where(o.c.created_at < created_before)
    with engine.connect() as conn:
        return [(r.connector, r.administration_id, r.order_id) for r in conn.execute(query)]


def claim(
    engine: sa.Engine,
    order_ids: Sequence[int],
    owner: ClaimOwner,
    *,
    ttl: timedelta = timedelta(hours=2),
    reexport_pass: str | None = None,
) -> list[int]:
    """Claim those of ``order_ids`` nobody else holds and that still need sending.

    With ``reexport_pass`` sent orders are claimable too, once per pass (a re-export).
    """
    if not order_ids:
        return []
    now = utcnow()
    condition = sa.and_(t.c.order_id.in_(list(order_ids)), _claimable(owner, now, reexport_pass=reexport_pass))
    marks = {"reexport_pass": reexport_pass} if reexport_pass is not None else {}
    pick = sa.select(t.c.order_id).where(condition).with_for_update(skip_locked=True)
    with engine.begin() as conn:
        claimed = conn.execute(
            sa.update(t)
            .where(t.c.order_id.in_(pick.scalar_subquery()), condition)
            .values(state=CLAIMED, claimed_by=owner.token, claim_expires_at=now + ttl,
                    attempts=t.c.attempts + 1, updated_at=now, **owner.columns(), **marks)
            .returning(t.c.order_id)
        ).scalars().all()
    return sorted(claimed)


@dataclass(frozen=True)
class SentRecord:
    """One delivered order, waiting to be recorded with others of its chunk."""

    order_id: int
    backoffice_order_nr: str | None
    destination: str | None
    write_back_order_nr: str | None = None
    progress: Mapping[str, Any] | None = None
    remark: str | None = None


def mark_sent(engine: sa.Engine, order_id: int, owner: ClaimOwner, *, backoffice_order_nr: str | None,
              destination: str | None, write_back_order_nr: str | None = None) -> None:
    """Record the order as sent; with ``write_back_order_nr`` the order gets that number too, atomically."""
    mark_sent_many(engine, owner, [SentRecord(order_id, backoffice_order_nr, destination, write_back_order_nr)])


def mark_sent_many(engine: sa.Engine, owner: ClaimOwner, records: Sequence[SentRecord]) -> None:
    """Record several delivered orders in one transaction (each with its write-back, all or none)."""
    if not records:
        return
    now = utcnow()
    numbers = [{"b_id": r.order_id, "b_nr": r.write_back_order_nr} for r in records
               if r.write_back_order_nr is not None]
    with engine.begin() as conn:
        if numbers:
            conn.execute(sa.update(s.orders).where(s.orders.c.id == sa.bindparam("b_id"))
                         .values(order_nr=sa.bindparam("b_nr")), numbers)
        conn.execute(
            sa.update(t).where(t.c.order_id == sa.bindparam("b_id"))
            .values(state=SENT, backoffice_order_nr=sa.bindparam("b_nr"), destination=sa.bindparam("b_dest"),
                    remark=sa.bindparam("b_remark"), error=None, retryable=False, sent_at=now, updated_at=now,
                    claimed_by=None, claim_expires_at=None, **owner.columns()),
            [{"b_id": r.order_id, "b_nr": r.backoffice_order_nr, "b_dest": r.destination, "b_remark": r.remark}
             for r in records],
        )
        steps = [{"b_id": r.order_id, "b_progress": json.dumps(dict(r.progress), sort_keys=True)}
                 for r in records if r.progress is not None]
        if steps:
            conn.execute(sa.update(t).where(t.c.order_id == sa.bindparam("b_id"))
                         .values(progress=sa.bindparam("b_progress")), steps)


def mark_failed(engine: sa.Engine, order_id: int, owner: ClaimOwner, *, error: str, retryable: bool) -> None:
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            sa.update(t).where(t.c.order_id == order_id, t.c.claimed_by == owner.token)
            .values(state=FAILED, error=error, retryable=retryable, updated_at=now, claimed_by=None,
                    claim_expires_at=None, **owner.columns())
        )


def release(engine: sa.Engine, order_ids: Sequence[int], owner: ClaimOwner, *, reason: str) -> None:
    """Hand back claims on orders this task never got to (the transport went away)."""
    if not order_ids:
        return
    with engine.begin() as conn:
        conn.execute(
            sa.update(t).where(t.c.order_id.in_(list(order_ids)), t.c.claimed_by == owner.token)
            .values(state=FAILED, retryable=True, error=reason, attempts=t.c.attempts - 1,
                    claimed_by=None, claim_expires_at=None, updated_at=utcnow())
        )


def request_resend(engine: sa.Engine, order_ids: Sequence[int]) -> int:
    """Make orders pending again, sent ones included: the one way an order goes out twice.

    The order starts over: a delivery ``progress`` (how far an order sent in parts got) is
    forgotten, so a half-sent order goes again whole, as a new order at the ERP.
    """
    with engine.begin() as conn:
        return conn.execute(
            sa.update(t).where(t.c.order_id.in_(list(order_ids)), t.c.state != CLAIMED)
            .values(state=PENDING, retryable=True, error=None, progress=None, updated_at=utcnow())
        ).rowcount


def reset_after_reload(engine: sa.Engine, order_id: int) -> None:
    """An order re-loaded with new data gets a fresh chance unless it already went out."""
    with engine.begin() as conn:
        conn.execute(
            sa.update(t).where(t.c.order_id == order_id, t.c.state == FAILED)
            .values(state=PENDING, retryable=True, error=None, updated_at=utcnow())
        )


def count_by_state(engine: sa.Engine, order_ids: Sequence[int]) -> dict[str, int]:
    """Orders per state; a failure that a retry may cure counts as ``waiting``, not ``failed``."""
    label = sa.case((sa.and_(t.c.state == FAILED, t.c.retryable.is_(True)), "waiting"), else_=t.c.state)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(label, sa.func.count()).where(t.c.order_id.in_(list(order_ids))).group_by(label)
        )
        return {state: count for state, count in rows}


@dataclass(frozen=True)
class OrderState:
    order_id: int
    administration: str
    internal_order_nr: str
    order_nr: str | None
    connector: str
    state: str
    attempts: int
    backoffice_order_nr: str | None
    destination: str | None
    error: str | None
    sent_at: datetime | None
    remark: str | None = None


def states(engine: sa.Engine, *, order_ids: Sequence[int] | None = None,
           administration: str | None = None) -> list[OrderState]:
    o, a = s.orders, s.administrations
    query = (
        sa.select(t.c.order_id, a.c.code, o.c.internal_order_nr, o.c.order_nr, t.c.connector, t.c.state,
                  t.c.attempts, t.c.backoffice_order_nr, t.c.destination, t.c.error, t.c.sent_at, t.c.remark)
        .join(o, o.c.id == t.c.order_id).join(a, a.c.id == t.c.administration_id)
        .order_by(a.c.code, t.c.order_id)
    )
    if order_ids is not None:
        query = query.where(t.c.order_id.in_(list(order_ids)))
    if administration is not None:
        query = query.where(a.c.code == administration)
    with engine.connect() as conn:
        return [OrderState(*row) for row in conn.execute(query)]


def progress(engine: sa.Engine, order_id: int) -> dict[str, Any] | None:
    """How far a delivery in several requests got for this order (a connector's own JSON), or ``None``."""
    with engine.connect() as conn:
        text = conn.execute(sa.select(t.c.progress).where(t.c.order_id == order_id)).scalar_one_or_none()
    return json.loads(text) if text else None


def save_progress(engine: sa.Engine, order_id: int, value: Mapping[str, Any] | None, *,
                  order_nr: str | None = None) -> None:
    """Record (or with ``None`` forget) how far the order's delivery got, committed at once;
    with ``order_nr`` the ERP's number goes onto the order in the same transaction."""
    with engine.begin() as conn:
        conn.execute(sa.update(t).where(t.c.order_id == order_id)
                     .values(progress=None if value is None else json.dumps(dict(value), sort_keys=True)))
        if order_nr is not None:
            conn.execute(sa.update(s.orders).where(s.orders.c.id == order_id).values(order_nr=order_nr))
