"""Per connector: the benchmark's administration, its mapping-only call, and its bare floor.

The floor delivers the pipeline's payloads (built by each connector's own mapping, with
stand-in order numbers) to the same servers, over the same client library, on one reused
connection, with nothing else in the loop: no Airflow, no database, no mapping. File hand-offs
keep their protocol (temporary name, then rename) so both sides pay the same round trips. An
untimed warm-up pass comes first: whatever ran first against the fresh servers was up to a
third slower (their code and memory still cold). The timed floor is then taken beside each
chunk of the pipeline (``paired_floor``), to destinations of its own.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from backoffice_export import repository
from backoffice_export.connectors import get_connector
from bench.generate import Target
from bench.servers import EZXML_FORMATS, RemoteSandboxes


def _bind(conn_id: str, conn: dict[str, Any]) -> None:
    os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(conn)


def targets(servers: RemoteSandboxes) -> list[Target]:
    """Every connector, and each of EzXml's three formats, bound to the server process's connections."""
    for conn_id, conn in servers.connections.items():
        _bind(conn_id, conn)
    chosen = [Target("reflecta", "reflecta", "bench_reflecta", {"CompanyCode": "01"})]
    for fmt in EZXML_FORMATS:
        settings: dict[str, Any] = {"OrderFormat": fmt}
        if fmt == "Reflecta":
            settings.update({"ReflectaProviderCode": "A4S", "ReflectaCompanyCode": "01",
                             "ReflectaDeliveryTermCode": "DAP"})
        chosen.append(Target(f"ezxml-{fmt.lower()}", "ezxml", f"bench_ezxml_{fmt.lower()}", settings))
    for connector, settings in HTTP_SETTINGS.items():
        chosen.append(Target(connector, connector, f"bench_{connector}", settings))
    return chosen


HTTP_SETTINGS: dict[str, dict[str, Any]] = {
    "spector": {},
    "styleman": {},
    "accountview": {"OrderLinesBatchCount": 50},
}


# -- mapping alone ----------------------------------------------------------------------------

def _reflecta_mapper(settings: Any) -> Callable[[Any], bytes]:
    from backoffice_export.connectors.reflecta import mapping
    from backoffice_export.connectors.reflecta.delivery import XSD
    from backoffice_export.mapping.xml import to_bytes, validate

    def build(order: Any) -> bytes:
        root = mapping.build_order(order, settings, order.order_nr or "1")
        validate(root, XSD)
        return to_bytes(root)

    return build


def _mapper(connector: str, settings: Any) -> Callable[[Any], Any] | None:
    if connector == "reflecta":
        return _reflecta_mapper(settings)
    from bench import http_adapters

    return http_adapters.mapper(connector, settings)


def mapping_rates(engine: sa.Engine, chosen: list[Target], chunk: int = 500) -> dict[str, float]:
    """Orders per second through each connector's mapping and serialisation, nothing else."""
    from backoffice_export.db import schema as s

    spent: dict[str, float] = {}
    counted: dict[str, int] = {}
    with engine.connect() as conn:
        admins = dict(conn.execute(sa.select(s.administrations.c.code, s.administrations.c.id)).all())
    for target in chosen:
        connector = get_connector(target.connector)
        mapper = _mapper(target.connector, connector.parse_settings(target.settings))
        if mapper is None:
            continue
        with engine.connect() as conn:
            ids = list(conn.execute(sa.select(s.orders.c.id).where(
                s.orders.c.administration_id == admins[f"bench-{target.name}"])).scalars())
        for start in range(0, len(ids), chunk):
            orders = repository.load_orders(engine, ids[start:start + chunk])
            began = time.perf_counter()
            for order in orders:
                mapper(order)
            spent[target.connector] = spent.get(target.connector, 0.0) + time.perf_counter() - began
            counted[target.connector] = counted.get(target.connector, 0) + len(orders)
    return {c: counted[c] / spent[c] for c in spent if spent[c]}


# -- the floor ----------------------------------------------------------------------------------

def _sftp_floor(conn: dict[str, Any], files: list[tuple[str, bytes]], folder: str) -> float:
    import paramiko

    client = paramiko.SSHClient()
    key_type, key_data = conn["extra"]["host_key"].split()[:2]
    client.get_host_keys().add(f"[{conn['host']}]:{conn['port']}", key_type,
                               paramiko.PKey.from_type_string(key_type, base64.b64decode(key_data)))
    # The same SSH settings the product's SFTPHook uses: compression unless the connection's
    # extra says "compress": false (Airflow's SSHHook default).
    compress = str(conn.get("extra", {}).get("compress", "true")).lower() != "false"
    client.connect(conn["host"], conn["port"], conn["login"], conn["password"], look_for_keys=False,
                   allow_agent=False, compress=compress)
    sftp = client.open_sftp()
    with contextlib.suppress(OSError):
        sftp.mkdir(folder)
    began = time.perf_counter()
    for name, data in files:
        sftp.putfo(io.BytesIO(data), f"{folder}/.{name}.part", file_size=len(data), confirm=True)
        sftp.posix_rename(f"{folder}/.{name}.part", f"{folder}/{name}")
    elapsed = time.perf_counter() - began
    client.close()
    return elapsed


