"""The three steps the export DAG runs: plan chunks, send a chunk, summarise.

Only order ids travel between tasks (XCom stays a few bytes per order); each chunk task reads
its orders from the order database itself, claims them, and writes every outcome back as soon
as it is known, so a task killed mid-chunk loses at most the order in flight.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime

import sqlalchemy as sa

from backoffice_export import config, export_state, repository
from backoffice_export.connectors import CONNECTORS, get_connector
from backoffice_export.db import schema as s
from backoffice_export.errors import ConnectionLost, DeliveryError, OrderDataError, SettingsError
from backoffice_export.export_state import ClaimOwner

log = logging.getLogger(__name__)


class ChunkIncomplete(Exception):
    """Raised at the end of a chunk that left orders for a retry, so Airflow retries it."""


def plan_chunks(
    engine: sa.Engine,
    chunk_size: int,
    *,
    created_from: datetime | None = None,
    created_before: datetime | None = None,
    include_sent: bool = False,
) -> dict[str, list[dict[str, object]]]:
    """Unsent orders per connector, cut into chunks of one administration each.

    One chunk is one transport connection and one mapped task instance; never one task per
    order (Airflow caps a mapped task at ``max_map_length`` instances).
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    export_state.track_new_orders(engine)
    with engine.connect() as conn:
        codes = dict(conn.execute(sa.select(s.administrations.c.id, s.administrations.c.code)).all())
    grouped: dict[tuple[str, int], list[int]] = defaultdict(list)
    for connector, administration_id, order_id in export_state.unsent_order_ids(
        engine, created_from=created_from, created_before=created_before, include_sent=include_sent
    ):
        grouped[(connector, administration_id)].append(order_id)
    plan: dict[str, list[dict[str, object]]] = {name: [] for name in CONNECTORS}
    for (connector, administration_id), ids in grouped.items():
        for start in range(0, len(ids), chunk_size):
            plan.setdefault(connector, []).append(
                {"administration": codes[administration_id], "ids": ids[start:start + chunk_size]}
            )
    return plan


@dataclass
class ChunkResult:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    left_for_retry: int = 0
    errors: list[str] = field(default_factory=list)

    def as_xcom(self) -> dict[str, int]:
        """Counts only: error texts stay in the database and the task log."""
        return {k: v for k, v in asdict(self).items() if k != "errors"}


def send_chunk(
    engine: sa.Engine,
    order_ids: Sequence[int],
    owner: ClaimOwner,
    *,
    reexport_pass: str | None = None,
) -> ChunkResult:
    """Claim, map and deliver one chunk; every outcome is written back as it happens.

    ``reexport_pass``: this chunk belongs to a re-export, so sent orders go again, once per pass.
    """
    result = ChunkResult()
    claimed = export_state.claim(engine, order_ids, owner, ttl=config.claim_ttl(), reexport_pass=reexport_pass)
    result.skipped = len(order_ids) - len(claimed)
    if result.skipped:
        log.info("%d of %d orders are already sent or held by another run; skipping them",
                 result.skipped, len(order_ids))
    if not claimed:
        return result
    orders = repository.load_orders(engine, claimed)
    administration = orders[0].administration
    connector = get_connector(administration.connector)

    def fail(order_id: int, label: str, message: str, *, retryable: bool) -> None:
        text = f"{label}: {message}"
        export_state.mark_failed(engine, order_id, owner, error=text, retryable=retryable)
        result.errors.append(text)
        if retryable:
            result.left_for_retry += 1
            log.warning("%s (will be retried)", text)
        else:
            result.failed += 1
            log.error("%s", text)

    if connector is None:
        export_state.release(engine, claimed, owner, reason=f"connector {administration.connector} is not built yet")
        result.left_for_retry += len(claimed)
        return result
    try:
        settings = connector.parse_settings(administration.settings)
    except SettingsError as exc:
        for order in orders:
            fail(order.id, order.label, str(exc), retryable=False)
        return result

    remaining = list(orders)
    sent_log: list[str] = []
    try:
        with connector.open_session(administration, settings, engine) as session:
            prepare = getattr(session, "prepare", None)
            if prepare is not None:  # chunk-wide work a connector does once, e.g. drawing order numbers
                prepare(list(orders))
            while remaining:
                order = remaining[0]
                try:
                    sent = session.send(order)
                except OrderDataError as exc:
                    fail(order.id, order.label, str(exc), retryable=False)
                except ConnectionLost:
                    raise
                except DeliveryError as exc:
                    fail(order.id, order.label, str(exc), retryable=exc.retryable)
                except Exception as exc:  # a bug must not take the rest of the chunk down with it
                    log.exception("%s: unexpected error", order.label)
                    fail(order.id, order.label, f"ERROR_Unhandled: {type(exc).__name__}: {exc}", retryable=False)
                else:
                    export_state.mark_sent(engine, order.id, owner, backoffice_order_nr=sent.backoffice_order_nr,
                                           destination=sent.destination,
                                           write_back_order_nr=sent.write_back_order_nr)
                    result.sent += 1
                    sent_log.append(f"{order.internal_order_nr} as {sent.backoffice_order_nr}")
                    if len(sent_log) >= SENT_LOG_BATCH:
                        _log_sent(administration.code, sent_log)
                remaining.pop(0)
    except SettingsError as exc:
        for order in remaining:
            fail(order.id, order.label, str(exc), retryable=False)
    except ConnectionLost as exc:
        _log_sent(administration.code, sent_log)
        if remaining:
            fail(remaining[0].id, remaining[0].label, str(exc), retryable=True)
            rest = [o.id for o in remaining[1:]]
            export_state.release(engine, rest, owner, reason=f"not sent yet: {exc}")
            result.left_for_retry += len(rest)
    _log_sent(administration.code, sent_log)
    return result


# Sent orders are logged a batch per line: one log call per order cost as much as sending it
# over a fast link. Failures are always logged one by one, naming the order and the field.
SENT_LOG_BATCH = 50


def _log_sent(administration: str, sent: list[str]) -> None:
    if sent:
        log.info("%s: sent %d orders (App4Sales number as backoffice number): %s", administration, len(sent),
                 ", ".join(sent))
        sent.clear()


class OrdersLeftForRetry(Exception):
    """Raised by the summary when orders of the run still wait for a retry: the run shows red."""


def summarise(engine: sa.Engine, plan: dict[str, object]) -> dict[str, dict[str, int]]:
    """Where the run's orders stand now, per connector, read from the database (the truth).

    ``waiting`` counts the orders a transient failure left for a retry (ERP down, connection
    lost); ``failed`` those that failed for their data and wait for a fix.
    """
    summary: dict[str, dict[str, int]] = {}
    for connector in CONNECTORS:
        ids = [i for chunk in plan.get(connector) or [] for i in chunk["ids"]]  # type: ignore[index, union-attr]
        counts = {"planned": len(ids)}
        for start in range(0, len(ids), 500):
            for state, count in export_state.count_by_state(engine, ids[start:start + 500]).items():
                counts[state] = counts.get(state, 0) + count
        summary[connector] = counts
    return summary
