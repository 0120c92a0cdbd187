"""A loopback SFTP server (asyncssh) for the demo and the tests, with switchable faults.

It speaks real SSH, so the product's own SFTPHook (paramiko) connects to it exactly as it would to
a customer's server: host key pinned, password or public-key login, each user jailed to a folder.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import asyncssh

log = logging.getLogger(__name__)

_T = TypeVar("_T")

# Any of these open flags means the client intends to write.
_WRITE_FLAGS = asyncssh.FXF_WRITE | asyncssh.FXF_APPEND | asyncssh.FXF_CREAT | asyncssh.FXF_TRUNC
_THREAD_TIMEOUT = 10.0
_THREAD_NAME = "sftp-sandbox"


@dataclass
class SftpFaults:
    """Failures a test can switch on while the server runs; read on every request."""

    deny_write: bool = False
    deny_rename: bool = False
    cut_after_bytes: int | None = None
    reject_auth: bool = False
    # Sessions (SFTP channels) a client may open per connection; OpenSSH's MaxSessions, which some
    # backoffice servers set to 1. None: no limit.
    sessions_per_connection: int | None = None

    def reset(self) -> None:
        """Switch every fault off again (between tests)."""
        self.deny_write = False
        self.deny_rename = False
        self.cut_after_bytes = None
        self.reject_auth = False
        self.sessions_per_connection = None


@dataclass
class _User:
    password: str | None
    # Raw public key blobs (SSHKey.public_data): comparing them ignores comments and formatting.
    public_keys: set[bytes] = field(default_factory=set)


@dataclass
class _Upload:
    """Per open-for-write file: how much data came in, and whether the fault already cut it."""

    written: int = 0
    cut: bool = False


class SftpSandbox:
    """An SFTP server on 127.0.0.1 (``port``, 0 for any free one) running its own event loop in a daemon thread.

    Each user sees ``root/<user>/`` as ``/``. The host key is ed25519, made once and kept at
    ``host_key_path`` so that a pinned ``host_key`` stays valid across runs.
    """

    def __init__(self, root: Path, host_key_path: Path, port: int = 0) -> None:
        self.root = root
        self.host_key_path = host_key_path
        self.wanted_port = port
        self.bind_host = "127.0.0.1"  # what it listens on; the sandbox is for loopback unless told otherwise
        self.faults = SftpFaults()
        self.uploads_completed = 0
        self.renamed: list[str] = []  # final paths in the order renames made them appear, as the ERP sees them
        self._users: dict[str, _User] = {}
        self._host_key = load_or_create_ssh_key(host_key_path, comment="backoffice-export sftp sandbox")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self._connections: set[asyncssh.SSHServerConnection] = set()
        self._port: int | None = None
        self._lock = threading.Lock()

    # --- configuration -------------------------------------------------------------------------

    def add_user(self, name: str, password: str | None = None, authorized_key: str | None = None) -> None:
        """Allow ``name`` to log in with ``password`` and/or the OpenSSH public key line ``authorized_key``.

        Calling it again for the same user adds the key and replaces the password if one is given.
        """
        if not name or "/" in name or name in {".", ".."}:
            raise ValueError(f"not a usable SFTP user name: {name!r}")
        user = self._users.setdefault(name, _User(password=None))
        if password is not None:
            user.password = password
        if authorized_key is not None:
            user.public_keys.add(asyncssh.import_public_key(authorized_key).public_data)
        self.user_root(name).mkdir(parents=True, exist_ok=True)

    def user_root(self, name: str) -> Path:
        """The folder that user ``name`` sees as ``/``."""
        return self.root / name

    @property
    def host_key_line(self) -> str:
        """The server's public host key as ``<type> <base64>``, as the connection's ``host_key`` wants it."""
        algorithm, blob = self._host_key.export_public_key("openssh").decode().split()[:2]
        return f"{algorithm} {blob}"

    @property
    def port(self) -> int:
        """The TCP port the server listens on (only known once started)."""
        if self._port is None:
            raise RuntimeError("the SFTP sandbox is not started")
        return self._port

    # --- life cycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start listening; returns once the port is known."""
        if self._thread is not None:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        _quiet_server_side_logging()
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name=_THREAD_NAME, daemon=True)
        thread.start()
        self._loop, self._thread = loop, thread
        try:
            self._acceptor = self._call(self._listen())
        except BaseException:
            self.stop()
            raise
        self._port = self._acceptor.get_port()

    def stop(self) -> None:
        """Drop every client connection, stop listening and end the loop thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            if loop.is_running():
                self._call(self._shutdown())
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=_THREAD_TIMEOUT)
            if not thread.is_alive():
                loop.close()
            self._loop = self._thread = self._acceptor = None
            self._port = None

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

    # --- inside the loop thread -----------------------------------------------------------------

    def _call(self, coro: Coroutine[Any, Any, _T]) -> _T:
        """Run ``coro`` on the sandbox loop and wait for its result."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=_THREAD_TIMEOUT)

    async def _listen(self) -> asyncssh.SSHAcceptor:
        return await asyncssh.listen(
            self.bind_host,
            self.wanted_port,
            server_host_keys=[self._host_key],
            server_factory=lambda: _SshServer(self),
            # Sessions are opened by _SshServer.session_requested, which can refuse one as OpenSSH
            # does past MaxSessions (asyncssh asks it only when no sftp_factory is given here).
            allow_scp=False,
            # No shell, exec, forwarding or agent: an SFTP subsystem is all a backoffice server offers.
            agent_forwarding=False,
            allow_pty=False,
            x11_forwarding=False,
        )

    async def _shutdown(self) -> None:
        if self._acceptor is not None:
            self._acceptor.close()
            await self._acceptor.wait_closed()
        for conn in list(self._connections):
            conn.abort()
        self._connections.clear()
        # listen() resolved the address in the loop's default executor: end that thread too.
        await asyncio.get_running_loop().shutdown_default_executor()

    def _count_upload(self) -> None:
        with self._lock:
            self.uploads_completed += 1

    def _renamed(self, path: bytes) -> None:
        with self._lock:
            self.renamed.append("/" + path.decode().lstrip("/"))  # as the user sees it, like the FTP sandbox


