"""Deliver files into an ERP's folder so that the ERP never reads half a file.

Each file is written under a temporary name (``.<name>.part``: hidden, and not matching the
ERP's ``*.xml`` / ``*.csv`` poller) and then renamed onto its final name, replacing an older
copy. The temporary name is fixed per file, so a retry after a cut connection overwrites the
stale partial instead of leaving another one behind; when a partial's order got a new number
(Reflecta resets it after a failed upload), opening the drop later sweeps temporary files
older than an hour (``stale_part_seconds``), which no running upload can still own. A sweep
lists the whole folder (and an ERP may keep every file it imported), so a connector asks for one
at most once per that interval (``sweep_due``): a leftover partial then lives at most twice as long.

One ``FileDrop`` is one transport connection: a chunk opens it once and puts all its files.
What can go wrong is reported in the two kinds the export needs: ``ConnectionLost`` (the
connection is unusable, the rest of the chunk must wait) or ``DeliveryError`` (this one file
was refused, the next may go). ``delivered_unknown`` marks failures after the rename was
issued: the ERP may have the file, so the order keeps its file name for the retry.
"""

from __future__ import annotations

import calendar
import contextlib
import ftplib
import io
import logging
import posixpath
import time
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from backoffice_export.errors import ConnectionLost, DeliveryError

log = logging.getLogger(__name__)
DATA_TIMEOUT = 30.0  # seconds an SFTP operation may wait for the server (extra "timeout")
# A temporary file this old is a leftover of a cut upload, not one in progress (extra "stale_part_seconds").
STALE_PART_SECONDS = 3600.0
# The key setting that records an administration's last sweep (``key_settings.once_every``).
SWEEP_KEY = "Export.LastStalePartSweep"


class FileDrop(Protocol):
    destination: str

    def put(self, name: str, data: bytes) -> str:
        """Upload ``data`` as ``name`` in the drop folder; return the final remote path."""

    def exists(self, name: str) -> bool: ...

    def sweep_stale_parts(self, older_than: float) -> list[str]: ...


def _describe(conn: Any, scheme: str, folder: str) -> str:
    port = f":{conn.port}" if conn.port else ""
    return f"{scheme}://{conn.host}{port}/{folder.lstrip('/')}"


def _folder(base: str | None, subfolder: str) -> str:
    joined = posixpath.join(base or "", subfolder) if subfolder else (base or "")
    normal = posixpath.normpath(joined) if joined else "."
    if normal.startswith("..") or "/../" in f"/{normal}/":
        raise ValueError(f"remote folder {joined!r} leaves the connection's root")
    return normal


def _levels(folder: str) -> Iterator[str]:
    """Each folder to make, outermost first (``a/b`` -> ``a``, ``a/b``); an absolute one stays so."""
    path = "/" if folder.startswith("/") else ""
    for part in folder.split("/"):
        if part not in {"", "."}:
            path = posixpath.join(path, part)
            yield path


def _temp_name(folder: str, name: str) -> str:
    return posixpath.join(folder, f".{name}.part")


