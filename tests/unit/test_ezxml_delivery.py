"""EzXml delivery: file names, write-back after success, the same number on a retry, ERROR_Unhandled with the reason.

Runs the real session and the real export runner on a SQLite order database; only the FTP folder is a fake
(the end-to-end tests use the FTPS sandbox).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from backoffice_export import export_state, key_settings, repository
from backoffice_export.connectors.ezxml import delivery
from backoffice_export.connectors.ezxml import settings as ezxml_settings
from backoffice_export.connectors.ezxml.common import UnhandledOrderError
from backoffice_export.connectors.ezxml.order_number import ORDER_NR_KEY, reserved_order_nr
from backoffice_export.db import schema as s
from backoffice_export.document import load_document
from backoffice_export.errors import ConnectionLost, DeliveryError
from backoffice_export.export import send_chunk
from backoffice_export.export_state import ClaimOwner
from backoffice_export.model import Order
from tests.unit.ezxml_documents import ezxml_admin, ezxml_order

OWNER = ClaimOwner("send_orders_to_backoffice", "manual__1", "ezxml.send_chunk", 0)


class FakeDrop:
    """The export folder: records what was put and what the order looked like in the database at that moment."""

    destination = "ftps://127.0.0.1:2121/shop/export"

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.files: dict[str, bytes] = {}
        self.puts: list[str] = []
        self.order_nr_at_put: list[str | None] = []
        self.fail_with: list[DeliveryError] = []

    def put(self, name: str, data: bytes) -> str:
        self.puts.append(name)
        with self.engine.connect() as conn:
            self.order_nr_at_put.append(conn.execute(
                sa.select(s.orders.c.order_nr).order_by(s.orders.c.id.desc())).scalars().first())
        if self.fail_with:
            raise self.fail_with.pop(0)
        self.files[name] = data
        return f"{self.destination}/{name}"

    def exists(self, name: str) -> bool:
        return name in self.files


def load(engine: sa.Engine, settings: dict[str, Any], orders: list[dict[str, Any]]) -> list[Order]:
    load_document(engine, {"administrations": [ezxml_admin("ez", "ez_ftps", settings=settings, orders=orders,
                                                           application_name="EzShop")]})
    with engine.connect() as conn:
        ids = conn.execute(sa.select(s.orders.c.id).order_by(s.orders.c.id)).scalars().all()
    export_state.claim(engine, ids, OWNER)
    return repository.load_orders(engine, ids)


def session(engine: sa.Engine, order: Order, drop: FakeDrop, settings: dict[str, Any]) -> delivery.EzXmlSession:
    return delivery.EzXmlSession(order.administration, ezxml_settings.parse(settings), engine, drop,  # type: ignore[arg-type]
                                 clock=lambda: datetime(2024, 3, 18, 14, 5))


def order_nr(engine: sa.Engine, order_id: int) -> str | None:
    with engine.connect() as conn:
        return conn.execute(sa.select(s.orders.c.order_nr).where(s.orders.c.id == order_id)).scalar_one()


@pytest.mark.parametrize(("settings", "file_name"), [
    ({}, "Default1.xml"),
    ({"OrderFormat": "CSV"}, "Inv1.csv"),
    ({"OrderFormat": "Reflecta", "ReflectaProviderCode": "P", "ReflectaCompanyCode": "01"}, "Default1.xml"),
    ({"UseInternalOrdersAsWebOrderNr": True}, "5000.xml"),
    ({"OrderFormat": "CSV", "UseInternalOrdersAsWebOrderNr": "true"}, "5000.csv"),
], ids=["default", "csv", "reflecta", "default-internal", "csv-internal"])
def test_one_file_per_order_named_after_its_number_and_the_number_written_back_after_the_upload(
        sqlite_engine: sa.Engine, files_root: Path, settings: dict[str, Any], file_name: str) -> None:
    order = load(sqlite_engine, settings, [ezxml_order("5000")])[0]
    drop = FakeDrop(sqlite_engine)
    sent = session(sqlite_engine, order, drop, settings).send(order)
    assert list(drop.files) == [file_name]
    assert drop.order_nr_at_put == [None]  # not written back before the upload succeeded
    number = file_name.rsplit(".", 1)[0]
    assert (sent.backoffice_order_nr, sent.destination) == (number, f"{drop.destination}/{file_name}")
    assert sent.write_back_order_nr == number  # the runner writes it back with the sent state
    assert order_nr(sqlite_engine, order.id) is None
    assert (files_root / "ExportedOrders" / "EzShop" / file_name).read_bytes() == drop.files[file_name]


@pytest.mark.parametrize("failure", [
    DeliveryError("ftps://127.0.0.1/shop/export: rename of Default1.xml refused by the server: 550 denied"),
    ConnectionLost("connection lost during rename of Default1.xml", delivered_unknown=True),
    ConnectionLost("connection lost during upload of Default1.xml"),
], ids=["refused", "lost-after-rename", "lost-during-upload"])
def test_a_failed_upload_is_retried_with_the_same_number_and_file_name(
        sqlite_engine: sa.Engine, files_root: Path, failure: DeliveryError) -> None:
    first, second = load(sqlite_engine, {}, [ezxml_order("5000"), ezxml_order("5001")])
    drop = FakeDrop(sqlite_engine)
    drop.fail_with.append(failure)
    with pytest.raises(DeliveryError):
        session(sqlite_engine, first, drop, {}).send(first)
    assert order_nr(sqlite_engine, first.id) is None  # written back only after success
    session(sqlite_engine, second, drop, {}).send(second)  # another order draws meanwhile
    retried = repository.load_orders(sqlite_engine, [first.id])[0]
    sent = session(sqlite_engine, retried, drop, {}).send(retried)  # a later run, a new session
    assert drop.puts == ["Default1.xml", "Default2.xml", "Default1.xml"]
    assert sent.backoffice_order_nr == "Default1" == sent.write_back_order_nr
    assert key_settings.get(sqlite_engine, first.administration.id, ORDER_NR_KEY) == "2"


def test_a_reexport_of_a_sent_order_replaces_its_file(sqlite_engine: sa.Engine, files_root: Path) -> None:
    order = load(sqlite_engine, {"OrderFormat": "CSV"}, [ezxml_order("5000")])[0]
    drop = FakeDrop(sqlite_engine)
    session(sqlite_engine, order, drop, {"OrderFormat": "CSV"}).send(order)
    again = repository.load_orders(sqlite_engine, [order.id])[0]
    session(sqlite_engine, again, drop, {"OrderFormat": "CSV"}).send(again)
    assert drop.puts == ["Inv1.csv", "Inv1.csv"]


def test_bad_order_data_is_stored_as_ERROR_Unhandled_with_the_field_and_nothing_is_sent(
        sqlite_engine: sa.Engine, files_root: Path) -> None:
    order = load(sqlite_engine, {}, [ezxml_order("5000", items=("TS-RED-M", "UNKNOWN-ITEM"))])[0]
    drop = FakeDrop(sqlite_engine)
    with pytest.raises(UnhandledOrderError) as caught:
        session(sqlite_engine, order, drop, {}).send(order)
    assert str(caught.value) == "ERROR_Unhandled: OrderLine.Item: line 2 has no item (unknown item code?)"
    assert drop.puts == []
    assert not (files_root / "ExportedOrders").exists()
    assert key_settings.get(sqlite_engine, order.administration.id, ORDER_NR_KEY) is None  # no number taken


SLICE_FORMATS = [({}, "Default", "xml"), ({"OrderFormat": "CSV"}, "Inv", "csv"),
                 ({"OrderFormat": "Reflecta", "ReflectaProviderCode": "P", "ReflectaCompanyCode": "01"}, "Default",
                  "xml")]


def built_slice(engine: sa.Engine, settings: dict[str, Any], orders: list[Order],
                drop: FakeDrop) -> list[Any]:
    """What the runner does with a slice: build each order in its turn."""
    ezxml = session(engine, orders[0], drop, settings)
    outcomes: list[Any] = []
    for order in orders:
        try:
            outcomes.append(ezxml.build(order))
        except UnhandledOrderError as exc:
            outcomes.append(str(exc))
    return outcomes


@pytest.mark.parametrize(("settings", "order_type", "extension"), SLICE_FORMATS, ids=["default", "csv", "reflecta"])
def test_a_slice_is_numbered_without_gaps_and_a_bad_order_takes_no_number(
        sqlite_engine: sa.Engine, files_root: Path, settings: dict[str, Any], order_type: str, extension: str) -> None:
    orders = load(sqlite_engine, settings, [ezxml_order("5000"), ezxml_order("5001", items=("UNKNOWN-ITEM",)),
                                            ezxml_order("5002"), ezxml_order("5003")])
    drop = FakeDrop(sqlite_engine)
    outcomes = built_slice(sqlite_engine, settings, orders, drop)
    assert outcomes[1] == "ERROR_Unhandled: OrderLine.Item: line 1 has no item (unknown item code?)"
    good = [outcomes[0], outcomes[2], outcomes[3]]
    assert [b.file_name for b in good] == [f"{order_type}{n}.{extension}" for n in (1, 2, 3)]  # no gap
    by_order = session(sqlite_engine, orders[0], drop, settings)
    for order, built in zip([orders[0], orders[2], orders[3]], good, strict=True):
        # one render, and the same file as order by order
        assert built.data == by_order.render(order, by_order.numbers(order, built.order_nr))
        assert reserved_order_nr(sqlite_engine, order.id) == built.order_nr
    assert reserved_order_nr(sqlite_engine, orders[1].id) is None
    assert key_settings.get(sqlite_engine, orders[0].administration.id, ORDER_NR_KEY) == "3"


def test_a_slice_reuses_numbers_reserved_by_an_earlier_attempt(sqlite_engine: sa.Engine, files_root: Path) -> None:
    orders = load(sqlite_engine, {}, [ezxml_order("5000"), ezxml_order("5001")])
    drop = FakeDrop(sqlite_engine)
    drop.fail_with.append(DeliveryError("550 denied"))
    with pytest.raises(DeliveryError):
        session(sqlite_engine, orders[1], drop, {}).send(orders[1])  # took Default1, upload refused
    built = built_slice(sqlite_engine, {}, repository.load_orders(sqlite_engine, [o.id for o in orders]), drop)
    assert [b.order_nr for b in built] == ["Default2", "Default1"]


def test_an_internal_number_that_cannot_be_a_file_name_is_refused(sqlite_engine: sa.Engine, files_root: Path) -> None:
    order = load(sqlite_engine, {"UseInternalOrdersAsWebOrderNr": True}, [ezxml_order("../5000")])[0]
    with pytest.raises(UnhandledOrderError) as caught:
        session(sqlite_engine, order, FakeDrop(sqlite_engine), {"UseInternalOrdersAsWebOrderNr": True}).send(order)
    assert caught.value.field == "Order.InternalOrderNr"


def test_the_runner_stores_the_reason_per_order_and_the_rest_of_the_chunk_goes(
        sqlite_engine: sa.Engine, files_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    load_document(sqlite_engine, {"administrations": [ezxml_admin("ez", "ez_ftps", application_name="EzShop", orders=[
        ezxml_order("5000"), ezxml_order("5001", customer="NO-SUCH-CUSTOMER"), ezxml_order("5002"),
        ezxml_order("5003", is_paid=True)])]})
    drop = FakeDrop(sqlite_engine)

    @contextlib.contextmanager
    def fake_open(conn_id: str, folder: str, **_: object) -> Iterator[FakeDrop]:
        assert (conn_id, folder) == ("ez_ftps", "export")  # FtpOrderExportFolder's default
        yield drop

    monkeypatch.setattr(delivery, "open_file_drop", fake_open)
    ids = [row.order_id for row in export_state.states(sqlite_engine)]
    result = send_chunk(sqlite_engine, ids, OWNER)
    assert (result.sent, result.failed, result.left_for_retry) == (2, 2, 0)
    rows = {row.internal_order_nr: row for row in export_state.states(sqlite_engine)}
    assert rows["5001"].error == ("order 5001 (ez): ERROR_Unhandled: Order.Customer: the order has no customer "
                                  "(unknown customer code?)")
    assert rows["5003"].error == ("order 5003 (ez): ERROR_Unhandled: PaymentDetails.PaymentId: the order is marked as "
                                  "paid but has no payment id")
    # the failed orders took no number: the ERP sees Default1 and Default2, no gap
    assert sorted(drop.files) == ["Default1.xml", "Default2.xml"]
    assert [(rows[n].state, rows[n].backoffice_order_nr, rows[n].order_nr) for n in ("5000", "5002")] == [
        ("sent", "Default1", "Default1"), ("sent", "Default2", "Default2")]
    assert rows["5000"].destination == f"{drop.destination}/Default1.xml"
