"""EzXml order documents for tests that go through the order database (unit and end to end)."""

from __future__ import annotations

from typing import Any


def ezxml_admin(code: str, conn_id: str, *, settings: dict[str, Any] | None = None,
                orders: list[dict[str, Any]] | None = None, application_name: str | None = None) -> dict[str, Any]:
    return {
        "code": code,
        "application_name": application_name or code.replace("-", "_"),
        "connector": "ezxml",
        "connection_id": conn_id,
        "default_currency": "EUR",
        "settings": settings or {},
        "price_lists": [{"code": "GBP-LIST", "currency_iso": "GBP"}],
        "customers": [
            {"code": "C1", "name": "Boutique Amsterdam", "email": "inkoop@boutique.example", "phone": "020-1234567",
             "contacts": [{"first_name": "Eva", "last_name": "Jansen", "is_main": True}]},
            {"code": "C2", "name": "London Store", "price_list_code": "GBP-LIST"},
        ],
        "items": [
            {"code": "TS-RED-M", "description": "T-shirt red M", "model_description": "T-shirt", "ean": "8712345000019",
             "vat_percentage": "21", "stock": "12.345",
             "matrix_child": {"color_description": "Red", "style_number": "TS100", "color_sorting": 2}},
            {"code": "CAP", "description": "Cap", "vat_percentage": "21"},
        ],
        "orders": orders or [],
    }


def ezxml_order(nr: str, *, customer: str | None = "C1", items: tuple[str, ...] = ("TS-RED-M",),
                **extra: Any) -> dict[str, Any]:
    return {
        "internal_order_nr": nr, "customer": customer, "order_date": "2026-11-20T10:00:00",
        "lines": [{"item": code, "quantity": "2", "price": "12.10"} for code in items],
        **extra,
    }