def _ftps_floor(conn: dict[str, Any], files: list[tuple[str, bytes]], folder: str) -> float:
    import ftplib
    import ssl

    context = ssl.create_default_context(cafile=conn["extra"]["ca_file"])
    ftp = ftplib.FTP_TLS(context=context, timeout=30)  # noqa: S321
    ftp.connect(conn["host"], conn["port"])
    ftp.login(conn["login"], conn["password"])
    ftp.prot_p()
    with contextlib.suppress(ftplib.error_perm):
        ftp.mkd(folder)
    began = time.perf_counter()
    for name, data in files:
        ftp.storbinary(f"STOR {folder}/.{name}.part", io.BytesIO(data), max(len(data), 8192))  # as file_drop does
        ftp.rename(f"{folder}/.{name}.part", f"{folder}/{name}")
    elapsed = time.perf_counter() - began
    ftp.quit()
    return elapsed


def _file_name(target: Target, order: Any) -> str:
    extension = "csv" if target.settings.get("OrderFormat") == "CSV" else "xml"
    return f"{order.internal_order_nr}.{extension}"


def floor_payloads(engine: sa.Engine, chosen: list[Target], folder: Path) -> dict[str, Path]:
    """Each target's payloads, built once by its own mapping before the pipeline runs (the
    pipeline's bytes, with stand-in order numbers), so every floor pass replays the very same
    ones. Kept on disk between passes, not in the process the pipeline runs in."""
    import pickle

    folder.mkdir(parents=True, exist_ok=True)
    stored = {}
    for target in chosen:
        build = _mapper(target.connector, get_connector(target.connector).parse_settings(target.settings))
        assert build is not None
        payloads: list[Any] = []
        for order in _orders_of(engine, target):
            payload = build(order)
            payloads.append((_file_name(target, order), payload) if target.connector in FILE_CONNECTORS else payload)
        stored[target.name] = folder / f"{target.name}.pickle"
        stored[target.name].write_bytes(pickle.dumps(payloads))
    return stored


FILE_CONNECTORS = ("reflecta", "ezxml")


def floor_rates(servers: RemoteSandboxes, chosen: list[Target], payloads: dict[str, Path],
                floor_pass: str, *, limit: int | None = None) -> dict[str, float]:
    """Orders per second when the same payloads (the first ``limit``) go out through a bare
    client loop: one pass, to untouched destinations (a folder of its own, a fresh emulator)."""
    import pickle

    seconds: dict[str, float] = {}
    counted: dict[str, int] = {}
    for target in chosen:
        loaded = pickle.loads(payloads[target.name].read_bytes())[:limit]  # noqa: S301 (written by floor_payloads)
        elapsed = floor_seconds(servers, target, loaded, floor_pass)
        if elapsed is None:
            continue
        seconds[target.connector] = seconds.get(target.connector, 0.0) + elapsed
        counted[target.connector] = counted.get(target.connector, 0) + len(loaded)
    return {c: counted[c] / seconds[c] for c in seconds if seconds[c]}


def floor_seconds(servers: RemoteSandboxes, target: Target, loaded: list[Any], floor_pass: str) -> float | None:
    """Seconds the bare client loop takes to deliver ``loaded`` for ``target`` (connecting not
    counted), to that pass's folder or emulator."""
    from bench import http_adapters

    conn = servers.connections[target.connection_id]
    if target.connector == "reflecta":
        return _sftp_floor(conn, loaded, f"floor-{floor_pass}")
    if target.connector == "ezxml":
        return _ftps_floor(conn, loaded, f"floor-{floor_pass}")
    return http_adapters.floor(target.connector, loaded, servers.floor[floor_pass][target.connector])


def _orders_of(engine: sa.Engine, target: Target, chunk: int = 500) -> Iterator[Any]:
    from backoffice_export.db import schema as s

    with engine.connect() as conn:
        ids = list(conn.execute(
            sa.select(s.orders.c.id).join(s.administrations, s.administrations.c.id == s.orders.c.administration_id)
            .where(s.administrations.c.code == f"bench-{target.name}").order_by(s.orders.c.id)).scalars())
    for start in range(0, len(ids), chunk):
        yield from repository.load_orders(engine, ids[start:start + chunk])
