"""A chunk's orders, loaded a slice at a time and built in order, one turn per order.

The runner delivers what ``turns`` yields. Orders are loaded ``SLICE`` at a time (one query per
table per slice), so a chunk never holds all its orders in memory, and the first order is on
the wire as soon as its slice is loaded rather than after the whole chunk is.

Sending an order is mostly waiting for the ERP; loading and building the next ones needs the
CPU and the order database, not the connection. ``built_ahead`` does that work in a second
process (a fork of the task) while the task's process keeps the transport busy, and hands the
turns over through a pipe, in order, several at a time (``_Outbox``); what it holds back and the
pipe's buffer bound how far ahead it gets. A thread
would not do: CPython runs one thread at a time, so every reply the transport waited for was
taken up only when the builder let go of the interpreter (the convoy effect), and uploads took
2.5 to 6 times as long (measured with ``make bench``).

What stays the same either way: orders are delivered in chunk order, on the task's process
only; each order's outcome is the one a plain ``send`` gives (a build error is raised at that
order's turn); the builder's log lines appear in the task log. When the runner stops early, the
builder stops at its next turn; what it built but was never delivered goes with the retry.
Only what was built crosses the pipe, never the order itself: a session's ``deliver`` reads
the order's head, which the runner already holds, and unpickling whole orders cost the
transport's process more than sending them did.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import fcntl
import gc
import itertools
import logging
import multiprocessing
import os
import pickle
import select
import signal
import sys
import termios
import traceback
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection
from typing import Any

import sqlalchemy as sa

from backoffice_export.model import Order

log = logging.getLogger(__name__)
SLICE = 50
FIRST_SLICE = 5
# How far ahead the builder may get, in bytes of built turns waiting in the pipe. Linux's default
# (64 KiB) is a handful of orders: the transport then waited whenever the builder loaded its
# next slice. A megabyte (the default ceiling, ``/proc/sys/fs/pipe-max-size``) is a slice or more.
PIPE_BYTES = 1 << 20
# Below this many orders a second process costs more (the fork) than it saves.
AHEAD_FROM = 20
BUILDER_NICENESS = 10
GROUP_BYTES = 4 << 20  # built turns the builder may hold back to hand over in one message (``_Outbox``)


class Turn:
    """One order's turn: the order and what was built for it, or the exception that stopped it.

    ``fatal``: loading failed, so the chunk cannot go on (not this order's fault).
    """

    __slots__ = ("error", "fatal", "order", "order_id", "value")

    def __init__(self, order_id: int, order: Order | None, value: Any = None, error: BaseException | None = None,
                 *, fatal: bool = False) -> None:
        self.order_id, self.order, self.value, self.error, self.fatal = order_id, order, value, error, fatal

    def get(self) -> Any:
        """What was built; raises the build's exception, so it surfaces at this order's turn."""
        if self.error is not None:
            raise self.error
        return self.value


def turns(load: Callable[[Sequence[int]], list[Order]], build: Callable[[Order], Any],
          order_ids: Sequence[int], *, slice_size: int = SLICE,
          before_slice: Callable[[], None] | None = None) -> Iterator[Turn]:
    """A turn per order of ``order_ids``, in order: loaded with ``load``, built with ``build``.

    ``before_slice`` is called before each slice is loaded: the builder hands over the turns it
    still holds then, rather than keep them while it loads.
    """
    ids = list(order_ids)
    if not ids:
        return
    # The first slice is small, so the transport starts after a few orders rather than a slice.
    bounds = [0, *range(min(FIRST_SLICE, slice_size), len(ids), slice_size), len(ids)]
    for start, stop in itertools.pairwise(bounds):
        wanted = ids[start:stop]
        if before_slice is not None:
            before_slice()
        try:
            orders = {order.id: order for order in load(wanted)}
        except Exception as exc:  # the runner raises it: the chunk cannot go on
            yield Turn(wanted[0], None, error=exc, fatal=True)
            return
        for order_id in wanted:
            order = orders.get(order_id)
            if order is None:  # deleted since the chunk claimed it
                yield Turn(order_id, None, error=LookupError("the order is no longer in the order database"))
                continue
            try:
                value = build(order)
            except Exception as exc:  # raised at the order's turn by Turn.get
                yield Turn(order_id, order, error=exc)
            else:
                yield Turn(order_id, order, value)


@contextlib.contextmanager
def built_ahead(engine: sa.Engine, load: Callable[[Sequence[int]], list[Order]], build: Callable[[Order], Any],
                order_ids: Sequence[int]) -> Iterator[Iterator[Turn]]:
    """The same turns as ``turns``, loaded and built by a forked process ahead of delivery; their
    ``order`` stays in the builder (``None``).

    The builder starts on entering, so it works while the caller still connects to the ERP; on
    leaving, a builder still going is stopped (at its next turn) and waited for.

    Falls back to ``turns`` where there is no ``fork`` (or it is switched off with
    ``BACKOFFICE_BUILD_AHEAD=0``) and for chunks too small to gain from it.
    """
    if (len(order_ids) < AHEAD_FROM or not hasattr(os, "fork")
            or os.environ.get("BACKOFFICE_BUILD_AHEAD", "1").strip() == "0"):
        yield turns(load, build, order_ids)
        return
    reader, writer = multiprocessing.Pipe(duplex=False)
    with contextlib.suppress(OSError, AttributeError):  # Linux only; elsewhere the default stays
        fcntl.fcntl(writer.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    # While the builder lives, the objects that exist now are out of the collector's sight on
    # both sides of the fork: no collection writes to the pages the two processes share (each
    # write copies a page), and the builder's collections walk only what it makes itself, not
    # the task's heap (Airflow's included). Measured: 18,600 -> 4,300 page copies a chunk.
    # The freeze is process-wide: where chunks run on threads of one process (tests), the first
    # to finish thaws it for all, which costs page copies, never correctness.
    gc.freeze()
    try:
        pid = os.fork()
    except OSError:
        gc.unfreeze()
        raise
    if pid == 0:  # the builder
        reader.close()
        _build_in_child(writer, engine, load, build, order_ids)
    writer.close()
    try:
        yield _HandedOver(reader, list(order_ids))
    finally:
        reader.close()  # a builder still going stops at its next turn (its pipe is gone)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        gc.unfreeze()


class _HandedOver:
    """The builder's turns, in order; its log records go to the task log as they come.

    ``ready()`` says whether the next turn can be had without waiting for the builder to build
    it, so the runner can hand a few orders to the transport ahead of their turn
    (``export._ahead``). It reads a message only once its first bytes are in the pipe; it then
    waits at most for the rest of that message, which the builder is writing.
    """

    def __init__(self, reader: Connection, expected: list[int]) -> None:
        self.reader, self.expected = reader, expected
        self.handed = 0
        self.batch: collections.deque[bytes | Turn] = collections.deque()  # pickled, but for the last
        self.ended = False

    def __iter__(self) -> Iterator[Turn]:
        return self

    def __next__(self) -> Turn:
        while not self.batch:
            if self.ended:
                raise StopIteration
            self._receive()
        self.handed += 1
        item = self.batch.popleft()
        return item if isinstance(item, Turn) else pickle.loads(item)  # noqa: S301 (made by this task's own builder)

    def ready(self) -> bool:
        while not self.batch and not self.ended and self.reader.poll(0):
            self._receive()
        return bool(self.batch)

    def _receive(self) -> None:
        try:
            kind, payload = self.reader.recv()
        except (EOFError, OSError):
            self.ended = True
            if self.handed < len(self.expected):  # the builder died: the runner raises this turn
                self.batch.append(Turn(
                    self.expected[self.handed], None, fatal=True,
                    error=RuntimeError("the process building the chunk's orders ended unexpectedly")))
            return
        if kind == "log":
            logging.getLogger(payload.name).handle(payload)
        elif kind == "turns":
            self.batch.extend(payload)
        else:
            self.ended = True


def _build_in_child(writer: Connection, engine: sa.Engine, load: Callable[[Sequence[int]], list[Order]],
                    build: Callable[[Order], Any], order_ids: Sequence[int]) -> None:
    """Never returns: the child leaves with ``os._exit`` so none of the parent's clean-ups (its
    transport's sockets, Airflow's at-exit hooks) run twice."""
    code = 0
    try:
        _die_with_parent()
        # The builder works with what the transport leaves of the CPU: when both want a core,
        # the transport (and the ERP beside it on a small machine) comes first.
        with contextlib.suppress(OSError):
            os.nice(BUILDER_NICENESS)
        engine.dispose(close=False)  # the parent's pooled connections stay the parent's
        outbox = _Outbox(writer)
        _send_logs_to(outbox)
        for turn in turns(load, build, order_ids, before_slice=outbox.flush):
            outbox.turn(turn)
        outbox.flush()
        writer.send(("end", None))
    except (BrokenPipeError, OSError):
        code = 0  # the runner stopped listening: it needs no more orders
    except BaseException:  # nowhere to raise it; the parent sees the pipe close
        code = 1
    finally:
        os._exit(code)


def _portable(turn: Turn) -> Turn:
    """The turn as it crosses the pipe: without the order, and an error that cannot be pickled
    becomes its text."""
    turn.order = None
    if turn.error is not None:
        with contextlib.suppress(Exception):
            turn.error.build_traceback = "".join(traceback.format_exception(turn.error))  # type: ignore[union-attr]
        try:
            pickle.dumps(turn.error)
        except Exception:  # replaced by a plain error with the same text
            turn.error = RuntimeError(f"{type(turn.error).__name__}: {turn.error}")
    return turn


class _Outbox:
    """The builder's end of the pipe: turns go over many at a time.

    A message per turn cost the transport dearly: while the builder wrote turn after turn, the
    runner's process read them one by one from a pipe being written to, waking and being woken
    for every order. With the same builder and transport, a 1,000-order Reflecta chunk took
    1.2-1.5 x its floor that way, and 1.0-1.25 x with the turns handed over a few megabytes at a
    time (``python -m bench.chunk_probe``, several runs each). So the builder holds its
    turns until they reach ``GROUP_BYTES``, or until the pipe is empty, since the runner may then
    be waiting for the next order, and hands over what it holds before it loads a slice: holding
    turns through a load (tens of milliseconds for 50 orders) left the runner waiting for orders
    already built, 50-75 ms of a 1,000-order AccountView chunk. A log record goes after the
    turns built before it, so the task log keeps the builder's order. Memory: at most
    ``GROUP_BYTES`` waits here, and the pipe's buffer besides.
    """

    def __init__(self, writer: Connection) -> None:
        self.writer = writer
        self.pending: list[bytes] = []  # pickled turns
        self.size = 0

    def turn(self, turn: Turn) -> None:
        if _reader_gone(self.writer):  # the runner stopped: build no further than this turn
            raise BrokenPipeError("the runner stopped listening")
        pickled = pickle.dumps(_portable(turn), protocol=pickle.HIGHEST_PROTOCOL)
        self.pending.append(pickled)
        self.size += len(pickled)
        if self.size >= GROUP_BYTES or _pipe_empty(self.writer):
            self.flush()

    def log(self, record: logging.LogRecord) -> None:
        self.flush()
        self.writer.send(("log", record))

    def flush(self) -> None:
        if self.pending:
            self.writer.send(("turns", self.pending))
            self.pending, self.size = [], 0


def _reader_gone(writer: Connection) -> bool:
    """Whether the runner closed its end. Turns are written rarely now, so a write failing is no
    longer how the builder learns it early; building on would number (EzXml) or mark in flight
    (AccountView) orders no one is sending."""
    poller = select.poll()
    poller.register(writer.fileno(), select.POLLOUT)
    return any(events & select.POLLERR for _, events in poller.poll(0))


def _pipe_empty(writer: Connection) -> bool:
    """Whether nothing waits in the pipe (Linux answers FIONREAD on either end); where it cannot
    be asked, every turn goes at once."""
    try:
        waiting = fcntl.ioctl(writer.fileno(), termios.FIONREAD, b"\0\0\0\0")
    except OSError:
        return True
    return int.from_bytes(waiting, sys.byteorder) == 0


class _PipeHandler(logging.Handler):
    def __init__(self, outbox: _Outbox) -> None:
        super().__init__()
        self.outbox = outbox

    def emit(self, record: logging.LogRecord) -> None:
        record.msg, record.args = record.getMessage(), None
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        self.outbox.log(record)


def _send_logs_to(outbox: _Outbox) -> None:
    """Log records go to the parent, which writes them to the task log in order with its own;
    the child never writes to the task's log handlers itself (two writers would interleave)."""
    for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]:
        if isinstance(logger, logging.Logger):
            for handler in list(logger.handlers):
                logger.removeHandler(handler)
    logging.getLogger().addHandler(_PipeHandler(outbox))


def _die_with_parent() -> None:
    """If the task's process is killed, its builder goes with it (Linux)."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:
            os._exit(0)
