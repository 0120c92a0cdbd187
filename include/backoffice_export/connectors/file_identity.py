"""Order identity in a drop folder: one file name, one order, across every administration there.

File names are order numbers, unique per administration only, and the ERP removes imported
files, so each name is held in ``file_names`` (keyed by folder) before its file is made: a
generated number skips held names, and an own number another order holds fails for review
(``NumberTaken``). See docs/runbook.md, "Identity in file drops".
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from backoffice_export import key_settings
from backoffice_export.db import schema as s
from backoffice_export.errors import OrderDataError
from backoffice_export.model import Administration, Order, order_label

MAX_DRAWS = 10_000  # generated numbers tried for one order before giving up (a broken sequence)
FILLED_KEY = "Export.FileNamesFilled"


def folder_key(destination: str) -> str:
    """The folder as the ERP sees it: host and path, whatever protocol or port reached it."""
    parts = urlsplit(destination)
    return f"{(parts.hostname or '').lower()}{posixpath.normpath(parts.path or '/')}"


class NumberTaken(OrderDataError):
    """The order's own number names a file another order already holds in the folder."""


class FileNames:
    """The names of one drop folder, as one administration's chunk sees them."""

    def __init__(self, engine: sa.Engine, destination: str, administration: Administration) -> None:
        self.engine, self.destination, self.administration = engine, destination, administration
        self.folder = folder_key(destination)
        self._numbers: set[str] | None = None
        if key_settings.get(engine, administration.id, FILLED_KEY) is None:
            self._fill_from_sent_orders()

    def hold(self, order: Order, name: str, *, generated: bool) -> str | None:
        """Hold ``name`` for ``order``; ``None`` when it does now, else the label of the order holding it."""
        holder_id, _ = self._hold(order, name, generated)
        return None if holder_id == order.id else self._label(holder_id)

    def hold_own(self, order: Order, name: str, number: str, field: str) -> bool:
        """Hold the name of the number the order carries; raise ``NumberTaken`` if another order has it.

        Returns whether the order holds it as a number the connector generated (and may give back).
        """
        holder_id, generated = self._hold(order, name, False)
        if holder_id != order.id:
            raise NumberTaken(field, f"{number} would be file {name} in {self.destination}, which "
                                     f"{self._label(holder_id)} already has: not sent, so that order's file is not "
                                     "overwritten. Give one of the two orders another number and load it again")
        return generated

    def draw(self, order: Order, next_number: Callable[[], str], name_of: Callable[[str], str]) -> str:
        """The next number of ``next_number`` that no order carries or holds in the folder, held for ``order``."""
        for _ in range(MAX_DRAWS):
            number = next_number()
            if number not in self._carried() and self.hold(order, name_of(number), generated=True) is None:
                return number
        raise OrderDataError("Order.OrderNr", f"no free order number in {self.destination} after {MAX_DRAWS} tries")

    def release(self, order: Order, name: str) -> None:
        """Give back a generated name whose file certainly never reached the ERP."""
        f = s.file_names
        with self.engine.begin() as conn:
            conn.execute(sa.delete(f).where(f.c.destination == self.folder, f.c.name == name,
                                            f.c.order_id == order.id, f.c.generated.is_(True)))

    def keep(self, order: Order, name: str) -> None:
        """The file may have reached the ERP: the order keeps this name for good."""
        f = s.file_names
        with self.engine.begin() as conn:
            conn.execute(sa.update(f).where(f.c.destination == self.folder, f.c.name == name,
                                            f.c.order_id == order.id).values(generated=False))

    def _hold(self, order: Order, name: str, generated: bool) -> tuple[int, bool]:
        """(holder's order id, held as generated) once ``name`` is held, by ``order`` if nobody had it."""
        f = s.file_names
        with self.engine.begin() as conn:
            conn.execute(self._insert().values(destination=self.folder, name=name, order_id=order.id,
                                               generated=generated).on_conflict_do_nothing())
            holder_id, held_generated = conn.execute(sa.select(f.c.order_id, f.c.generated).where(
                f.c.destination == self.folder, f.c.name == name)).one()
        return holder_id, bool(held_generated)

    def _carried(self) -> set[str]:
        """The numbers orders of the administrations on this connection carry or reserved."""
        if self._numbers is None:
            o, a, t = s.orders, s.administrations, s.export_state
            sharing = sa.select(a.c.id).where(a.c.connection_id == self.administration.connection_id)
            with self.engine.connect() as conn:
                self._numbers = set(conn.execute(sa.select(o.c.order_nr).where(
                    o.c.administration_id.in_(sharing), o.c.order_nr.is_not(None))).scalars())
                self._numbers.update(conn.execute(sa.select(t.c.reserved_order_nr).where(
                    t.c.administration_id.in_(sharing), t.c.reserved_order_nr.is_not(None))).scalars())
        return self._numbers

    def _fill_from_sent_orders(self) -> None:
        """Hold the names of files sent to this folder before names were held (once per administration)."""
        t = s.export_state
        path = urlsplit(self.destination).path.rstrip("/")
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.c.destination, t.c.order_id).where(
                t.c.destination.contains(f"{path}/", autoescape=True))).all()
        names = [{"destination": self.folder, "name": posixpath.basename(sent), "order_id": order_id,
                  "generated": False} for sent, order_id in rows if folder_key(posixpath.dirname(sent)) == self.folder]
        with self.engine.begin() as conn:
            if names:
                conn.execute(self._insert().on_conflict_do_nothing(), names)
        key_settings.next_value(self.engine, self.administration.id, FILLED_KEY)

    def _insert(self) -> sa.Insert:
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        return dialect.insert(s.file_names)

    def _label(self, order_id: int) -> str:
        o, a = s.orders, s.administrations
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(o.c.internal_order_nr, a.c.code).join(a, a.c.id == o.c.administration_id)
                               .where(o.c.id == order_id)).first()
        return order_label(*row) if row else f"order id {order_id} (no longer in the order database)"
