"""The floor: the same payloads delivered by a bare client loop, nothing else in it.

The payloads are built once by the connector's own ``build`` (a session opened on a copy of the
order database, so the numbers match the pipeline's), then sent over one connection with the
same client library and the same protocol steps as the product: a file under its temporary name
and then renamed (SFTP, FTPS), one POST per order (HTTP). No Airflow, no database, no mapping.
"""

from __future__ import annotations

import base64
import contextlib
import ftplib
import io
import socket
import ssl
import time
from collections.abc import Callable
from typing import Any

import requests
import sqlalchemy as sa

FILE_CONNECTORS = ("reflecta", "ezxml")


def build_payloads(engine: sa.Engine, order_ids: list[int]) -> list[Any]:
    """Each order's payload, from its connector's own session ``build``: (name, bytes) for a
    file, the request body for an HTTP API."""
    from backoffice_export import repository
    from backoffice_export.connectors import get_connector

    heads = repository.order_heads(engine, order_ids)
    administration = repository.administration(engine, heads[0].administration_id)
    connector = get_connector(administration.connector)
    settings = connector.parse_settings(administration.settings)
    payloads: list[Any] = []
    with connector.open_session(administration, settings, engine) as session:
        for order in repository.load_orders(engine, order_ids):
            built = session.build(order)
            if administration.connector in FILE_CONNECTORS:
                payloads.append((built.file_name, built.data))
            elif administration.connector == "accountview":
                assert built.first is not None and built.line_count <= built.first.progress.batch_size, \
                    "the benchmark's AccountView orders go in one batch"
                payloads.append(built.first.body)
            else:
                payloads.append(built if isinstance(built, bytes) else built.body)
    return payloads


def deliver(connector: str, conn: dict[str, Any], payloads: list[Any]) -> float:
    """Seconds to connect, deliver every payload and close, through ``conn``."""
    return FLOORS[connector](conn, payloads)


def _sftp(conn: dict[str, Any], files: list[tuple[str, bytes]]) -> float:
    import paramiko

    began = time.perf_counter()
    sock = socket.create_connection((conn["host"], conn["port"]), timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as the product's NoDelaySFTPHook
    client = paramiko.SSHClient()
    key_type, key_data = conn["extra"]["host_key"].split()[:2]
    client.get_host_keys().add(f"[{conn['host']}]:{conn['port']}", key_type,
                               paramiko.PKey.from_type_string(key_type, base64.b64decode(key_data)))
    # As the product's SFTPHook: compression on unless the extra says "compress": false.
    compress = str(conn.get("extra", {}).get("compress", "true")).lower() != "false"
    client.connect(conn["host"], conn["port"], conn["login"], conn["password"], look_for_keys=False,
                   allow_agent=False, compress=compress, sock=sock)
    sftp = client.open_sftp()
    folder = conn["schema"]
    with contextlib.suppress(OSError):
        sftp.mkdir(folder)
    for name, data in files:
        sftp.putfo(io.BytesIO(data), f"{folder}/.{name}.part", file_size=len(data), confirm=True)
        sftp.posix_rename(f"{folder}/.{name}.part", f"{folder}/{name}")
    client.close()
    return time.perf_counter() - began


def _ftps(conn: dict[str, Any], files: list[tuple[str, bytes]]) -> float:
    began = time.perf_counter()
    context = ssl.create_default_context(cafile=conn["extra"]["ca_file"])
    ftp = ftplib.FTP_TLS(context=context, timeout=30)  # noqa: S321 - TLS on control and data
    ftp.connect(conn["host"], conn["port"])
    ftp.login(conn["login"], conn["password"])
    ftp.prot_p()
    folder = conn["schema"]
    with contextlib.suppress(ftplib.error_perm):
        ftp.mkd(folder)
    for name, data in files:
        ftp.storbinary(f"STOR {folder}/.{name}.part", io.BytesIO(data), max(len(data), 8192))  # as file_drop does
        ftp.rename(f"{folder}/.{name}.part", f"{folder}/{name}")
    ftp.quit()
    return time.perf_counter() - began


def _url(conn: dict[str, Any], path: str) -> str:
    return f"{conn['schema']}://{conn['host']}:{conn['port']}/{path.lstrip('/')}"


def _post_all(session: requests.Session, url: str, bodies: list[bytes]) -> None:
    for body in bodies:
        session.post(url, data=body, timeout=30).raise_for_status()


def _spector(conn: dict[str, Any], bodies: list[bytes]) -> float:
    from backoffice_export.connectors.spector import api as spector

    began = time.perf_counter()
    with requests.Session() as session:
        session.auth = (conn["login"], conn["password"])
        session.headers.update({spector.SBM_HEADER: conn["extra"][spector.SBM_EXTRA],
                                spector.INTEGRATION_HEADER: conn["extra"][spector.INTEGRATION_HEADER],
                                "Content-Type": "application/json"})
        _post_all(session, _url(conn, spector.ORDERS_PATH), bodies)
    return time.perf_counter() - began


def _styleman(conn: dict[str, Any], bodies: list[bytes]) -> float:
    began = time.perf_counter()
    with requests.Session() as session:
        session.auth = (conn["login"], conn["password"])
        session.headers["Content-Type"] = "application/json"
        _post_all(session, _url(conn, "api/v1/Orders"), bodies)
    return time.perf_counter() - began


def _accountview(conn: dict[str, Any], bodies: list[bytes]) -> float:
    from backoffice_export.connectors.accountview.envelope import DATA_PATH, TOKEN_PATH

    began = time.perf_counter()
    with requests.Session() as session:
        token = session.post(_url(conn, TOKEN_PATH), data={
            "grant_type": "refresh_token", "refresh_token": conn["extra"]["refresh_token"],
            "client_id": conn["login"], "client_secret": conn["password"]}, timeout=30).json()["access_token"]
        session.headers.update({"Authorization": f"Bearer {token}", "x-company": conn["extra"]["x-company"],
                                "Content-Type": "application/json"})
        _post_all(session, _url(conn, DATA_PATH), bodies)
    return time.perf_counter() - began


FLOORS: dict[str, Callable[[dict[str, Any], list[Any]], float]] = {
    "reflecta": _sftp, "ezxml": _ftps, "spector": _spector, "styleman": _styleman, "accountview": _accountview}
