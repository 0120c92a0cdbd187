"""Keep a mapped task's label while it waits for its retry (Airflow 3.3 drops it).

Airflow 3.3's task runner reports a retry with a ``RetryTask`` message that leaves its
``rendered_map_index`` unset (``_finalize_task_failure``; a final failure carries it), the
supervisor passes that ``None`` on, and the API server stores it: the label the task rendered at
its start is cleared, and the UI shows the bare map index for as long as the task waits for its
retry, which during an ERP outage is nearly all the time. ``keep_label_on_retry`` makes the
retry message carry the label the task already has. It changes nothing once Airflow sets the
label itself, and nothing for a task without a label.
"""

from __future__ import annotations

import functools
from typing import Any


def keep_label_on_retry() -> None:
    """Patch this task process's runner so a retry keeps the rendered label (idempotent)."""
    from airflow.sdk.execution_time import task_runner
    from airflow.sdk.execution_time.comms import RetryTask

    original = task_runner._finalize_task_failure
    if getattr(original, "keeps_label", False):
        return

    @functools.wraps(original)
    def finalize_task_failure(ti: Any, *args: Any, **kwargs: Any) -> Any:
        message, state = original(ti, *args, **kwargs)
        if isinstance(message, RetryTask) and message.rendered_map_index is None and ti.rendered_map_index:
            message = message.model_copy(update={"rendered_map_index": ti.rendered_map_index})
        return message, state

    finalize_task_failure.keeps_label = True  # type: ignore[attr-defined]
    task_runner._finalize_task_failure = finalize_task_failure
