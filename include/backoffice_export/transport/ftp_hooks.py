"""FTP and FTPS hooks with a timeout, a CA option and no class-wide port; only ``get_conn`` is replaced.

Connection extras: docs/connectors.md.
"""

from __future__ import annotations

import ftplib
import logging
import ssl
from typing import Any

from airflow.providers.ftp.hooks.ftp import FTPHook, FTPSHook

log = logging.getLogger(__name__)
DEFAULT_TIMEOUT = 30.0


def _flag(extra: dict[str, Any], key: str, default: bool) -> bool:
    value = extra.get(key, default)
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes", "on"}
    return bool(value)


def _open(hook: FTPHook, *, tls: bool) -> ftplib.FTP:
    params = hook.get_connection(hook.ftp_conn_id)
    extra = params.extra_dejson
    timeout = float(extra.get("timeout", DEFAULT_TIMEOUT))
    encoding = extra.get("encoding") or "utf-8"
    if tls:
        context = ssl.create_default_context(cafile=extra.get("ca_file") or None)
        conn: ftplib.FTP = ftplib.FTP_TLS(context=context, timeout=timeout, encoding=encoding)  # noqa: S321
    else:
        if not _flag(extra, "allow_plain_ftp", False):
            raise PermissionError(
                f"connection {hook.ftp_conn_id}: plain FTP sends the password unencrypted; use FTPS "
                "(connection type ftps) or set the extra allow_plain_ftp=true to accept that"
            )
        log.warning("connection %s uses plain FTP: password and orders travel unencrypted", hook.ftp_conn_id)
        conn = ftplib.FTP(timeout=timeout, encoding=encoding)  # noqa: S321
    try:
        conn.connect(params.host or "", params.port or ftplib.FTP_PORT)
        conn.login(params.login or "", params.password or "")
        if isinstance(conn, ftplib.FTP_TLS):
            conn.prot_p()
    except BaseException:  # a refused login leaves no socket behind (uploads ahead try logins mid-chunk)
        conn.close()
        raise
    conn.set_pasv(_flag(extra, "passive", True))
    return conn


class TimeoutFTPHook(FTPHook):
    """Plain FTP, only by explicit opt-in, with timeouts."""

    def get_conn(self) -> ftplib.FTP:
        if self.conn is None:
            self.conn = _open(self, tls=False)
        return self.conn


class TrustedFTPSHook(FTPSHook):
    """Explicit FTPS (AUTH TLS, PROT P) verified against the connection's CA, with timeouts."""

    def get_conn(self) -> ftplib.FTP:
        if self.conn is None:
            self.conn = _open(self, tls=True)
        return self.conn
