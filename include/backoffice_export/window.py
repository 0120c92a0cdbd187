"""Which orders a DAG run exports, by when they were created.

- A scheduled run exports everything unsent created before the end of its data interval
  (stragglers from earlier intervals included: nothing waits for a backfill).
- A backfill run exports only its own window, ``[data_interval_start, data_interval_end)``.
- A manual run exports everything unsent.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def _naive_utc(value: Any) -> datetime | None:
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def export_window(dag_run: Any, start: Any, end: Any) -> tuple[datetime | None, datetime | None]:
    run_type = str(getattr(dag_run, "run_type", "") or "").lower()
    if "backfill" in run_type:
        return _naive_utc(start), _naive_utc(end)
    if "scheduled" in run_type:
        return None, _naive_utc(end)
    return None, None
