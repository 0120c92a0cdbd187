"""The ledger's FastAPI app, mounted by ``plugins/export_ledger.py`` in the Airflow API server.

Routes (under the mount prefix, ``/backoffice-ledger``, set in the plugin):

    GET /                 the HTML page (filters: administration, connector, state; page, per_page);
                          state ``waiting`` is a failure a retry may cure, ``failed`` one for good
    GET /api/orders       the same rows as JSON, same query parameters
    GET /icon.svg         the icon of the navigation entry

Auth. Airflow 3.3 mounts a plugin's FastAPI app with ``app.mount()`` and does **not**
authenticate it: the core API's auth dependencies do not reach a mounted app, and no API
server middleware checks plugin routes. So this app does it itself, with what Airflow gives
its own routes (``airflow.api_fastapi.core_api.security``): every route depends on
``requires_access_dag("GET", TASK_INSTANCE)`` for the export DAG, which first resolves the
user from the ``Authorization: Bearer`` header or the UI's ``_token`` cookie (401 without
either) and then asks the configured auth manager (403 when refused). Who may read the export
DAG's task instances may read the ledger; anyone else gets nothing, not even the icon.

The order database is the Airflow connection ``app4sales_db`` (``BACKOFFICE_DB_CONN_ID``), read
only. No connection details are shown beyond each order's stored ``destination``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import sqlalchemy as sa
from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.core_api.security import requires_access_dag
from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response, status
from fastapi.responses import HTMLResponse

from backoffice_export import config
from backoffice_export.cli import DAG_ID
from backoffice_export.ledger.page import TITLE, render_ledger
from backoffice_export.ledger.queries import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    LedgerFilter,
    LedgerRow,
    filter_options,
    ledger_page,
)

# Airflow's own permission check, as on its REST routes; tests override this key.
can_read_ledger = requires_access_dag("GET", DagAccessEntity.TASK_INSTANCE, param_dag_id=DAG_ID)

ICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="#017cee" '
    'stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><rect x="4" y="3" width="16" '
    'height="18" rx="2"/><path d="M8 8h8M8 12h8M8 16h5"/></svg>'
)


def order_database() -> sa.Engine:
    """The engine of the Airflow connection ``app4sales_db`` (created once per process)."""
    from airflow.sdk.exceptions import AirflowNotFoundException

    from backoffice_export.db.engine import engine_for_connection

    try:
        return engine_for_connection(config.DB_CONN_ID)
    except AirflowNotFoundException as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            f"The Airflow connection {config.DB_CONN_ID!r} is not defined") from exc


def _filters(administration: str | None = None, connector: str | None = None,
             state: str | None = None) -> LedgerFilter:
    return LedgerFilter(administration, connector, state)


Engine = Annotated[sa.Engine, Depends(order_database)]
Filters = Annotated[LedgerFilter, Depends(_filters)]
PageNumber = Annotated[int, Query(ge=1)]
PageSize = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]


def _ui_root(request: Request) -> str:
    """The Airflow UI's base path: the API server's root path, not this app's mount point."""
    return str(request.scope.get("app_root_path", "")).rstrip("/")


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat() + "Z"


def _json_row(row: LedgerRow, ui_root: str) -> dict[str, Any]:
    path = row.task_instance_path
    return {
        "order_id": row.order_id,
        "administration": row.administration,
        "internal_order_nr": row.internal_order_nr,
        "connector": row.connector,
        "state": row.state,
        "backoffice_order_nr": row.backoffice_order_nr,
        "destination": row.destination,
        "error": row.error,
        "remark": row.remark,
        "attempts": row.attempts,
        "sent_at": _iso(row.sent_at),
        "updated_at": _iso(row.updated_at),
        "task_instance": None if path is None else {
            "dag_id": row.dag_id, "run_id": row.run_id, "task_id": row.task_id, "map_index": row.map_index,
            "url": f"{ui_root}/{path}",
        },
    }


def create_app() -> FastAPI:
    app = FastAPI(title=f"Backoffice export - {TITLE}", docs_url=None, redoc_url=None, openapi_url=None,
                  dependencies=[Depends(can_read_ledger)])

    @app.get("/", response_class=HTMLResponse)
    def ledger_html(request: Request, engine: Engine, filters: Filters, page: PageNumber = 1,
                    per_page: PageSize = DEFAULT_PAGE_SIZE) -> HTMLResponse:
        result = ledger_page(engine, filters, page=page, per_page=per_page)
        html = render_ledger(result, filters, filter_options(engine), ui_root=_ui_root(request))
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    @app.get("/api/orders")
    def ledger_json(request: Request, engine: Engine, filters: Filters, page: PageNumber = 1,
                    per_page: PageSize = DEFAULT_PAGE_SIZE) -> dict[str, Any]:
        result = ledger_page(engine, filters, page=page, per_page=per_page)
        ui_root = _ui_root(request)
        return {
            "total": result.total, "page": result.page, "per_page": result.per_page, "pages": result.pages,
            "filters": filters.as_params(),
            "orders": [_json_row(row, ui_root) for row in result.rows],
        }

    @app.get("/icon.svg")
    def icon() -> Response:
        return Response(ICON, media_type="image/svg+xml", headers={"Cache-Control": "max-age=3600"})

    return app
