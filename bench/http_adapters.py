"""Mapping-only calls and bare floors for the connectors other than Reflecta.

Mapping alone is each connector's own pure mapping and serialisation (and its validation, where
the connector validates before sending). The HTTP floor sends the same request bodies
(built by that mapping, before the clock starts) to a fresh emulator of the same API, with a
bare ``requests.Session`` (one keep-alive connection) carrying the same credentials.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import requests

# AccountView numbers the order on the first batch; later batches name that number.
ORDER_NR_PLACEHOLDER = b"@@ORD_NR@@"


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


def _accountview_mapper(settings: Any) -> Callable[[Any], list[bytes]]:
    from datetime import datetime

    from backoffice_export.connectors.accountview import envelope, mapping
    from backoffice_export.mapping import exact_json

    def build(order: Any) -> list[bytes]:
        stamp = datetime.now()
        tables = mapping.build_order(order, settings, stamp)
        size = settings.OrderLinesBatchCount or len(tables.lines.rows)
        text = envelope.datetime_value(stamp)
        bodies = [exact_json.dumps(envelope.insert_body(text, tables.header, tables.lines.slice(0, size)))]
        for start in range(size, len(tables.lines.rows), size):
            bodies.append(exact_json.dumps(envelope.update_body(
                text, ORDER_NR_PLACEHOLDER.decode(), tables.lines.slice(start, start + size))))
        return bodies

    return build


MAPPERS: dict[str, Callable[[Any], Callable[[Any], Any]]] = {
    "ezxml": _ezxml_mapper, "spector": _spector_mapper, "styleman": _styleman_mapper,
    "accountview": _accountview_mapper}


def mapper(connector: str, settings: Any) -> Callable[[Any], Any] | None:
    make = MAPPERS.get(connector)
    return make(settings) if make else None


def _spector_floor(payloads: list[Any], root: Path) -> float:
    from backoffice_export.connectors.spector import api as spector
    from backoffice_export.sandbox.spector_api import Api

    with Api(root / "floor") as fresh:
        session = requests.Session()
        session.auth = (fresh.api_user, fresh.api_key)
        session.headers.update({spector.SBM_HEADER: fresh.default_company,
                                spector.INTEGRATION_HEADER: fresh.integration_token,
                                "Content-Type": "application/json"})
        url = f"{fresh.base_url}/{spector.ORDERS_PATH}"
        began = time.perf_counter()
        for body in payloads:
            session.post(url, data=body, timeout=30).raise_for_status()
        return time.perf_counter() - began


def _styleman_floor(payloads: list[Any], root: Path) -> float:
    from backoffice_export.sandbox.styleman_api import Api

    with Api(root / "floor") as fresh:
        session = requests.Session()
        session.auth = (fresh.basic_user, fresh.basic_password)
        session.headers["Content-Type"] = "application/json"
        url = f"{fresh.base_url}/api/v1/Orders"
        began = time.perf_counter()
        for body in payloads:
            session.post(url, data=body, timeout=30).raise_for_status()
        return time.perf_counter() - began


def _accountview_floor(payloads: list[list[bytes]], root: Path) -> float:
    """POST each order's first batch, then PUT its later batches, with one bearer token."""
    from backoffice_export.connectors.accountview.envelope import DATA_PATH, TOKEN_PATH
    from backoffice_export.sandbox.accountview_api import Api

    with Api(root / "floor") as fresh:
        session = requests.Session()
        token = session.post(f"{fresh.base_url}/{TOKEN_PATH}", data={
            "grant_type": "refresh_token", "refresh_token": fresh.refresh_token, "client_id": fresh.client_id,
            "client_secret": fresh.client_secret}, timeout=30).json()["access_token"]
        session.headers.update({"Authorization": f"Bearer {token}", "x-company": fresh.company_id,
                                "Content-Type": "application/json"})
        url = f"{fresh.base_url}/{DATA_PATH}"
        began = time.perf_counter()
        for first, *later in payloads:
            reply = session.post(url, data=first, timeout=30)
            reply.raise_for_status()
            number = str(reply.json()["SO_HDR"][0]["ORD_NR"]).encode()
            for body in later:
                session.put(url, data=body.replace(ORDER_NR_PLACEHOLDER, number), timeout=30).raise_for_status()
        return time.perf_counter() - began


FLOORS: dict[str, Callable[[Any, Path], tuple[float, int]]] = {
    "spector": _spector_floor, "styleman": _styleman_floor, "accountview": _accountview_floor}


def floor(connector: str, payloads: list[Any], root: Path) -> float | None:
    """Seconds a bare client loop takes to deliver ``payloads`` (built by ``mapper``)."""
    measure = FLOORS.get(connector)
    return measure(payloads, root) if measure else None