class _SshServer(asyncssh.SSHServer):
    """Authentication against the sandbox's users; one instance per client connection."""

    def __init__(self, sandbox: SftpSandbox) -> None:
        self._sandbox = sandbox
        self._conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        self.sessions = 0  # SFTP sessions this connection opened (``sessions_per_connection``)
        self._sandbox._connections.add(conn)

    def session_requested(self) -> tuple[asyncssh.SSHServerChannel, asyncssh.SSHServerSession] | bool:
        """An SFTP session, or a refusal past ``sessions_per_connection`` (the client sees the
        channel open fail, as from OpenSSH past its MaxSessions)."""
        self.sessions += 1
        limit = self._sandbox.faults.sessions_per_connection
        if (limit is not None and self.sessions > limit) or self._conn is None:
            return False
        from asyncssh.sftp import MIN_SFTP_VERSION
        from asyncssh.stream import SSHServerStreamSession

        sandbox = self._sandbox
        return self._conn.create_server_channel(), SSHServerStreamSession(
            None, lambda chan: _JailedSftpServer(chan, sandbox), MIN_SFTP_VERSION, False)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._conn is not None:
            self._sandbox._connections.discard(self._conn)

    def begin_auth(self, username: str) -> bool:
        return True  # every login must authenticate

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        user = self._sandbox._users.get(username)
        if self._sandbox.faults.reject_auth or user is None or user.password is None:
            return False
        return secrets.compare_digest(password.encode(), user.password.encode())

    def public_key_auth_supported(self) -> bool:
        return True

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        # asyncssh checks the client's signature itself once this says the key is acceptable.
        user = self._sandbox._users.get(username)
        if self._sandbox.faults.reject_auth or user is None:
            return False
        return key.public_data in user.public_keys


