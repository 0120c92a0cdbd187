"""The three steps the export DAG runs: plan chunks, send a chunk, summarise.

Only order ids travel between tasks; each chunk task claims its orders, reads them from the order
database a slice at a time, builds and delivers each in order, and stores the outcomes: failures
at once, deliveries a small batch at a time (``_SentRecorder``). A task killed mid-chunk loses
nothing: the retry claims the unrecorded orders again and checks at the ERP first.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime

import sqlalchemy as sa

from backoffice_export import config, export_state, repository
from backoffice_export.chunk_labels import label_chunks
from backoffice_export.connectors import CONNECTORS, get_connector
from backoffice_export.connectors.base import Sent
from backoffice_export.db import schema as s
from backoffice_export.errors import ConnectionLost, DeliveryError, OrderDataError, SettingsError
from backoffice_export.export_state import ClaimOwner
from backoffice_export.model import Order

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
    label_chunks(engine, plan)
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
    """Claim one chunk, then load, build and deliver its orders in order, and store every outcome.

    ``reexport_pass``: this chunk belongs to a re-export, so sent orders go again, once per pass.
    Whatever stops the chunk, each claimed order it did not finish is left failed with the reason
    stored, so the next run (or Airflow's retry) takes it up again.
    """
    result = ChunkResult()
    started = time.monotonic()
    claimed = export_state.claim(engine, order_ids, owner, ttl=config.claim_ttl(), reexport_pass=reexport_pass)
    result.skipped = len(order_ids) - len(claimed)
    if result.skipped:
        log.info("%d of %d orders are already sent or held by another run; skipping them",
                 result.skipped, len(order_ids))
    if not claimed:
        return result
    heads = repository.order_heads(engine, claimed)
    administration = repository.administration(engine, heads[0].administration_id)
    connector = get_connector(administration.connector)
    by_id = {head.id: head for head in heads}

    def fail(order_id: int, message: str, *, retryable: bool) -> None:
        text = f"{by_id[order_id].label}: {message}"
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
        for head in heads:
            fail(head.id, str(exc), retryable=False)
        return result

    recorder = _SentRecorder(engine, owner, administration.code)
    ids = [head.id for head in heads]
    handled = 0
    try:
        with connector.open_session(administration, settings, engine) as session:
            known = repository.Known()
            for start in range(0, len(ids), SLICE):
                for order in repository.load_orders(engine, ids[start:start + SLICE], known=known):
                    try:
                        sent = session.deliver(order, session.build(order))
                    except OrderDataError as exc:
                        fail(order.id, str(exc), retryable=False)
                    except ConnectionLost:
                        raise
                    except DeliveryError as exc:
                        fail(order.id, str(exc), retryable=exc.retryable)
                    except Exception as exc:  # a bug must not take the rest of the chunk down with it
                        log.exception("%s: unexpected error", order.label)
                        fail(order.id, f"ERROR_Unhandled: {type(exc).__name__}: {exc}", retryable=False)
                    else:
                        recorder.add(order, sent)
                        result.sent += 1
                    handled += 1
    except SettingsError as exc:
        recorder.flush()
        for order_id in ids[handled:]:
            fail(order_id, str(exc), retryable=False)
    except ConnectionLost as exc:
        recorder.flush()
        _leave_for_retry(engine, owner, ids[handled:], str(exc), fail, result)
    except Exception as exc:  # e.g. the connection is not defined: the orders wait, with the reason stored
        recorder.flush()
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        _leave_for_retry(engine, owner, ids[handled:], f"chunk stopped: {reason}", fail, result)
        raise
    finally:
        recorder.close()
        log.info("%s: chunk of %d orders: %d sent, %d failed, %d left for a retry in %.1f s", administration.code,
                 len(ids), result.sent, result.failed, result.left_for_retry, time.monotonic() - started)
    return result


SLICE = 50  # orders loaded at a time (one query per table), so a chunk never holds all its orders


def _leave_for_retry(engine: sa.Engine, owner: ClaimOwner, remaining: Sequence[int], reason: str,
                     fail: Callable[..., None], result: ChunkResult) -> None:
    """The first remaining order carries the failure (and counts an attempt); the rest are handed back."""
    if remaining:
        fail(remaining[0], reason, retryable=True)
        export_state.release(engine, remaining[1:], owner, reason=f"not sent yet: {reason}")
        result.left_for_retry += len(remaining) - 1


class _SentRecorder:
    """Records delivered orders a batch at a time, and logs them a line per batch.

    A batch is written when it holds ``RECORD_BATCH`` orders or is ``RECORD_SECONDS`` old, and
    whenever the chunk stops, so a task killed outright leaves at most one batch delivered but
    still claimed. Those orders are not lost and do not go twice: the task's retry claims them
    again (attempts > 1), and every connector then checks before it sends (a look-up at the ERP,
    or the same file name and number, so an upload replaces the file instead of adding an order).
    Failures are never batched: each is written and logged at once, naming the order and field.
    """

    def __init__(self, engine: sa.Engine, owner: ClaimOwner, administration: str) -> None:
        self.engine, self.owner, self.administration = engine, owner, administration
        self.pending: list[export_state.SentRecord] = []
        self.labels: list[str] = []
        self.since = time.monotonic()

    def add(self, order: Order, sent: Sent) -> None:
        self.pending.append(export_state.SentRecord(order.id, sent.backoffice_order_nr, sent.destination,
                                                    sent.write_back_order_nr, sent.progress, sent.remark))
        self.labels.append(f"{order.internal_order_nr} as {sent.backoffice_order_nr}")
        if len(self.pending) >= RECORD_BATCH or time.monotonic() - self.since >= RECORD_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            export_state.mark_sent_many(self.engine, self.owner, self.pending)
            log.info("%s: sent %d orders (App4Sales number as backoffice number): %s", self.administration,
                     len(self.labels), ", ".join(self.labels))
            self.pending, self.labels = [], []
        self.since = time.monotonic()

    def close(self) -> None:
        """Write what is left; if even that fails, say which orders went but are not recorded."""
        try:
            self.flush()
        except Exception:
            log.error("%s: %d orders reached the ERP but could not be recorded as sent: %s; the retry "
                      "claims them again and checks at the ERP before sending", self.administration,
                      len(self.labels), ", ".join(self.labels))
            raise


RECORD_BATCH = 200
RECORD_SECONDS = 1.0


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
