"""A chunk's orders, loaded a slice at a time and built in order, one turn per order.

The runner delivers what ``turns`` yields. Orders are loaded ``SLICE`` at a time (one query per
table per slice), so a chunk never holds all its orders in memory, and the first order is on
the wire as soon as its slice is loaded rather than after the whole chunk is.

Building runs on the runner's own thread, on purpose. A worker thread building ahead while the
transport waits was measured (``make bench``) and made every connector slower: CPython lets one
thread run at a time, so each reply the transport thread waited for was answered only when the
builder let go of the interpreter (the convoy effect; a file upload has a dozen such waits),
and an upload took 2.5 to 6 times as long. Overlapping the two needs a second process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from backoffice_export.model import Order

SLICE = 50


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
          order_ids: Sequence[int], *, slice_size: int = SLICE) -> Iterator[Turn]:
    """A turn per order of ``order_ids``, in order: loaded with ``load``, built with ``build``."""
    ids = list(order_ids)
    for start in range(0, len(ids), slice_size):
        wanted = ids[start:start + slice_size]
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