class _SftpDrop:
    def __init__(self, hook: Any, client: Any, folder: str, destination: str, timeout: float) -> None:
        self.hook, self.client, self.folder, self.destination = hook, client, folder, destination
        # paramiko waits for an SFTP reply for ever by default: a stalled server would hold the
        # task until its execution timeout. Bound every operation like the FTP hooks do.
        client.get_channel().settimeout(timeout)
        if hook.isdir(folder):
            return
        for path in _levels(folder):
            try:
                client.mkdir(path)
            except OSError:
                # A parallel chunk made this level first: that is fine. (Checking only the whole
                # folder here failed the chunk that lost the race for a parent level.)
                if not hook.isdir(path):
                    raise

    def exists(self, name: str) -> bool:
        return bool(self.hook.path_exists(posixpath.join(self.folder, name)))

    def sweep_stale_parts(self, older_than: float) -> list[str]:
        """Delete temporary files a cut upload left behind (``.<name>.part`` older than that many
        seconds: younger ones may belong to a chunk uploading right now)."""
        now, removed = time.time(), []
        for entry in self.client.listdir_attr(self.folder):
            if _is_part(entry.filename) and now - (entry.st_mtime or now) >= older_than:
                with contextlib.suppress(OSError):
                    self.client.remove(posixpath.join(self.folder, entry.filename))
                    removed.append(entry.filename)
        return removed

    def put(self, name: str, data: bytes) -> str:
        final = posixpath.join(self.folder, name)
        temp = _temp_name(self.folder, name)
        renaming = False
        try:
            self.client.putfo(io.BytesIO(data), temp, file_size=len(data), confirm=True)
            renaming = True
            self.client.posix_rename(temp, final)
        except Exception as exc:  # paramiko raises OSError, EOFError and SSHException alike
            message = f"{self.destination}: {'rename' if renaming else 'upload'} of {name} failed: {_reason(exc)}"
            if _connection_gone(self.client):
                raise ConnectionLost(message, delivered_unknown=renaming) from exc
            with contextlib.suppress(OSError):
                self.client.remove(temp)
            raise DeliveryError(message) from exc
        return final

class _FtpDrop:
    def __init__(self, hook: Any, folder: str, destination: str) -> None:
        self.hook, self.folder, self.destination = hook, folder, destination
        conn = hook.get_conn()
        for path in _levels(folder):
            with contextlib.suppress(ftplib.error_perm):
                conn.mkd(path)

    def sweep_stale_parts(self, older_than: float) -> list[str]:
        """As for SFTP; modification times come from MLSD."""
        now, removed = time.time(), []
        try:
            entries = list(self.hook.get_conn().mlsd(self.folder, facts=["modify", "type"]))
        except ftplib.error_perm:
            return removed  # a server without MLSD: the fixed temporary name still limits leftovers
        for name, facts in entries:
            modified = facts.get("modify")
            age = now - calendar.timegm(time.strptime(modified[:14], "%Y%m%d%H%M%S")) if modified else 0.0
            if facts.get("type") == "file" and _is_part(name) and age >= older_than:
                with contextlib.suppress(ftplib.Error):
                    self.hook.delete_file(posixpath.join(self.folder, name))
                    removed.append(name)
        return removed

    def exists(self, name: str) -> bool:
        try:
            return self.hook.get_size(posixpath.join(self.folder, name)) is not None
        except ftplib.error_perm:
            return False

    def put(self, name: str, data: bytes) -> str:
        final = posixpath.join(self.folder, name)
        temp = _temp_name(self.folder, name)
        renaming = False
        try:
            # One write for the whole file: in 8 KiB blocks the last block waits for the server's
            # delayed ACK of the one before (Nagle).
            self.hook.store_file(temp, io.BytesIO(data), block_size=max(len(data), 8192))
            renaming = True
            try:
                self.hook.rename(temp, final)
            except ftplib.error_perm:
                # Some servers refuse to rename onto an existing file: replace it explicitly.
                if not self.exists(name):
                    raise
                self.hook.delete_file(final)
                self.hook.rename(temp, final)
        except (ftplib.error_perm, ftplib.error_temp, ftplib.error_reply) as exc:
            with contextlib.suppress(ftplib.Error, OSError, EOFError):
                self.hook.delete_file(temp)
            raise DeliveryError(f"{self.destination}: {'rename' if renaming else 'upload'} of {name} "
                                f"refused by the server: {exc}") from exc
        except (OSError, EOFError) as exc:
            raise ConnectionLost(
                f"{self.destination}: connection lost during {'rename' if renaming else 'upload'} of {name}: "
                f"{_reason(exc)}",
                delivered_unknown=renaming,
            ) from exc
        return final


def _is_part(name: str) -> bool:
    """Our temporary names only: a final name never starts with a dot (``safe_path_part``)."""
    return name.startswith(".") and name.endswith(".part") and len(name) > 6


