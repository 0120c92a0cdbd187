"""A loopback FTP/FTPS server (pyftpdlib) for the demo and the tests, with switchable faults.

With TLS files it behaves like a strict customer server: explicit TLS (``AUTH TLS``) is required
before login, and on every data connection (``PROT P``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from pyftpdlib.authorizers import AuthenticationFailed, DummyAuthorizer
from pyftpdlib.exceptions import _RetryError
from pyftpdlib.handlers import DTPHandler, FTPHandler
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import FTPServer

from .certificates import TlsFiles

log = logging.getLogger(__name__)

FULL_PERMISSIONS = "elradfmwMT"
# How long one turn of the server loop may block: also how fast stop() is noticed.
_POLL_SECONDS = 0.05
_STOP_TIMEOUT = 10.0
# pyftpdlib delays the answer to a wrong password by 3 s; the sandbox keeps a token delay so that
# tests of refused logins stay fast.
_AUTH_FAILED_DELAY = 0.1


@dataclass
class FtpFaults:
    """Failures a test can switch on while the server runs; read on every command."""

    deny_store: bool = False
    deny_rename: bool = False
    cut_after_bytes: int | None = None
    reject_auth: bool = False

    def reset(self) -> None:
        """Switch every fault off again (between tests)."""
        self.deny_store = False
        self.deny_rename = False
        self.cut_after_bytes = None
        self.reject_auth = False


class FtpSandbox:
    """An FTP server on 127.0.0.1 (``port``, 0 for any free one), FTPS-only when ``tls`` is given.

    Each user is confined to ``root/<user>/``. The server runs its own pyftpdlib IOLoop (never the
    process-wide singleton) in a daemon thread, so several sandboxes can run side by side.
    """

    def __init__(self, root: Path, tls: TlsFiles | None, port: int = 0) -> None:
        self.root = root
        self.tls = tls
        self.wanted_port = port
        self.bind_host = "127.0.0.1"  # what it listens on; the sandbox is for loopback unless told otherwise
        self.faults = FtpFaults()
        self.uploads_completed = 0
        self.renamed: list[str] = []  # final paths in the order renames made them appear, as the ERP sees them
        # When set, a passive reply announces passive_through(server's data port) instead: a
        # proxy's port (``FaultProxy.forward_once``), so data connections cross the proxy too.
        self.passive_through: Callable[[int], int] | None = None
        self._authorizer = _SandboxAuthorizer(self.faults)
        self._server: FTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    # --- configuration -------------------------------------------------------------------------

    def add_user(self, name: str, password: str) -> None:
        """Allow ``name`` to log in with ``password``, with full rights in ``root/<name>/``."""
        if not name or "/" in name or name in {".", ".."}:
            raise ValueError(f"not a usable FTP user name: {name!r}")
        home = self.user_root(name)
        home.mkdir(parents=True, exist_ok=True)
        if self._authorizer.has_user(name):
            self._authorizer.remove_user(name)
        self._authorizer.add_user(name, password, str(home), perm=FULL_PERMISSIONS)

    def user_root(self, name: str) -> Path:
        """The folder that user ``name`` sees as ``/``."""
        return self.root / name

    @property
    def port(self) -> int:
        """The TCP port of the control connection (only known once started)."""
        if self._server is None:
            raise RuntimeError("the FTP sandbox is not started")
        return int(self._server.address[1])

    # --- life cycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start listening; returns once the port is known."""
        if self._thread is not None:
            return
        self.root.mkdir(parents=True, exist_ok=True)
        self._stopping.clear()
        handler = self._handler_class()
        self._server = FTPServer((self.bind_host, self.wanted_port), handler, ioloop=IOLoop())
        self._thread = threading.Thread(target=self._serve, name="ftp-sandbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Disconnect every client, stop listening and end the server thread."""
        if self._thread is None:
            return
        self._stopping.set()
        self._thread.join(timeout=_STOP_TIMEOUT)
        self._thread = None
        self._server = None

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

    def _serve(self) -> None:
        # pyftpdlib's objects are not thread-safe, so the loop is turned here in small steps and
        # closed from this same thread. The IOLoop is driven directly rather than through
        # serve_forever(), which logs a "starting server" line at INFO on every non-blocking turn.
        server = self._server
        assert server is not None
        try:
            while not self._stopping.is_set():
                server.ioloop.loop(_POLL_SECONDS, blocking=False)
        finally:
            server.close_all()

    def _count_upload(self) -> None:
        with self._lock:
            self.uploads_completed += 1

    def _renamed(self, path: str) -> None:
        with self._lock:
            self.renamed.append(path)

    # --- handler classes, made per sandbox because pyftpdlib configures them by class attribute ---

    def _handler_class(self) -> type[FTPHandler]:
        sandbox = self
        faults = self.faults
        base: type[FTPHandler]
        base_dtp: type[DTPHandler]
        extra: dict[str, Any] = {}
        if self.tls is None:
            base, base_dtp = FTPHandler, DTPHandler
        else:
            # Imported here: pyftpdlib only offers TLS when pyOpenSSL is installed.
            from pyftpdlib.handlers import TLS_DTPHandler, TLS_FTPHandler

            base, base_dtp = TLS_FTPHandler, TLS_DTPHandler
            extra = {
                "certfile": str(self.tls.cert_file),
                "keyfile": str(self.tls.key_file),
                "tls_control_required": True,
                "tls_data_required": True,
                # get_ssl_context() caches the context on the class: start each class without one.
                "ssl_context": None,
            }

        class SandboxDTPHandler(base_dtp):  # type: ignore[valid-type,misc]
            """Data connection that can be cut after ``faults.cut_after_bytes`` bytes received."""

            _received = 0

            def recv(self, buffer_size: int) -> bytes:
                chunk: bytes = super().recv(buffer_size)
                limit = faults.cut_after_bytes
                if not self.receive or limit is None or not chunk:
                    return chunk
                remaining = limit - self._received
                if len(chunk) < remaining:
                    self._received += len(chunk)
                    return chunk
                # Keep exactly `limit` bytes, then drop the data connection without a TLS goodbye.
                if remaining > 0 and self.file_obj is not None:
                    kept = chunk[:remaining]
                    if self._data_wrapper is not None:  # ASCII mode line-ending conversion
                        kept = self._data_wrapper(kept)
                    self.file_obj.write(kept)
                    self.file_obj.flush()  # on disk before the client can notice the cut
                self._received = limit
                self.transfer_finished = False
                self._resp = ("426 Connection closed; transfer aborted (sandbox fault).", log.debug)
                self._error = True  # the TLS mixin then closes the socket at once
                self.close()
                raise _RetryError  # tells handle_read() there is nothing to write

        class SandboxFTPHandler(base):  # type: ignore[valid-type,misc]
            """Control connection with the sandbox's authorizer, fault switches and quiet logging."""

            authorizer = self._authorizer
            dtp_handler = SandboxDTPHandler
            auth_failed_timeout = _AUTH_FAILED_DELAY
            banner = "backoffice-export FTP sandbox ready."
            # The client connects from 127.0.0.1, so active mode (PORT) needs nothing special.
            permit_foreign_addresses = False
            passive_ports = None

            def respond(self, resp: str, logfun: Any = log.debug) -> None:
                if sandbox.passive_through is not None and resp.startswith(("227 ", "229 ")):
                    resp = _passive_reply(resp, sandbox.passive_through)
                super().respond(resp, logfun)

            def ftp_STOR(self, file: str, mode: str = "w") -> str | None:
                if faults.deny_store:
                    self.respond("550 Permission denied (sandbox fault: deny_store).")
                    return None
                result: str | None = super().ftp_STOR(file, mode)
                return result

            def ftp_RNFR(self, path: str) -> None:
                if faults.deny_rename:
                    self.respond("550 Permission denied (sandbox fault: deny_rename).")
                    return
                super().ftp_RNFR(path)

            def ftp_RNTO(self, path: str) -> tuple[str, str] | None:
                if faults.deny_rename:
                    self._rnfr = None
                    self.respond("550 Permission denied (sandbox fault: deny_rename).")
                    return None
                result: tuple[str, str] | None = super().ftp_RNTO(path)
                if result is not None:
                    sandbox._renamed(self.fs.fs2ftp(path))
                return result

            def on_file_received(self, file: str) -> None:
                sandbox._count_upload()

            # pyftpdlib logs every login, transfer and many commands at INFO; the sandbox keeps
            # only errors (logerror / log_exception), and never anything with a password in it.
            def log(self, msg: str, logfun: Any = None) -> None:
                pass

            def logline(self, msg: str, logfun: Any = None) -> None:
                pass

            def log_cmd(self, cmd: str, arg: str, respcode: int, respstr: str) -> None:
                pass

            def log_transfer(self, *args: Any, **kwargs: Any) -> None:
                pass

        for name, value in extra.items():
            setattr(SandboxFTPHandler, name, value)
        return SandboxFTPHandler


def _passive_reply(resp: str, through: Callable[[int], int]) -> str:
    """The PASV (227) or EPSV (229) reply with the data port replaced by ``through(port)``."""
    if resp.startswith("229 "):
        port = int(resp.split("|||")[1].split("|")[0])
        return f"229 Entering extended passive mode (|||{through(port)}|)."
    numbers = resp[resp.index("(") + 1:resp.index(")")].split(",")
    port = through(int(numbers[4]) * 256 + int(numbers[5]))
    return f"227 Entering passive mode ({','.join(numbers[:4])},{port // 256},{port % 256})."


class _SandboxAuthorizer(DummyAuthorizer):
    """DummyAuthorizer that refuses every login while ``faults.reject_auth`` is on."""

    def __init__(self, faults: FtpFaults) -> None:
        super().__init__()
        self._faults = faults

    def validate_authentication(self, username: str, password: str, handler: Any) -> None:
        if self._faults.reject_auth:
            raise AuthenticationFailed("Authentication failed.")
        super().validate_authentication(username, password, handler)
