"""One package per ERP connector, each with the same three faces.

- ``settings``: the administration's connector settings, validated, with the seed's names.
- ``mapping``: pure functions, order in, payload out.
- ``delivery``: a session that holds one transport connection for a chunk and sends orders.

``get_connector`` finds a connector by the name stored on the administration; a connector
that is not built yet is ``None`` and its orders stay pending.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # keep this module light: the DAG file imports it at parse time
    from backoffice_export.connectors.base import Connector

CONNECTORS: tuple[str, ...] = ("reflecta", "ezxml", "spector", "styleman", "accountview")


def get_connector(name: str) -> Connector | None:
    """The connector for ``name``, or ``None`` while its package does not exist yet."""
    if name not in CONNECTORS:
        raise ValueError(f"unknown connector {name!r}; expected one of {', '.join(CONNECTORS)}")
    try:
        module = importlib.import_module(f"backoffice_export.connectors.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"backoffice_export.connectors.{name}":
            return None
        raise
    return module.connector
