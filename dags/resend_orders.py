"""
### Resend orders

Sends chosen orders of one administration to its ERP again, sent ones included: for an ERP
that lost an order, or an order fixed after it failed. Trigger it from the UI (the form asks
for the administration and the order numbers) or with
`airflow dags trigger resend_orders --conf '{"administration": "demo-fashion", "order_numbers": ["5001"]}'`.

Numbers are App4Sales order numbers or backoffice order numbers. The task log lists the result
per number (sent, already at the ERP, failed, not found); the task fails if any of them is not
at the ERP now, or if the administration does not exist, so the run shows red.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import Param, dag, task


@dag(
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    doc_md=__doc__,
    tags=["backoffice-export"],
    params={
        "administration": Param("", type="string", minLength=1, description="Administration code"),
        "order_numbers": Param([], type="array", items={"type": "string"}, minItems=1, maxItems=1000,
                               description="App4Sales or backoffice order numbers, one per line"),
    },
)
def resend_orders() -> None:
    @task
    def resend(params: dict, ti=None) -> dict:
        from backoffice_export import config
        from backoffice_export.db.engine import engine_for_connection
        from backoffice_export.export_state import ClaimOwner
        from backoffice_export.resend import resend as resend_orders_now

        owner = ClaimOwner(ti.dag_id, ti.run_id, ti.task_id, ti.map_index)
        results = resend_orders_now(engine_for_connection(config.DB_CONN_ID), params["administration"],
                                    params["order_numbers"], owner)
        for result in results:
            print(result)
        failed = [r for r in results if not r.ok]
        if failed:
            raise RuntimeError(f"{len(failed)} of {len(results)} orders were not sent: "
                               + "; ".join(str(r) for r in failed))
        return {"sent": len(results)}

    resend()


resend_orders()
