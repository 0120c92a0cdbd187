"""Mapping-only calls and bare floors for the connectors other than Reflecta.

Mapping alone is each connector's own pure mapping and serialisation (and its validation, where
the connector validates before sending). The HTTP floor replays the request bodies the ERP
emulator accepted during the pipeline run to a fresh emulator of the same API, with a bare
``requests.Session`` (one keep-alive connection) carrying the same credentials.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import requests


def _ezxml_mapper(settings: Any) -> Callable[[Any], bytes]:
    from backoffice_export.connectors.ezxml.delivery import EzXmlSession

    def build(order: Any) -> bytes:
        session = EzXmlSession(order.administration, settings, engine=None, drop=None)  # type: ignore[arg-type]
        return session.render(order, session.stand_in_numbers(order))

    return build


def _spector_mapper(settings: Any) -> Callable[[Any], bytes]:
    from backoffice_export.connectors.spector import mapping, validation
    from backoffice_export.mapping import exact_json

    def build(order: Any) -> bytes:
        payload = mapping.build_order(order, settings, date.today())
        validation.validate(payload)
        return exact_json.dumps(payload)

    return build


def _styleman_mapper(settings: Any) -> Callable[[Any], bytes]:
    from datetime import datetime

    from backoffice_export.connectors.styleman import mapping
    from backoffice_export.mapping import exact_json

    def build(order: Any) -> bytes:
        sales_order = mapping.build_sales_order(order, settings, created=datetime.now())
        return exact_json.dumps(mapping.request_body(sales_order, settings))

    return build


MAPPERS: dict[str, Callable[[Any], Callable[[Any], Any]]] = {
    "ezxml": _ezxml_mapper, "spector": _spector_mapper, "styleman": _styleman_mapper}


def mapper(connector: str, settings: Any) -> Callable[[Any], Any] | None:
    make = MAPPERS.get(connector)
    return make(settings) if make else None


def _posts(api: Any) -> list[dict[str, Any]]:
    return [r for r in api.recorded() if r["method"] == "POST"]


def _spector_floor(sandboxes: Any, root: Path) -> tuple[float, int]:
    from backoffice_export.connectors.spector import api as spector
    from backoffice_export.sandbox.spector_api import Api

    recorded = _posts(sandboxes.apis["spector"])
    with Api(root / "floor") as fresh:
        session = requests.Session()
        session.auth = (fresh.api_user, fresh.api_key)
        session.headers.update({spector.SBM_HEADER: fresh.default_company,
                                spector.INTEGRATION_HEADER: fresh.integration_token,
                                "Content-Type": "application/json"})
        bodies = [json.dumps(r["body"]).encode() for r in recorded]
        url = f"{fresh.base_url}/{spector.ORDERS_PATH}"
        began = time.perf_counter()
        for body in bodies:
            session.post(url, data=body, timeout=30).raise_for_status()
        return time.perf_counter() - began, len(bodies)


def _styleman_floor(sandboxes: Any, root: Path) -> tuple[float, int]:
    from backoffice_export.sandbox.styleman_api import Api

    recorded = _posts(sandboxes.apis["styleman"])
    recorded = [r for r in recorded if r["path"].lower().endswith("/orders")]
    with Api(root / "floor") as fresh:
        session = requests.Session()
        session.auth = (fresh.basic_user, fresh.basic_password)
        session.headers["Content-Type"] = "application/json"
        began = time.perf_counter()
        for r in recorded:
            session.post(f"{fresh.base_url}{r['path']}", data=json.dumps(r["body"]).encode(),
                         timeout=30).raise_for_status()
        return time.perf_counter() - began, len(recorded)


FLOORS: dict[str, Callable[[Any, Path], tuple[float, int]]] = {"spector": _spector_floor, "styleman": _styleman_floor}


def floor(connector: str, sandboxes: Any, root: Path) -> tuple[float, int] | None:
    measure = FLOORS.get(connector)
    return measure(sandboxes, root) if measure else None