class _JailedSftpServer(asyncssh.SFTPServer):
    """asyncssh's local-filesystem SFTP server, chrooted to the user's folder, plus the fault switches.

    asyncssh's ``chroot`` maps every client path (absolute or relative, ``..`` normalised away)
    under the user's folder, so nothing outside it can be named.
    """

    def __init__(self, chan: asyncssh.SSHServerChannel, sandbox: SftpSandbox) -> None:
        self._sandbox = sandbox
        self._uploads: dict[object, _Upload] = {}
        username = chan.get_extra_info("username")
        home = sandbox.user_root(username)
        home.mkdir(parents=True, exist_ok=True)
        super().__init__(chan, chroot=os.fsencode(home))

    def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs) -> object:
        writing = bool(pflags & _WRITE_FLAGS)
        if writing and self._sandbox.faults.deny_write:
            raise asyncssh.SFTPPermissionDenied("Permission denied (sandbox fault: deny_write)")
        file_obj = super().open(path, pflags, attrs)
        if writing:
            self._uploads[file_obj] = _Upload()
        return file_obj

    def write(self, file_obj: object, offset: int, data: bytes) -> int:
        upload = self._uploads.get(file_obj)
        limit = self._sandbox.faults.cut_after_bytes
        if upload is None or limit is None:
            return super().write(file_obj, offset, data)
        if upload.cut:
            raise asyncssh.SFTPConnectionLost("Connection cut (sandbox fault: cut_after_bytes)")
        remaining = max(limit - upload.written, 0)
        if len(data) < remaining:
            upload.written += len(data)
            return super().write(file_obj, offset, data)
        # The limit is reached: keep exactly `limit` bytes on disk and drop the whole SSH connection,
        # the way a server that crashes or a firewall that kills the session would.
        if remaining:
            super().write(file_obj, offset, data[:remaining])
        upload.written += remaining
        upload.cut = True
        super().close(file_obj)
        log.info("SFTP sandbox cuts the connection after %d bytes (fault switch)", upload.written)
        self.connection.abort()
        raise asyncssh.SFTPConnectionLost("Connection cut (sandbox fault: cut_after_bytes)")

    def close(self, file_obj: object) -> None:
        upload = self._uploads.pop(file_obj, None)
        super().close(file_obj)
        # asyncssh also closes what is left open when a client disconnects: only a client's own
        # close of an upload that was not cut counts as a completed upload.
        if upload is not None and not upload.cut and not self.channel.is_closing():
            self._sandbox._count_upload()

    def rename(self, oldpath: bytes, newpath: bytes) -> None:
        self._check_rename()
        super().rename(oldpath, newpath)
        self._sandbox._renamed(newpath)

    def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
        # asyncssh does os.replace(): the target is swapped atomically, never missing in between.
        self._check_rename()
        super().posix_rename(oldpath, newpath)
        self._sandbox._renamed(newpath)

    def _check_rename(self) -> None:
        if self._sandbox.faults.deny_rename:
            raise asyncssh.SFTPPermissionDenied("Permission denied (sandbox fault: deny_rename)")

    # Links are not needed by the product, and a link is the one way a name inside the jail could
    # point outside it, so the sandbox refuses to make any.
    def symlink(self, oldpath: bytes, newpath: bytes) -> None:
        raise asyncssh.SFTPOpUnsupported("Links are not supported by the sandbox")

    def link(self, oldpath: bytes, newpath: bytes) -> None:
        raise asyncssh.SFTPOpUnsupported("Links are not supported by the sandbox")


class _ServerThreadFilter(logging.Filter):
    """Drop asyncssh's INFO/DEBUG lines that come from the sandbox's own loop thread.

    asyncssh logs several INFO lines per connection and per channel; from the sandbox (the server
    side) they only bury the product's log. Warnings and errors pass, and so does everything an
    asyncssh *client* in another thread logs.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        # The thread is looked up here, not read from the record: logging.logThreads may be off.
        return record.levelno >= logging.WARNING or threading.current_thread().name != _THREAD_NAME


_SERVER_THREAD_FILTER = _ServerThreadFilter()


def _quiet_server_side_logging() -> None:
    # A logger's filters only see records logged to that very logger, hence one per asyncssh logger.
    for name in ("asyncssh", "asyncssh.sftp"):
        logger = logging.getLogger(name)
        if _SERVER_THREAD_FILTER not in logger.filters:
            logger.addFilter(_SERVER_THREAD_FILTER)


def load_or_create_ssh_key(path: Path, comment: str) -> asyncssh.SSHKey:
    """Read the ed25519 private key at ``path``; make and keep a new one (mode 0600) if it is missing or unreadable."""
    try:
        key = asyncssh.read_private_key(str(path))
    except (OSError, asyncssh.KeyImportError):
        key = None
    if key is not None and key.algorithm == b"ssh-ed25519":
        return key
    key = asyncssh.generate_private_key("ssh-ed25519", comment=comment)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.export_private_key("openssh"))
    os.replace(tmp, path)
    return key