def _sweep(drop: Any, older_than: float) -> None:
    """Best effort: a listing can fail while other chunks rename files in the same folder."""
    try:
        removed = drop.sweep_stale_parts(older_than)
    except (OSError, EOFError, ftplib.Error) as exc:
        log.info("%s: temporary files not swept this time: %s", drop.destination, _reason(exc))
        return
    if removed:
        log.warning("%s: removed %d temporary files left by cut uploads: %s", drop.destination, len(removed),
                    ", ".join(removed))


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, OSError) and text else f"{type(exc).__name__}: {text}".rstrip(": ")


def _connection_gone(client: Any) -> bool:
    channel = getattr(client, "sock", None)
    transport = channel.get_transport() if channel is not None else None
    return channel is None or channel.closed or transport is None or not transport.is_active()


@contextlib.contextmanager
def open_file_drop(conn_id: str, subfolder: str, *,
                   sweep_due: Callable[[float], bool] | None = None) -> Iterator[FileDrop]:
    """Open one connection to the folder ``<connection folder>/<subfolder>`` of ``conn_id``.

    The connection type decides the protocol: ``sftp`` (or ``ssh``), ``ftps``, or ``ftp``
    (with extra ``tls: true`` meaning FTPS). The connection's ``schema`` is the folder part of
    the address the seeds call ``Address`` (``sftp://host/topfolder`` -> ``topfolder``).
    ``sweep_due(stale_part_seconds)`` says whether to sweep stale partials this time (and
    records that it is due no more until that interval has passed); without it, every opening
    sweeps. A sweep is best effort: one that failed waits for the next interval.
    """
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(conn_id)
    kind = (conn.conn_type or "").lower()
    folder = _folder(conn.schema, subfolder)
    stale_after = float(conn.extra_dejson.get("stale_part_seconds", STALE_PART_SECONDS))
    # Asked before connecting: it reads the order database, and its failure is not the ERP's.
    sweeping = sweep_due is None or sweep_due(stale_after)
    if kind in {"sftp", "ssh"}:
        from backoffice_export.transport.sftp_hook import NoDelaySFTPHook

        # One attempt: Airflow retries the task with backoff, and the rest of the chunk waits for it.
        hook = NoDelaySFTPHook(ssh_conn_id=conn_id, conn_retry_attempts=1)
        destination = _describe(conn, "sftp", folder)
        with contextlib.ExitStack() as stack:
            try:
                client = stack.enter_context(hook.get_managed_conn())
                timeout = float(conn.extra_dejson.get("timeout", DATA_TIMEOUT))
                drop: FileDrop = _SftpDrop(hook, client, folder, destination, timeout)
                if sweeping:
                    _sweep(drop, stale_after)
            except Exception as exc:
                raise ConnectionLost(f"cannot connect to {destination}: {_ssh_reason(exc)}") from exc
            yield drop
        return
    if kind in {"ftp", "ftps"}:
        from backoffice_export.transport.ftp_hooks import TimeoutFTPHook, TrustedFTPSHook

        tls = kind == "ftps" or str(conn.extra_dejson.get("tls", "")).lower() == "true"
        hook_type = TrustedFTPSHook if tls else TimeoutFTPHook
        ftp_hook = hook_type(ftp_conn_id=conn_id)
        destination = _describe(conn, "ftps" if tls else "ftp", folder)
        try:
            drop = _FtpDrop(ftp_hook, folder, destination)
            if sweeping:
                _sweep(drop, stale_after)
        except (ftplib.Error, OSError, EOFError) as exc:
            raise ConnectionLost(f"cannot connect to {destination}: {_reason(exc)}") from exc
        try:
            yield drop
        finally:
            with contextlib.suppress(Exception):
                ftp_hook.close_conn()
        return
    raise ConnectionLost(f"connection {conn_id}: type {conn.conn_type!r} is not sftp, ftp or ftps")


def _ssh_reason(exc: BaseException) -> str:
    name = type(exc).__name__
    if name == "BadHostKeyException":
        return "the server's host key does not match the host_key pinned in the connection (refused)"
    if name == "SSHException" and "not found in known_hosts" in str(exc):
        return ("the server's host key is unknown: pin it in the connection extra host_key "
                "(host key checking stays on)")
    if name == "AuthenticationException":
        return "authentication refused"
    return _reason(exc)
