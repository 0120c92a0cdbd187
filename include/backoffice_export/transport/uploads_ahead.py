"""Upload a drop's next files under their temporary names while the current one is renamed.

A file hand-off is a handful of round trips (SFTP: open, write, close, stat, rename; FTP: a data
connection, STOR, then RNFR/RNTO), and on one connection each waits for the ERP's reply to the
one before. The temporary upload is invisible to the ERP (``.<name>.part``), so it need not
wait its turn: ``UploadsAhead`` does the next few on connections of their own (SFTP: more
channels of the same SSH connection; FTP: more logins), while the drop's own connection
renames each file onto its final name in chunk order. The ERP sees the same files appear in
the same order; only the waiting overlaps. With two of them, 1,000 Reflecta files went to the
benchmark's SFTP server in 1.2-1.7 s instead of 1.8-2.4 s one after another.

Nothing about an order's outcome moves here. A staged upload that failed, for any reason, is
simply not used: ``take`` says so and the drop uploads the file itself, as it does every file
when nothing was staged, so every error is raised, classified and logged where it always was.
The one new failure is a staged upload still unfinished after ``patience`` (every step of it
is bounded by the connection's timeout, so only a server that stopped answering gets there):
``take`` raises ``UploadStalled`` and the drop reports the connection lost, as for a stalled
upload of its own. A worker connection that failed is dropped and opened again for its next
file; one that cannot be opened (a server that allows one session per login) turns staging
off for the rest of the chunk. What was staged but never taken (the chunk stopped), or taken
but stalled (it may still finish once the server answers), is removed on closing, after the
worker connections are closed; if the connection is gone by then, the stale-part sweep removes
it later.

Connection extra ``uploads_ahead``: how many files go up ahead at once. Default 2 over SFTP
(channels of the one SSH login) and 1 over FTP(S), where each is a login of its own and servers
often cap logins per user; 0 uploads every file in its own turn.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)
SFTP_UPLOADS_AHEAD = 2
FTP_UPLOADS_AHEAD = 1
W = TypeVar("W")  # a worker's connection


class UploadStalled(TimeoutError):
    """A staged upload did not finish in time: the server stopped answering."""


def uploads_ahead(extra: dict[str, Any], *, sftp: bool) -> int:
    """The connection extra ``uploads_ahead`` (0 = none), else the protocol's default."""
    value = extra.get("uploads_ahead", SFTP_UPLOADS_AHEAD if sftp else FTP_UPLOADS_AHEAD)
    try:
        count = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"connection extra uploads_ahead must be a whole number, not {value!r}") from None
    if count < 0:
        raise ValueError(f"connection extra uploads_ahead must be 0 or more, not {count}")
    return count


@dataclass
class _Staged:
    data: bytes
    done: concurrent.futures.Future[bool]


class UploadsAhead(Generic[W]):
    """Temporary uploads done ahead, on worker connections opened as they are first needed."""

    def __init__(self, workers: int, open_worker: Callable[[], W], upload: Callable[[W, str, bytes], None],
                 close_worker: Callable[[W], None], destination: str, *, patience: float) -> None:
        self._open, self._upload, self._close = open_worker, upload, close_worker
        self.destination, self.patience = destination, patience
        self._pool = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix="upload-ahead")
        self._local = threading.local()
        self._opened: list[W] = []
        self._lock = threading.Lock()
        self._staged: dict[str, _Staged] = {}
        self._stalled: list[str] = []  # taken but not finished in time
        self.off = False
        self.used = 0  # files whose staged upload was taken (the benchmark and tests read it)

    def stage(self, name: str, data: bytes) -> None:
        """Start uploading ``data`` under the temporary name ``name``, unless it is already."""
        if self.off or name in self._staged:
            return
        self._staged[name] = _Staged(data, self._pool.submit(self._work, name, data))

    def take(self, name: str, data: bytes) -> bool:
        """Whether ``data`` is uploaded under ``name`` by a staged upload (waited for). False when
        it was not staged, failed, or staged other bytes: then the caller uploads it itself.
        Raises ``UploadStalled`` when it did not finish within ``patience`` seconds."""
        staged = self._staged.pop(name, None)
        if staged is None:
            return False
        try:
            finished = staged.done.result(timeout=self.patience)
        except concurrent.futures.TimeoutError:
            self.off = True
            # It may still finish once the server answers again: closing removes it then.
            self._stalled.append(name)
            raise UploadStalled(f"the upload ahead of {name} did not finish in {self.patience:.0f} s") from None
        if finished and staged.data is data:
            self.used += 1
            return True
        return False

    def _work(self, name: str, data: bytes) -> bool:
        worker = self._worker()
        if worker is None:
            return False
        try:
            self._upload(worker, name, data)
        except Exception as exc:  # the drop uploads it again itself and reports what goes wrong then
            log.debug("%s: upload ahead of %s failed (%s); it is uploaded in its turn", self.destination, name, exc)
            self._local.worker = None  # a broken connection is not reused: the next file opens another
            self._discard(worker)
            return False
        return True

    def _worker(self) -> W | None:
        worker: W | None = getattr(self._local, "worker", None)
        if worker is not None or self.off:
            return worker
        try:
            worker = self._open()
        except Exception as exc:  # the server allows no more sessions: one connection it is
            self.off = True
            log.info("%s: no further connection for uploading ahead (%s); files go one at a time",
                     self.destination, exc)
            return None
        with self._lock:
            self._opened.append(worker)
        if self.off:  # closing began meanwhile
            self._discard(worker)
            return None
        self._local.worker = worker
        return worker

    def _discard(self, worker: W) -> None:
        with self._lock:
            if worker in self._opened:
                self._opened.remove(worker)
        with contextlib.suppress(Exception):
            self._close(worker)

    def close(self) -> list[str]:
        """Stop, close the worker connections, and return the temporary names staged but never
        taken, or taken but stalled: their uploads are over by now, so removing them is final.

        Closing a worker's connection ends an upload still going on it, so this never waits
        longer than one step of the uploads."""
        self.off = True
        self._pool.shutdown(wait=False, cancel_futures=True)
        with self._lock:
            opened, self._opened = self._opened, []
        for worker in opened:
            with contextlib.suppress(Exception):
                self._close(worker)
        self._pool.shutdown(wait=True)
        left, self._staged = [*self._stalled, *self._staged], {}
        self._stalled = []
        return left
