"""
### Send orders to backoffice

Every interval, sends the App4Sales orders that have not reached their backoffice ERP yet; in
event mode also within seconds of an order-stored message on Redis (docs/runbook.md).

1. **extract** finds the unsent orders in the order database (Airflow connection
   `app4sales_db`) and cuts them into chunks: one administration per chunk, at most
   `chunk_size` orders (Params), so a run never creates one task per order.
2. One **task group per connector** (Reflecta, EzXml, Spector, StyleMan, AccountView) maps
   `send_chunk` over its chunks. Each chunk claims its orders, opens one connection to the
   ERP, sends order by order and stores each outcome on the order at once.
3. **summary** reads back where the run's orders stand and logs sent / failed counts.

**Backfills** (`airflow backfill create --dag-id send_orders_to_backoffice --from-date ... --to-date ...`,
or Trigger -> Backfill in the UI) export the unsent orders created in each run's data interval.
With the Param `reexport_sent` (`--dag-run-conf '{"reexport_sent": true}'`) the window's already
sent orders go again too, for an ERP that lost files: each once per pass of `extract` (a
backfill that re-runs an existing run makes a new pass; clearing a chunk does not). A manual
run exports every unsent order. The DAG `resend_orders` resends chosen orders by number.

Safe to clear and rerun: a chunk only sends orders it can claim, and sent orders cannot be
claimed, so clearing a finished task sends nothing again; clearing a failed one sends exactly
the orders that did not go. Orders with bad data fail with a stored error naming the order
and the field; the rest of their chunk still goes. Transient failures (ERP down, connection
cut) fail the chunk task, which Airflow retries with exponential backoff.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta

# Event mode's trigger (it imports the redis client): imported here so that the dag processor
# imports it once before it forks a parser (parsing_pre_import_modules), not in every parse.
import airflow.providers.common.messaging.triggers.msg_queue  # noqa: F401
from airflow.sdk import CronDataIntervalTimetable, Param, dag, task, task_group

from backoffice_export import order_events
from backoffice_export.connectors import CONNECTORS

# A cron schedule with data intervals: each run covers [previous tick, this tick), which is what
# a backfill's windows are cut from (Airflow 3's plain cron string would give point intervals).
# "none" leaves the DAG to manual and API triggers only.
CRON = os.environ.get("BACKOFFICE_EXPORT_SCHEDULE", "*/15 * * * *")
TICK = None if CRON.strip().lower() in {"", "none"} else CronDataIntervalTimetable(CRON, timezone="UTC")
# Event mode (docs/runbook.md): with BACKOFFICE_ORDER_EVENTS_CONN_ID set, an order-stored message
# on Redis starts a run too (the tick or the asset); unset, the tick alone.
SCHEDULE = order_events.schedule(TICK)
DEFAULT_CHUNK_SIZE = int(os.environ.get("BACKOFFICE_CHUNK_SIZE", "200"))
RETRIES = int(os.environ.get("BACKOFFICE_TASK_RETRIES", "3"))
# Pools cap concurrent connections per ERP endpoint kind: set a prefix (e.g. "erp_") and create
# pools "<prefix><connector>" (docker-compose's init does); unset, every chunk uses default_pool.
POOL_PREFIX = os.environ.get("BACKOFFICE_POOL_PREFIX", "")


def _notify_failure(context: dict) -> None:
    from backoffice_export.alerts import notify_failure

    notify_failure(context)


@dag(
    schedule=SCHEDULE,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=2,
    doc_md=__doc__,
    tags=["backoffice-export"],
    params={
        "chunk_size": Param(DEFAULT_CHUNK_SIZE, type="integer", minimum=1, maximum=1000,
                            description="Orders per chunk: one ERP connection and one task instance each"),
        "reexport_sent": Param(False, type="boolean",
                               description="Also send again the orders of this run's window that were already "
                                           "sent (for an ERP that lost files); each once per pass"),
    },
    default_args={
        "retries": RETRIES,
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=30),
        "execution_timeout": timedelta(minutes=60),
        "on_failure_callback": _notify_failure,
    },
)
def send_orders_to_backoffice() -> None:
    @task(multiple_outputs=True)
    def extract(params: dict, dag_run=None, data_interval_start=None, data_interval_end=None,
                triggering_asset_events=None) -> dict:
        from backoffice_export import config, export
        from backoffice_export.db.engine import engine_for_connection
        from backoffice_export.window import export_window

        print(order_events.run_origin(dag_run, triggering_asset_events), flush=True)
        created_from, created_before = export_window(dag_run, data_interval_start, data_interval_end)
        reexport = bool(params.get("reexport_sent"))
        plan = export.plan_chunks(engine_for_connection(config.DB_CONN_ID), params["chunk_size"],
                                  created_from=created_from, created_before=created_before, include_sent=reexport)
        for connector, chunks in plan.items():
            print(f"{connector}: {sum(len(c['ids']) for c in chunks)} orders in {len(chunks)} chunks", flush=True)
        if reexport:
            # A re-export pass: new each time this task runs (a backfill re-running an existing
            # run runs it again), the same for every chunk and for a chunk that ops clear. It rides
            # in each chunk, so a chunk task pulls one XCom, not two (each is an API call).
            reexport_pass = uuid.uuid4().hex
            for chunks in plan.values():
                for chunk in chunks:
                    chunk["reexport_pass"] = reexport_pass
        return plan

    @task
    def chunks_for(connector: str, chunks: list[dict]) -> list[dict]:
        from backoffice_export.connectors import get_connector

        if chunks and get_connector(connector) is None:
            waiting = sum(len(c["ids"]) for c in chunks)
            print(f"The {connector} connector is not built yet: its {waiting} orders stay pending.")
            return []
        return chunks

    # One XCom (the counts as one value): a dict return would otherwise push a row per key too,
    # an Execution API call each, none of them read. The label comes with the mapped chunk, so it
    # is rendered before the task starts and shows from the first try on, retries included.
    @task(map_index_template="{{ task.op_kwargs['chunk']['label'] }}", multiple_outputs=False)
    def send_chunk(chunk: dict, ti=None) -> dict:
        from backoffice_export import config, export
        from backoffice_export.db.engine import engine_for_connection
        from backoffice_export.export_state import ClaimOwner
        from backoffice_export.retry_label import keep_label_on_retry

        keep_label_on_retry()  # Airflow 3.3 would clear the label while the chunk waits for a retry
        ids = chunk["ids"]
        print(chunk.get("label", chunk["administration"]), flush=True)
        owner = ClaimOwner(ti.dag_id, ti.run_id, ti.task_id, ti.map_index)
        result = export.send_chunk(engine_for_connection(config.DB_CONN_ID), ids, owner,
                                    reexport_pass=chunk.get("reexport_pass"))
        print(f"sent {result.sent}, failed {result.failed}, already done {result.skipped}, "
              f"waiting for a retry {result.left_for_retry}", flush=True)
        if result.left_for_retry:
            then = ("Airflow retries this task" if ti.try_number <= ti.max_tries else
                    "that was the last try: clear this task once the ERP is back, or the next run sends them")
            raise export.ChunkIncomplete(
                f"not sent for a transient reason: {result.left_for_retry} of {len(ids)} orders; {then}")
        return result.as_xcom()

    # No mail of its own: a red summary follows a chunk failure that already sent one. No retries:
    # it only reads the database, and the run should end as soon as its chunks have.
    @task(trigger_rule="all_done", retries=0, on_failure_callback=None, multiple_outputs=False)
    def summary(plan: dict) -> dict:
        from backoffice_export import config, export
        from backoffice_export.db.engine import engine_for_connection

        totals = export.summarise(engine_for_connection(config.DB_CONN_ID), plan)
        for connector, counts in totals.items():
            print(f"{connector}: " + ", ".join(f"{k} {v}" for k, v in counts.items()), flush=True)
        waiting = sum(c.get("waiting", 0) + c.get("claimed", 0) for c in totals.values())
        if waiting:
            # The run shows red while orders wait for a retry: clear the failed chunks once the ERP is back.
            raise export.OrdersLeftForRetry(f"{waiting} orders of this run were not sent yet and wait for a retry")
        return totals

    plan = extract()
    groups = []
    for name in CONNECTORS:

        @task_group(group_id=name)
        def connector_group(connector: str = name) -> None:
            pool = {"pool": f"{POOL_PREFIX}{connector}"} if POOL_PREFIX else {}
            send_chunk.override(**pool).expand(chunk=chunks_for(connector, plan[connector]))

        groups.append(connector_group())
    groups >> summary(plan)


send_orders_to_backoffice()
