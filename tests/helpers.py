"""Order documents for tests, built small and explicit."""

from __future__ import annotations

import json
import os
import uuid
from typing import Any


def reflecta_admin(code: str, conn_id: str, *, orders: list[dict[str, Any]] | None = None,
                   settings: dict[str, Any] | None = None, application_name: str | None = None) -> dict[str, Any]:
    return {
        "code": code,
        "application_name": application_name or code.replace("-", "_"),
        "connector": "reflecta",
        "connection_id": conn_id,
        "default_currency": "EUR",
        "settings": {"CompanyCode": "01"} if settings is None else settings,
        "price_lists": [{"code": "GBP-LIST", "currency_iso": "GBP"}],
        "customers": [
            {"code": "C1", "name": "Boutique Amsterdam"},
            {"code": "C2", "name": "London Store", "price_list_code": "GBP-LIST"},
        ],
        "items": [
            {"code": "TS-M", "vat_percentage": "21",
             "extra_data": {"BackofficeItemCode": "TS100", "ItemDimension": "RED", "ItemDimensionSize": "M"}},
            {"code": "CAP", "vat_percentage": "21", "extra_data": {"BackofficeItemCode": "CP200"}},
            {"code": "NO-EXTRA", "vat_percentage": "21"},
        ],
        "orders": orders if orders is not None else [],
    }


def order(nr: str, *, customer: str = "C1", order_nr: str | None = None, items: tuple[str, ...] = ("TS-M",),
          **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "internal_order_nr": nr, "customer": customer, "order_date": "2026-11-20T10:00:00",
        "lines": [{"item": code, "quantity": "2", "price": "12.50"} for code in items],
        **extra,
    }
    if order_nr is not None:
        doc["order_nr"] = order_nr
    return doc


def bind_connection(monkeypatch: Any, sandboxes: Any, kind: str, *, folder: str | None = None,
                    conn_id: str | None = None, **overrides: Any) -> tuple[str, str]:
    """Create an Airflow connection (env var) to a sandbox folder of its own; return (id, folder)."""
    conn_id = conn_id or f"erp_{uuid.uuid4().hex[:8]}"
    folder = folder or f"f{uuid.uuid4().hex[:8]}"
    conn = sandboxes.airflow_connection(kind, "app4sales", folder)
    conn.update(overrides)
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
    assert f"AIRFLOW_CONN_{conn_id.upper()}" in os.environ
    return conn_id, folder
