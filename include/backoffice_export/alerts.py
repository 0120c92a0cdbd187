"""Tell a person when a chunk gives up: the failure callback of the export DAGs.

A chunk task fails only for what a person may need to act on: the ERP stayed unreachable
through every retry, or refused the connection's credentials. Data errors do not fail the
task (they are stored on the order and shown in the ledger). Airflow calls this once, when
the task has failed for good (its retries go to no callback), so one mail per chunk failure.

The mail names the administration and connector, the cause, how many of the chunk's orders
were not sent, the task's log and what to do. Counts and the first stored error come from the
order database (the truth); when it cannot be read the exception alone is reported.

Mail goes through the SMTP provider when ``BACKOFFICE_ALERT_EMAIL`` is set (comma-separated
addresses), over the Airflow connection ``BACKOFFICE_SMTP_CONN_ID`` (default ``smtp_default``);
without it the alert is logged only. A failing alert never hides the task's own failure.
"""

from __future__ import annotations

import html
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

WHAT_TO_DO = (
    "The orders that were not sent are kept: none is lost or half sent. Fix the cause (ERP down or "
    "unreachable, credentials of the Airflow connection refused), then clear this task in the Airflow UI "
    "to send them now, or leave them to the next scheduled run, which picks them up."
)


@dataclass(frozen=True)
class Unsent:
    """The chunk's orders that did not go, as the order database holds them."""

    count: int
    first_error: str | None


def unsent_orders(order_ids: Sequence[int]) -> Unsent | None:
    """Orders of the chunk not sent (waiting for a retry or still claimed); ``None`` if unreadable."""
    try:
        import sqlalchemy as sa

        from backoffice_export import config
        from backoffice_export.db import schema as s
        from backoffice_export.db.engine import engine_for_connection
        from backoffice_export.export_state import CLAIMED, FAILED, PENDING

        t = s.export_state
        waiting = sa.or_(t.c.state.in_([PENDING, CLAIMED]), sa.and_(t.c.state == FAILED, t.c.retryable.is_(True)))
        with engine_for_connection(config.DB_CONN_ID).connect() as conn:
            rows = conn.execute(sa.select(t.c.order_id, t.c.error).where(t.c.order_id.in_(list(order_ids)), waiting)
                                .order_by(t.c.order_id)).all()
    except Exception:
        log.warning("could not read the chunk's orders for the alert", exc_info=True)
        return None
    return Unsent(len(rows), next((row.error for row in rows if row.error), None))


def alert_message(context: dict[str, Any], unsent: Unsent | None = None) -> tuple[str, str]:
    ti = context.get("task_instance") or context.get("ti")
    exception = context.get("exception")
    dag_id = getattr(ti, "dag_id", "?")
    task_id = getattr(ti, "task_id", "?")
    task = context.get("task")
    chunk = (getattr(task, "op_kwargs", None) or {}).get("chunk")
    tries = getattr(ti, "try_number", None)
    cause = str(exception) if exception else "no exception recorded"
    if isinstance(chunk, dict) and chunk.get("administration"):
        connector = task_id.split(".")[0]
        ids = chunk.get("ids") or []
        count = unsent.count if unsent is not None else len(ids)
        subject = (f"[backoffice-export] {connector} / {chunk['administration']}: "
                   f"{count} of {len(ids)} orders not sent")
        label = str(chunk.get("label") or chunk["administration"])
        what = f"{html.escape(connector)} chunk <b>{html.escape(label)}</b>"
        orders = f"<p>Orders not sent: <b>{count}</b> of the chunk's {len(ids)}.</p>"
        if unsent is not None and unsent.first_error:
            cause = unsent.first_error if not exception else f"{exception}\n{unsent.first_error}"
    else:
        map_index = getattr(ti, "map_index", -1)
        label = f"{task_id}[{map_index}]" if map_index not in (None, -1) else task_id
        subject = f"[backoffice-export] {dag_id}.{label} failed"
        what = f"task <b>{html.escape(label)}</b>"
        orders = ""
    log_url = getattr(ti, "log_url", None)
    link = f'<p>Log: <a href="{html.escape(log_url)}">{html.escape(log_url)}</a></p>' if log_url else ""
    body = (
        f"<p>The {what} of DAG <b>{html.escape(dag_id)}</b>, run "
        f"<code>{html.escape(str(getattr(ti, 'run_id', '?')))}</code>, failed"
        f"{f' after {tries} tries' if tries and tries > 1 else ''}; Airflow does not retry it again.</p>"
        f"<p>Cause:</p><pre>{html.escape(cause)}</pre>{orders}{link}"
        f"<p>What to do: {html.escape(WHAT_TO_DO)}</p>"
    )
    return subject, body


def notify_failure(context: dict[str, Any]) -> None:
    chunk = (getattr(context.get("task"), "op_kwargs", None) or {}).get("chunk")
    unsent = unsent_orders(chunk["ids"]) if isinstance(chunk, dict) and chunk.get("ids") else None
    subject, body = alert_message(context, unsent)
    log.error("%s", subject)
    recipients = [a.strip() for a in os.environ.get("BACKOFFICE_ALERT_EMAIL", "").split(",") if a.strip()]
    if not recipients:
        return
    try:
        from airflow.providers.smtp.hooks.smtp import SmtpHook

        with SmtpHook(smtp_conn_id=os.environ.get("BACKOFFICE_SMTP_CONN_ID", "smtp_default")) as hook:
            hook.send_email_smtp(to=recipients, subject=subject, html_content=body)
    except Exception:
        log.exception("could not send the failure alert to %s", ", ".join(recipients))
