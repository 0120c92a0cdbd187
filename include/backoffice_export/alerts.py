"""Tell a person when a chunk gives up: the failure callback of the export DAGs.

A chunk task fails only for what a person may need to act on: the ERP stayed unreachable
through every retry, or refused the connection's credentials. Data errors do not fail the
task (they are stored on the order and shown in the ledger).

Mail goes through the SMTP provider when ``BACKOFFICE_ALERT_EMAIL`` is set (comma-separated
addresses), over the Airflow connection ``BACKOFFICE_SMTP_CONN_ID`` (default ``smtp_default``);
without it the alert is logged only. A failing alert never hides the task's own failure.
"""

from __future__ import annotations

import html
import logging
import os
from typing import Any

log = logging.getLogger(__name__)


def alert_message(context: dict[str, Any]) -> tuple[str, str]:
    ti = context.get("task_instance") or context.get("ti")
    exception = context.get("exception")
    dag_id = getattr(ti, "dag_id", "?")
    task = getattr(ti, "task_id", "?")
    map_index = getattr(ti, "map_index", -1)
    label = f"{task}[{map_index}]" if map_index not in (None, -1) else task
    subject = f"[backoffice-export] {dag_id}.{label} failed"
    run_id = html.escape(str(getattr(ti, "run_id", "?")))
    body = (
        f"<p>Task <b>{html.escape(label)}</b> of DAG <b>{html.escape(dag_id)}</b>, run "
        f"<code>{run_id}</code>, try {getattr(ti, 'try_number', '?')}, failed:</p>"
        f"<pre>{html.escape(str(exception) if exception else 'no exception recorded')}</pre>"
        "<p>Orders it did not send are still pending or failed-retryable: clear the task in the Airflow "
        "UI once the ERP is reachable, or let the next run take them.</p>"
    )
    return subject, body


def notify_failure(context: dict[str, Any]) -> None:
    subject, body = alert_message(context)
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
