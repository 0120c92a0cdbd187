"""Loopback SFTP and FTPS servers that the demo and the tests deliver orders to.

They run inside the Python process (no Docker, no root), listen on 127.0.0.1 only, and are reached
through ordinary Airflow connections, so the product's real transport code is what gets exercised.

Layout under ``root``::

    sftp/<user>/...   what SFTP user <user> sees as /
    ftp/<user>/...    what FTP user <user> sees as /
    keys/             SFTP host key, and the client key pair the "sftp_key" connection logs in with
    tls/              the CA and server certificate of the FTPS server
    erp/<api>/        each ERP emulator's journal (its orders and numbers) and recorded requests

Everything there survives a restart; ``python -m erp_sandbox`` (``make sandbox``) runs them all
in the foreground for a scheduler of your own.
"""

from __future__ import annotations

import importlib
import os
import secrets
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import asyncssh

from .certificates import TlsFiles, make_tls_certificate
from .ftp_server import FtpFaults, FtpSandbox
from .sftp_server import SftpFaults, SftpSandbox, load_or_create_ssh_key

__all__ = [
    "CONNECTION_KINDS",
    "FtpFaults",
    "FtpSandbox",
    "Sandboxes",
    "SftpFaults",
    "SftpSandbox",
    "TlsFiles",
    "make_tls_certificate",
    "sandbox_connections",
]

# The emulated ERP APIs, by connector name; each module defines ``Api`` (an ``EmulatedApi``).
ERP_API_MODULES = {
    "spector": "erp_sandbox.spector_api",
    "styleman": "erp_sandbox.styleman_api",
    "accountview": "erp_sandbox.accountview_api",
}

# The connection kinds airflow_connection() makes, and which sandbox each one reaches.
CONNECTION_KINDS = {"sftp": "sftp", "sftp_key": "sftp", "ftps": "ftp"}
_CONN_TIMEOUT_SECONDS = 10


class Sandboxes:
    """One SFTP and one FTPS sandbox and the ERP emulators under ``root``, with ``user`` able to log
    in to both file servers.

    Passwords are fresh random ones for every instance unless given; the keys and certificates on
    disk are reused. ``ports`` fixes the ports by name (``sftp``, ``ftps``, ``spector``, ...);
    any other listens on a free one. Every server listens on ``listen`` (loopback unless told
    otherwise); ``host_names`` are further names the FTPS certificate is valid for.
    """

    def __init__(self, root: Path, user: str, ports: dict[str, int] | None = None,
                 passwords: dict[str, str] | None = None, listen: str = "127.0.0.1",
                 host_names: tuple[str, ...] = ()) -> None:
        self.root = root
        self.user = user
        ports = ports or {}
        self.tls: TlsFiles = make_tls_certificate(root / "tls", host_names)
        keys = root / "keys"
        self.sftp = SftpSandbox(root / "sftp", keys / "sftp_host_ed25519", ports.get("sftp", 0))
        self.ftp = FtpSandbox(root / "ftp", self.tls, ports.get("ftps", 0))
        self._client_key = _load_or_create_client_key(keys / "client_ed25519")
        self._passwords: dict[tuple[str, str], str] = {}
        self.add_user(user, **(passwords or {}))
        self.sftp.bind_host = self.ftp.bind_host = listen
        self.apis: dict[str, Any] = {}
        for connector, module_name in ERP_API_MODULES.items():
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name != module_name:
                    raise
                continue  # that ERP's emulator is not built yet
            self.apis[connector] = module.Api(root / "erp", ports.get(connector, 0))
            self.apis[connector].bind_host = listen

    def add_user(self, name: str, sftp: str | None = None, ftps: str | None = None) -> None:
        """Let ``name`` log in to both sandboxes with these passwords (new random ones when not given),
        and with the sandbox client key for SFTP."""
        sftp_password = sftp or secrets.token_urlsafe(24)
        ftp_password = ftps or secrets.token_urlsafe(24)
        self.sftp.add_user(name, password=sftp_password, authorized_key=self.client_public_key)
        self.ftp.add_user(name, ftp_password)
        self._passwords[("sftp", name)] = sftp_password
        self._passwords[("ftp", name)] = ftp_password

    @property
    def client_public_key(self) -> str:
        """The OpenSSH public key line that the ``sftp_key`` connection's private key belongs to."""
        return self._client_key.export_public_key("openssh").decode().strip()

    def start(self) -> None:
        """Start both servers (each returns once it listens)."""
        self.sftp.start()
        started: list[Any] = [self.sftp]
        try:
            self.ftp.start()
            started.append(self.ftp)
            for api in self.apis.values():
                api.start()
                started.append(api)
        except BaseException:
            for server in reversed(started):
                server.stop()
            raise

    def stop(self) -> None:
        """Stop both servers."""
        try:
            for api in self.apis.values():
                api.stop()
            self.ftp.stop()
        finally:
            self.sftp.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def airflow_connection(self, kind: str, conn_user: str, folder: str) -> dict[str, Any]:
        """An Airflow connection to the sandbox as a JSON-able dict, the form ``AIRFLOW_CONN_<ID>`` accepts.

        ``kind`` is ``"sftp"`` (password), ``"sftp_key"`` (private key, no password) or ``"ftps"``;
        ``folder`` goes into ``schema``, where the product reads its remote folder from.
        """
        protocol = _protocol(kind)
        password = self.password(kind, conn_user)
        conn: dict[str, Any] = {
            "conn_type": "ftps" if protocol == "ftp" else "sftp",
            "host": "127.0.0.1",
            "port": self.ftp.port if protocol == "ftp" else self.sftp.port,
            "login": conn_user,
            "schema": folder,
        }
        if kind == "ftps":
            conn["password"] = password
            conn["extra"] = {"ca_file": str(self.tls.ca_file), "passive": True}
            return conn
        extra: dict[str, Any] = {
            "host_key": self.sftp.host_key_line,
            "no_host_key_check": False,
            "conn_timeout": _CONN_TIMEOUT_SECONDS,
        }
        if kind == "sftp":
            conn["password"] = password
        else:
            extra["private_key"] = self._client_key.export_private_key("openssh").decode()
        conn["extra"] = extra
        return conn

    def password(self, kind: str, user: str | None = None) -> str:
        """The password of ``user`` (default: the main user) on the sandbox that ``kind`` reaches."""
        name = user or self.user
        password = self._passwords.get((_protocol(kind), name))
        if password is None:
            raise ValueError(f"no sandbox user {name!r}; add it with Sandboxes.add_user() first")
        return password

    def received_files(self, kind: str, user: str | None = None) -> dict[str, bytes]:
        """Every file in the user's folder on the ``kind`` sandbox: relative path (``/``-separated) to content."""
        protocol = _protocol(kind)
        sandbox = self.ftp if protocol == "ftp" else self.sftp
        return files_under(sandbox.user_root(user or self.user))


