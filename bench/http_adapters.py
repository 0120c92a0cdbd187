"""Mapping-only calls and bare floors for the connectors other than Reflecta.

Mapping alone is each connector's own pure mapping and serialisation (and its validation, where
the connector validates before sending). The HTTP floor sends the same request bodies
(built by that mapping, before the clock starts) to a fresh emulator of the same API (in the
benchmark's server process, ``servers``), with a
bare ``requests.Session`` (one keep-alive connection) carrying the same credentials.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
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


def _url(conn: dict[str, Any], path: str) -> str:
    return f"{conn['schema']}://{conn['host']}:{conn['port']}/{path.lstrip('/')}"


def _spector_floor(payloads: list[Any], conn: dict[str, Any]) -> float:
    from backoffice_export.connectors.spector import api as spector

    session = requests.Session()
    session.auth = (conn["login"], conn["password"])
    session.headers.update({spector.SBM_HEADER: conn["extra"][spector.SBM_EXTRA],
                            spector.INTEGRATION_HEADER: conn["extra"][spector.INTEGRATION_HEADER],
                            "Content-Type": "application/json"})
    url = _url(conn, spector.ORDERS_PATH)
    began = time.perf_counter()
    for body in payloads:
        session.post(url, data=body, timeout=30).raise_for_status()
    return time.perf_counter() - began


def _styleman_floor(payloads: list[Any], conn: dict[str, Any]) -> float:
    session = requests.Session()
    session.auth = (conn["login"], conn["password"])
    session.headers["Content-Type"] = "application/json"
    url = _url(conn, "api/v1/Orders")
    began = time.perf_counter()
    for body in payloads:
        session.post(url, data=body, timeout=30).raise_for_status()
    return time.perf_counter() - began


def _accountview_floor(payloads: list[list[bytes]], conn: dict[str, Any]) -> float:
    """POST each order's first batch, then PUT its later batches, with one bearer token."""
    from backoffice_export.connectors.accountview.envelope import DATA_PATH, TOKEN_PATH

    session = requests.Session()
    token = session.post(_url(conn, TOKEN_PATH), data={
        "grant_type": "refresh_token", "refresh_token": conn["extra"]["refresh_token"], "client_id": conn["login"],
        "client_secret": conn["password"]}, timeout=30).json()["access_token"]
    session.headers.update({"Authorization": f"Bearer {token}", "x-company": conn["extra"]["x-company"],
                            "Content-Type": "application/json"})
    url = _url(conn, DATA_PATH)
    began = time.perf_counter()
    for first, *later in payloads:
        reply = session.post(url, data=first, timeout=30)
        reply.raise_for_status()
        number = str(reply.json()["SO_HDR"][0]["ORD_NR"]).encode()
        for body in later:
            session.put(url, data=body.replace(ORDER_NR_PLACEHOLDER, number), timeout=30).raise_for_status()
    return time.perf_counter() - began


FLOORS: dict[str, Callable[[Any, dict[str, Any]], float]] = {
    "spector": _spector_floor, "styleman": _styleman_floor, "accountview": _accountview_floor}


def floor(connector: str, payloads: list[Any], conn: dict[str, Any]) -> float | None:
    """Seconds a bare client loop takes to deliver ``payloads`` (built by ``mapper``) to the
    untouched floor emulator that ``conn`` reaches."""
    measure = FLOORS.get(connector)
    return measure(payloads, conn) if measure else None
