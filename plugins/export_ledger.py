"""Export ledger: a page in the Airflow UI listing every order's export state.

The FastAPI app (``backoffice_export.ledger.app``) is mounted by the API server under
``/backoffice-ledger``; the external view puts it in the UI's navigation, rendered in an iframe
at ``/plugin/backoffice-ledger``. See ``docs/ledger.md``.

Airflow does not authenticate plugin FastAPI apps; the ledger app checks the caller itself
(Airflow's ``requires_access_dag`` on the export DAG's task instances), see its docstring.

Every Airflow process imports this file (task processes load plugins for their macros), so it
stays light: the app, with Airflow's API-server security code, is only built when the API server
asks for ``fastapi_apps``.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, ClassVar

from airflow.plugins_manager import AirflowPlugin

URL_PREFIX = "/backoffice-ledger"


class ExportLedgerPlugin(AirflowPlugin):
    name = "backoffice_export_ledger"
    external_views: ClassVar[list[dict[str, Any]]] = [
        {
            "name": "Exports",  # the nav label: short, longer names are cut off under the icon
            # Relative to the UI's base URL (no leading slash), so it works under a base_url path too.
            "href": f"{URL_PREFIX.lstrip('/')}/",
            "url_route": "backoffice-ledger",
            "destination": "nav",
            "icon": f"{URL_PREFIX.lstrip('/')}/icon.svg",
            "nav_top_level": True,
        },
    ]

    @cached_property
    def fastapi_apps(self) -> list[dict[str, Any]]:  # type: ignore[override]
        from backoffice_export.ledger.app import create_app

        return [{"app": create_app(), "url_prefix": URL_PREFIX, "name": "Backoffice export ledger"}]
