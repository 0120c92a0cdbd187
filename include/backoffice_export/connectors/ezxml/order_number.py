"""EzXml order numbers: order type + a sequence number that only ever goes up, used once.

The seed numbers an order ``<order type><n>`` (``Default17``, ``Inv17``) from the last number
saved in the administration's key settings, or sends App4Sales' internal number when
``UseInternalOrdersAsWebOrderNr`` is on. What this module adds to make that safe:

- **Never twice.** ``n`` comes from ``key_settings.next_value``: one atomic UPDATE ... RETURNING
  on the key ``EzXml.LastOrderNr``, so two overlapping runs, a retry racing a clear, or a
  restart in the middle can never draw the same number; it is in the database before it is used.
- **Always up, also past numbers assigned elsewhere.** The first draw of a session keeps the
  sequence above the highest ``Default<n>`` / ``Inv<n>`` already on the administration's orders
  (``orders.order_nr``, e.g. written by the former connector or another system) and reserved on
  its export state, so a reset or restored key setting cannot hand out a number again.
- **One number per order, whatever happens to the upload.** The drawn number is reserved on the
  order's export state (``export_state.reserved_order_nr``) before the file is made. A retry of a
  failed or lost upload, a later run, or a re-export of a sent order finds it there and uses the
  SAME number, hence the same file name: the ERP's copy is replaced, never doubled. An order
  that already carries a number of this form (sent by the former connector) keeps it for the
  same reason, unless another order holds that number too (then it draws a new one, so no
  order's file ever replaces another's). The number is written to ``orders.order_nr`` only after
  a successful upload (``delivery``), as the seed does.
- **Unique in the folder, not only in the administration.** Each administration has its own
  sequence, so two administrations sharing one connection and folder would both draw
  ``Default1``. Every number is held as a file name there (``connectors/file_identity.py``):
  a draw skips numbers another order holds in the folder or carries, even after the ERP
  consumed the file.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from backoffice_export import key_settings
from backoffice_export.connectors.ezxml.common import OrderNumbers
from backoffice_export.connectors.file_identity import FileNames
from backoffice_export.db import schema as s
from backoffice_export.model import Order

ORDER_NR_KEY = "EzXml.LastOrderNr"
ORDER_TYPES = ("Default", "Inv")
_GENERATED = re.compile(r"^(Default|Inv)([0-9]{1,18})$")


def reserved_order_nr(engine: sa.Engine, order_id: int) -> str | None:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(s.export_state.c.reserved_order_nr).where(s.export_state.c.order_id == order_id)
        ).scalar_one_or_none()


def reserve_order_nrs(engine: sa.Engine, numbers: dict[int, str]) -> None:
    """``reserve_order_nr`` for many orders, in one transaction."""
    if not numbers:
        return
    t = s.export_state
    with engine.begin() as conn:
        updated = conn.execute(
            sa.update(t).where(t.c.order_id == sa.bindparam("id")).values(reserved_order_nr=sa.bindparam("nr")),
            [{"id": order_id, "nr": nr} for order_id, nr in numbers.items()]).rowcount
    if updated != len(numbers):
        raise LookupError(f"{len(numbers) - updated} of order ids {sorted(numbers)} have no export state to "
                          "reserve a number on")


def reserve_order_nr(engine: sa.Engine, order_id: int, order_nr: str) -> None:
    """Keep ``order_nr`` for this order's next attempts; the runner's claim makes the writer unique."""
    reserve_order_nrs(engine, {order_id: order_nr})


def highest_used_number(engine: sa.Engine, administration_id: int) -> int:
    """The highest ``n`` of any ``Default<n>`` / ``Inv<n>`` the administration's orders carry or hold."""
    o, t = s.orders, s.export_state
    looks_generated = sa.or_(*(o.c.order_nr.like(f"{prefix}%") for prefix in ORDER_TYPES))
    reserved = sa.or_(*(t.c.reserved_order_nr.like(f"{prefix}%") for prefix in ORDER_TYPES))
    with engine.connect() as conn:
        numbers = list(conn.execute(
            sa.select(o.c.order_nr).where(o.c.administration_id == administration_id, looks_generated)
        ).scalars())
        numbers += conn.execute(
            sa.select(t.c.reserved_order_nr).where(t.c.administration_id == administration_id, reserved)
        ).scalars()
    return max((int(m[2]) for m in map(_GENERATED.match, numbers) if m), default=0)


def held_by_another_order(engine: sa.Engine, administration_id: int, order_id: int, order_nr: str) -> bool:
    o, t = s.orders, s.export_state
    with engine.connect() as conn:
        on_order = conn.execute(sa.select(o.c.id).where(
            o.c.administration_id == administration_id, o.c.order_nr == order_nr, o.c.id != order_id).limit(1)
        ).first()
        reserved = conn.execute(sa.select(t.c.order_id).where(
            t.c.administration_id == administration_id, t.c.reserved_order_nr == order_nr, t.c.order_id != order_id
        ).limit(1)).first()
    return on_order is not None or reserved is not None


def numbers_of(order: Order, generated: str | None, *, use_internal: bool, generated_always: bool) -> OrderNumbers:
    """The order's numbers when its generated number is ``generated``: the internal number as the
    order number with ``UseInternalOrdersAsWebOrderNr`` (the generated one only where the format
    writes it too), else the generated one for both."""
    if use_internal:
        return OrderNumbers(order.internal_order_nr, generated if generated_always else None)
    return OrderNumbers(generated, generated)  # type: ignore[arg-type]


def is_generated(order_nr: str, order_type: str) -> bool:
    match = _GENERATED.match(order_nr)
    return match is not None and match[1] == order_type


class OrderNumbering:
    """Numbers for the orders of one chunk (one administration, one export session)."""

    def __init__(self, engine: sa.Engine, administration_id: int, *, use_internal: bool, names: FileNames,
                 extension: str) -> None:
        self.engine, self.administration_id, self.use_internal = engine, administration_id, use_internal
        self.names, self.extension = names, extension
        self._floor: int | None = None

    def numbers_for(self, order: Order, order_type: str, *, generated_always: bool = False) -> OrderNumbers:
        """The order's numbers; ``generated_always`` when the format writes the generated one too."""
        drawn = self.generated(order, order_type) if generated_always or not self.use_internal else None
        return numbers_of(order, drawn, use_internal=self.use_internal, generated_always=generated_always)

    def generated(self, order: Order, order_type: str) -> str:
        reserved = reserved_order_nr(self.engine, order.id)
        if reserved is not None and is_generated(reserved, order_type):
            self.names.hold_own(order, self.file_name(reserved), reserved, "Order.OrderNr")  # held since drawn
            return reserved
        if self._may_keep(order, order_type):
            number = order.order_nr
        else:
            number = self.names.draw(order, lambda: f"{order_type}{self._next()}", self.file_name)
        reserve_order_nr(self.engine, order.id, number)  # type: ignore[arg-type]
        return number  # type: ignore[return-value]

    def file_name(self, number: str) -> str:
        return f"{number}.{self.extension}"

    def _next(self) -> int:
        return key_settings.next_value(self.engine, self.administration_id, ORDER_NR_KEY, at_least=self._lowest_new())

    def _may_keep(self, order: Order, order_type: str) -> bool:
        kept = order.order_nr
        return kept is not None and is_generated(kept, order_type) and not held_by_another_order(
            self.engine, self.administration_id, order.id, kept) and self.names.hold(
            order, self.file_name(kept), generated=False) is None

    def _lowest_new(self) -> int:
        if self._floor is None:
            self._floor = highest_used_number(self.engine, self.administration_id) + 1
        return self._floor