def sandbox_connections(document: dict[str, Any], sandboxes: Sandboxes, user: str) -> dict[str, dict[str, Any]]:
    """An Airflow connection for every ``connection_id`` an order document's administrations name.

    An API connector's connection reaches that ERP's emulator. For file connectors, a connection
    id ending in ``_ftps`` reaches the FTPS sandbox, any other one the SFTP sandbox, in a folder
    named after the administration's application (lower case).
    """
    connections: dict[str, dict[str, Any]] = {}
    for administration in document.get("administrations", []):
        conn_id = administration.get("connection_id")
        if not conn_id:
            continue
        api = sandboxes.apis.get(administration.get("connector", ""))
        if api is not None:
            connections[conn_id] = api.airflow_connection()
        else:
            kind = "ftps" if conn_id.lower().endswith("_ftps") else "sftp"
            folder = str(administration.get("application_name", "")).lower()
            connections[conn_id] = sandboxes.airflow_connection(kind, user, folder)
    return connections


def files_under(home: Path) -> dict[str, bytes]:
    """Every file below ``home``: relative path (``/``-separated) to content, in a stable order."""
    files: dict[str, bytes] = {}
    if not home.is_dir():
        return files
    for dirpath, dirnames, filenames in os.walk(home):
        dirnames.sort()
        for filename in sorted(filenames):
            path = Path(dirpath) / filename
            files[path.relative_to(home).as_posix()] = path.read_bytes()
    return files


def _protocol(kind: str) -> str:
    try:
        return CONNECTION_KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown sandbox connection kind {kind!r}; use one of {sorted(CONNECTION_KINDS)}") from None


def _load_or_create_client_key(path: Path) -> asyncssh.SSHKey:
    """The sandbox's SSH client key (ed25519), made once and kept with its ``.pub`` next to it."""
    key = load_or_create_ssh_key(path, comment="backoffice-export sandbox client")
    path.with_name(path.name + ".pub").write_bytes(key.export_public_key("openssh"))
    return key
