"""Order documents for the StyleMan tests: small, explicit, every order with its own GUID."""

from __future__ import annotations

import json
import uuid
from typing import Any

CUSTOMER_GUID = "0d9b8c7a-6e5f-4a3b-8c2d-1e0f9a8b7c6d"


def styleman_admin(code: str, conn_id: str, *, orders: list[dict[str, Any]],
                   settings: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "code": code,
        "application_name": code.replace("-", "_"),
        "connector": "styleman",
        "connection_id": conn_id,
        "default_currency": "EUR",
        "settings": settings or {},
        "sales_reps": [{"code": "jdv", "user_name": "jan.devries", "warehouse": "AMS-01"}],
        "customers": [
            {"code": "C1", "guid": CUSTOMER_GUID, "name": "Boutique Amsterdam"},
            {"code": "C2", "guid": str(uuid.uuid4()), "name": "Mode Utrecht", "default_discount": "5"},
            {"code": "NO-GUID", "name": "Prospect without a StyleMan GUID"},
        ],
        "items": [
            {"code": "TS-M", "description": "T-shirt M", "vat_percentage": "21", "sales_price": "12.50"},
            {"code": "CAP", "description": "Cap", "vat_percentage": "21", "sales_price": "7.95"},
        ],
        "orders": orders,
    }


def sm_order(nr: str, *, customer: str = "C1", items: tuple[str, ...] = ("TS-M",), quantity: str = "2",
             **extra: Any) -> dict[str, Any]:
    return {
        "internal_order_nr": nr, "guid": str(uuid.uuid4()), "customer": customer, "sales_rep": "jdv",
        "order_date": "2026-11-20T10:00:00",
        "lines": [{"item": code, "quantity": quantity, "price": "12.50"} for code in items],
        **extra,
    }


def bind(monkeypatch: Any, api: Any, conn_id: str | None = None, auth_type: str = "client_credentials",
         **overrides: Any) -> str:
    """An Airflow connection (env var) to the StyleMan emulator; ``overrides`` replace its fields."""
    conn_id = conn_id or f"styleman_{uuid.uuid4().hex[:8]}"
    conn = api.airflow_connection(auth_type)
    conn.update(overrides)
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
    return conn_id


def guids(document: dict[str, Any]) -> dict[str, str]:
    """App4Sales number -> order GUID, for every order of a document."""
    return {o["internal_order_nr"]: o["guid"] for a in document["administrations"] for o in a["orders"]}
