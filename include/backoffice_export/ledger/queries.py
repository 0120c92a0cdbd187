"""The ledger's read model: ``export_state`` with its order and administration, filtered and paged.

A failed order shows as ``waiting`` when the failure was transient (ERP down, connection cut:
a retry or the next run sends it) and as ``failed`` when it failed for good (bad data, refused by
the ERP: someone must fix it), as the run summary counts them.

Read only. Rows come newest change first (``updated_at``), so the orders a run just touched lead
the first page. The link to the task instance is built from the ``dag_id`` / ``run_id`` /
``task_id`` / ``map_index`` that ``export_state`` keeps for the last task that handled an order.

Not ``export_state.states``: the ledger also needs those task columns, a row count, the values
for its dropdowns and another order, and ``states`` keeps its shape for the CLI and the report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

import sqlalchemy as sa

from backoffice_export.db import schema as s
from backoffice_export.export_state import CLAIMED, FAILED, PENDING, SENT

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500
WAITING = "waiting"  # failed, but transiently: a retry or the next run sends it
# The dropdown lists states in the order an order goes through them.
STATE_ORDER = (PENDING, CLAIMED, SENT, WAITING, FAILED)


@dataclass(frozen=True)
class LedgerFilter:
    """What the user narrowed the ledger to; ``None`` (or an empty string) means all."""

    administration: str | None = None
    connector: str | None = None
    state: str | None = None

    def __post_init__(self) -> None:
        for name in ("administration", "connector", "state"):
            if getattr(self, name) == "":
                object.__setattr__(self, name, None)

    def as_params(self) -> dict[str, str]:
        """The filter as query parameters (only those set)."""
        values = {"administration": self.administration, "connector": self.connector, "state": self.state}
        return {k: v for k, v in values.items() if v is not None}


def task_instance_path(dag_id: str | None, run_id: str | None, task_id: str | None,
                       map_index: int | None) -> str | None:
    """The task instance's page in the Airflow 3 UI, relative to the UI's base URL.

    ``dags/{dag_id}/runs/{run_id}/tasks/{task_id}`` plus ``/mapped/{map_index}`` for a mapped
    instance (``map_index`` -1 means not mapped). Every part is URL-encoded: run ids carry ``:``
    and ``+`` (``scheduled__2026-11-20T10:00:00+00:00``), task ids in a group carry ``.``.
    """
    if not (dag_id and run_id and task_id):
        return None
    path = f"dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}/tasks/{quote(task_id, safe='')}"
    if map_index is not None and map_index >= 0:
        path += f"/mapped/{map_index}"
    return path


@dataclass(frozen=True)
class LedgerRow:
    order_id: int
    administration: str
    internal_order_nr: str
    connector: str
    state: str
    backoffice_order_nr: str | None
    destination: str | None
    error: str | None
    attempts: int
    sent_at: datetime | None
    updated_at: datetime
    dag_id: str | None
    run_id: str | None
    task_id: str | None
    map_index: int | None
    remark: str | None = None

    @property
    def task_instance_path(self) -> str | None:
        return task_instance_path(self.dag_id, self.run_id, self.task_id, self.map_index)


@dataclass(frozen=True)
class LedgerPage:
    rows: list[LedgerRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


@dataclass(frozen=True)
class FilterOptions:
    """The values the dropdowns offer: what the ledger actually holds."""

    administrations: list[str]
    connectors: list[str]
    states: list[str]


def _shown_state() -> sa.ColumnElement[str]:
    """The state the ledger shows: a retryable failure is waiting, not failed."""
    t = s.export_state
    return sa.case((sa.and_(t.c.state == FAILED, t.c.retryable.is_(True)), WAITING), else_=t.c.state)


def _base() -> sa.Select:
    t, o, a = s.export_state, s.orders, s.administrations
    return (
        sa.select(t.c.order_id, a.c.code, o.c.internal_order_nr, t.c.connector, _shown_state(),
                  t.c.backoffice_order_nr, t.c.destination, t.c.error, t.c.attempts, t.c.sent_at,
                  t.c.updated_at, t.c.dag_id, t.c.run_id, t.c.task_id, t.c.map_index, t.c.remark)
        .join(o, o.c.id == t.c.order_id)
        .join(a, a.c.id == t.c.administration_id)
    )


def _filtered(query: sa.Select, filters: LedgerFilter) -> sa.Select:
    t, a = s.export_state, s.administrations
    if filters.administration is not None:
        query = query.where(a.c.code == filters.administration)
    if filters.connector is not None:
        query = query.where(t.c.connector == filters.connector)
    if filters.state is not None:
        query = query.where(_shown_state() == filters.state)
    return query


def ledger_page(engine: sa.Engine, filters: LedgerFilter | None = None, *, page: int = 1,
                per_page: int = DEFAULT_PAGE_SIZE) -> LedgerPage:
    """One page of the ledger; a page past the end shows the last one."""
    filters = filters or LedgerFilter()
    per_page = min(max(per_page, 1), MAX_PAGE_SIZE)
    query = _filtered(_base(), filters)
    t = s.export_state
    with engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
        page = min(max(page, 1), max(1, math.ceil(total / per_page)))
        rows = conn.execute(
            query.order_by(t.c.updated_at.desc(), t.c.order_id.desc())
            .limit(per_page).offset((page - 1) * per_page)
        )
        return LedgerPage([LedgerRow(*row) for row in rows], total, page, per_page)


def filter_options(engine: sa.Engine) -> FilterOptions:
    t, a = s.export_state, s.administrations
    with engine.connect() as conn:
        administrations = conn.execute(
            sa.select(a.c.code).where(sa.exists().where(t.c.administration_id == a.c.id)).order_by(a.c.code)
        ).scalars().all()
        connectors = conn.execute(sa.select(t.c.connector).distinct().order_by(t.c.connector)).scalars().all()
        states = set(conn.execute(sa.select(_shown_state()).distinct()).scalars())
    ordered = [state for state in STATE_ORDER if state in states] + sorted(states.difference(STATE_ORDER))
    return FilterOptions(list(administrations), list(connectors), ordered)
