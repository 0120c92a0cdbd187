"""Reflecta delivery: number the order, write its XML, upload it to ``<folder>/orders/``.

Order numbers follow the seed: an order without ``OrderNr`` gets the next number of the
administration's ``Reflecta.LastOrderNr`` key setting, saved on the order *before* the file is
made; if the upload fails that generated number is reset so the next attempt draws a new one,
and the server's message is stored. A number the order came with is never reset or replaced.

Each file name is held for its order across everything that delivers to the folder
(``connectors/file_identity.py``): a generated number skips numbers other orders carry or
hold there, and an own number another order already holds fails for review instead of
overwriting that order's file. When the connection broke after the rename was issued the ERP
may already have the file, so even a generated number is kept and the retry overwrites that
same file instead of adding a second order under a new number.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from backoffice_export import key_settings, repository
from backoffice_export.connectors.base import BuildThenDeliver, Sent
from backoffice_export.connectors.file_identity import FileNames
from backoffice_export.connectors.reflecta import mapping
from backoffice_export.connectors.reflecta import settings as reflecta_settings
from backoffice_export.errors import DeliveryError
from backoffice_export.mapping.text import safe_path_part
from backoffice_export.mapping.xml import to_bytes, validate
from backoffice_export.model import Administration, Order
from backoffice_export.transport.file_drop import SWEEP_KEY, FileDrop, open_file_drop
from backoffice_export.transport.local_copy import ExportCopies

XSD = Path(__file__).with_name("reflecta_order.xsd")
ORDER_NR_KEY = "Reflecta.LastOrderNr"
REMOTE_SUBFOLDER = "orders"


@dataclass(frozen=True)
class ReflectaFile:
    order_nr: str
    file_name: str
    data: bytes
    generated: bool  # a number the connector drew that has not reached the ERP yet


class ReflectaSession(BuildThenDeliver):
    def __init__(self, administration: Administration, settings: reflecta_settings.ReflectaSettings,
                 engine: sa.Engine, drop: FileDrop) -> None:
        self.administration, self.settings, self.engine, self.drop = administration, settings, engine, drop
        self.local_copy = ExportCopies(administration.application_name)
        self.names = FileNames(engine, drop.destination, administration)

    def next_number(self) -> str:
        return str(key_settings.next_value(self.engine, self.administration.id, ORDER_NR_KEY))

    def build(self, order: Order) -> ReflectaFile:
        if order.order_nr:
            order_nr = order.order_nr
            file_name = _file_name(order_nr)
            # Also a number drawn by an earlier attempt, which the order holds already.
            generated = self.names.hold_own(order, file_name, order_nr, "Order.OrderNr")
        else:
            order_nr = self.names.draw(order, self.next_number, _file_name)
            repository.set_order_nr(self.engine, order.id, order_nr)
            file_name, generated = _file_name(order_nr), True
        root = mapping.build_order(order, self.settings, order_nr)
        validate(root, XSD)
        data = to_bytes(root)
        self.local_copy.write(file_name, data)  # the seed keeps the file before it uploads it
        return ReflectaFile(order_nr, file_name, data, generated)

    def deliver(self, order: Order, built: ReflectaFile) -> Sent:
        try:
            self.drop.put(built.file_name, built.data)
        except DeliveryError as exc:
            if built.generated:
                if exc.delivered_unknown:
                    self.names.keep(order, built.file_name)
                else:  # the seed: a generated number goes back, and the next attempt draws a new one
                    repository.set_order_nr(self.engine, order.id, None)
                    self.names.release(order, built.file_name)
            raise
        if built.generated:  # at the ERP now: a later attempt (a re-export) never gives it back
            self.names.keep(order, built.file_name)
        return Sent(backoffice_order_nr=built.order_nr, destination=f"{self.drop.destination}/{built.file_name}")


def _file_name(order_nr: str) -> str:
    return f"{safe_path_part(order_nr, 'Order.OrderNr')}.xml"


class ReflectaConnector:
    name = "reflecta"

    def parse_settings(self, raw: Mapping[str, Any]) -> reflecta_settings.ReflectaSettings:
        return reflecta_settings.parse(raw)

    @contextlib.contextmanager
    def open_session(self, administration: Administration, settings: reflecta_settings.ReflectaSettings,
                     engine: sa.Engine) -> Iterator[ReflectaSession]:
        with open_file_drop(administration.connection_for("Reflecta"), REMOTE_SUBFOLDER,
                            sweep_due=key_settings.once_every(engine, administration.id, SWEEP_KEY)) as drop:
            yield ReflectaSession(administration, settings, engine, drop)
