"""EzXml delivery: number the order, write its file in the ``OrderFormat``, upload it over FTP(S).

One file per order in ``<connection folder>/<FtpOrderExportFolder>`` (default ``export``),
through ``transport/file_drop.py``: written under a temporary name, then renamed, so the ERP
never reads half a file. FTP, FTPS (explicit TLS) and SFTP all work; the administration's
Airflow connection type decides.

File names: ``<order number>.xml`` (default and Reflecta XML) or ``<order number>.csv``, where
the order number is the one the ERP knows the order by (``Default17`` / ``Inv17``, or App4Sales'
internal number with ``UseInternalOrdersAsWebOrderNr``). That number is fixed for the order the
first time it is drawn (``order_number``): a retry after a refused, cut or lost upload, a later
run, and a re-export of a sent order all write the same name, so the ERP's folder holds one
file per order and a second attempt replaces the first instead of adding a duplicate order.
No timestamp or attempt counter is ever part of the name for that reason.

Order of work, per order: a trial render with a stand-in number (bad data fails here, before a
number is drawn), numbers (reserved before the file is made), file (pure mapping, XSD-checked
for XML), local copy (``[App4SalesFiles]/ExportedOrders/<App>/``, the record of what
was handed over), upload, and only then the write-back of the number to ``orders.order_nr``
(seed "Order Number Update": upon successful transmission), recorded with the sent state.
The steps up to the local copy are ``build``, the upload is ``deliver``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from backoffice_export import key_settings
from backoffice_export.connectors.base import BuildThenDeliver, Sent
from backoffice_export.connectors.ezxml import csv_format, default_xml, reflecta_xml
from backoffice_export.connectors.ezxml import settings as ezxml_settings
from backoffice_export.connectors.ezxml.common import OrderNumbers, UnhandledOrderError
from backoffice_export.connectors.ezxml.order_number import OrderNumbering, numbers_of
from backoffice_export.connectors.ezxml.settings import EzXmlSettings, Format
from backoffice_export.connectors.file_identity import FileNames, NumberTaken
from backoffice_export.errors import OrderDataError
from backoffice_export.mapping.text import safe_path_part
from backoffice_export.model import Administration, Order
from backoffice_export.transport.file_drop import SWEEP_KEY, FileDrop, open_file_drop
from backoffice_export.transport.local_copy import ExportCopies


@dataclass(frozen=True)
class FileLayout:
    order_type: str  # the prefix of generated numbers
    extension: str
    generated_always: bool  # the format writes the generated number even with internal numbers on


LAYOUTS = {
    Format.DEFAULT: FileLayout(default_xml.ORDER_TYPE, default_xml.EXTENSION, generated_always=True),
    Format.CSV: FileLayout(csv_format.ORDER_TYPE, csv_format.EXTENSION, generated_always=False),
    Format.REFLECTA: FileLayout(reflecta_xml.ORDER_TYPE, reflecta_xml.EXTENSION, generated_always=False),
}


@dataclass(frozen=True)
class EzXmlFile:
    order_nr: str
    file_name: str
    data: bytes


class EzXmlSession(BuildThenDeliver):
    def __init__(self, administration: Administration, settings: EzXmlSettings, engine: sa.Engine, drop: FileDrop,
                 clock: Callable[[], datetime] = datetime.now) -> None:
        self.administration, self.settings, self.engine, self.drop = administration, settings, engine, drop
        # The CSV's "current date and time" is the worker's local time, as .NET's DateTime.Now was.
        self.clock = clock
        self.layout = LAYOUTS[settings.OrderFormat]
        self.names = FileNames(engine, drop.destination, administration)
        self.numbering = OrderNumbering(engine, administration.id, use_internal=settings.UseInternalOrdersAsWebOrderNr,
                                        names=self.names, extension=self.layout.extension)
        self.local_copy = ExportCopies(administration.application_name)

    def render(self, order: Order, numbers: OrderNumbers) -> bytes:
        if self.settings.OrderFormat is Format.CSV:
            return csv_format.render(order, numbers, self.clock())
        if self.settings.OrderFormat is Format.REFLECTA:
            return reflecta_xml.render(order, self.settings, numbers)
        return default_xml.render(order, numbers)

    def stand_in_numbers(self, order: Order) -> OrderNumbers:
        """Numbers of the real shape without drawing one: a trial render finds bad data first."""
        return self.numbers(order, f"{self.layout.order_type}0")

    def numbers(self, order: Order, generated: str | None) -> OrderNumbers:
        """The order's numbers when its generated number is ``generated``."""
        return numbers_of(order, generated, use_internal=self.settings.UseInternalOrdersAsWebOrderNr,
                          generated_always=self.layout.generated_always)

    def build(self, order: Order) -> EzXmlFile:
        number_field = "Order.InternalOrderNr" if self.settings.UseInternalOrdersAsWebOrderNr else "Order.OrderNr"
        try:
            # An order whose data cannot go fails here, before it takes a number from the sequence,
            # so the numbers the ERP receives have no gaps left by orders that never arrived.
            self.render(order, self.stand_in_numbers(order))
            numbers = self.numbering.numbers_for(order, self.layout.order_type,
                                                 generated_always=self.layout.generated_always)
            data = self.render(order, numbers)
            file_name = f"{safe_path_part(numbers.order_nr, number_field)}.{self.layout.extension}"
            # An internal number is the order's own: another order holding it in the folder stops this one.
            self.names.hold_own(order, file_name, numbers.order_nr, number_field)
            self.local_copy.write(file_name, data)
            return EzXmlFile(numbers.order_nr, file_name, data)
        except (UnhandledOrderError, NumberTaken):
            raise
        except OrderDataError as exc:
            raise UnhandledOrderError(exc.field, exc.message) from exc

    def deliver(self, order: Order, built: EzXmlFile) -> Sent:
        self.drop.put(built.file_name, built.data)
        # The number reaches orders.order_nr with the sent state, in one transaction (seed: upon
        # successful transmission).
        return Sent(backoffice_order_nr=built.order_nr, destination=f"{self.drop.destination}/{built.file_name}",
                    write_back_order_nr=built.order_nr)


class EzXmlConnector:
    name = "ezxml"

    def parse_settings(self, raw: Mapping[str, Any]) -> EzXmlSettings:
        return ezxml_settings.parse(raw)

    @contextlib.contextmanager
    def open_session(self, administration: Administration, settings: EzXmlSettings,
                     engine: sa.Engine) -> Iterator[EzXmlSession]:
        with open_file_drop(administration.connection_for("EzXml"), settings.FtpOrderExportFolder,
                            sweep_due=key_settings.once_every(engine, administration.id, SWEEP_KEY)) as drop:
            yield EzXmlSession(administration, settings, engine, drop)
