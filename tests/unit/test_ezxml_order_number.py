"""EzXml order numbers on SQLite and PostgreSQL: order type + a sequence that only goes up, each number used once.

Seed: "Order Number Generation" and "Last Order Number Persistence"; the issue adds: safe across restarts, retries and
overlapping runs, the same number for every attempt of one order.
"""

from __future__ import annotations

import threading

import sqlalchemy as sa

from backoffice_export import key_settings, repository
from backoffice_export.connectors.ezxml.order_number import (
    ORDER_NR_KEY,
    OrderNumbering,
    reserved_order_nr,
)
from backoffice_export.connectors.file_identity import FileNames
from backoffice_export.db import schema as s
from backoffice_export.document import load_document
from backoffice_export.model import Order
from tests.unit.ezxml_documents import ezxml_admin, ezxml_order


def load(engine: sa.Engine, count: int, *, code: str = "ez", **order_fields: object) -> list[Order]:
    load_document(engine, {"administrations": [
        ezxml_admin(code, "ez_ftps", orders=[ezxml_order(str(5000 + i), **order_fields) for i in range(count)])]})
    with engine.connect() as conn:
        ids = conn.execute(sa.select(s.orders.c.id).join(s.administrations).where(s.administrations.c.code == code)
                           .order_by(s.orders.c.id)).scalars().all()
    return repository.load_orders(engine, ids)


def numbering(engine: sa.Engine, order: Order, *, use_internal: bool = False) -> OrderNumbering:
    return OrderNumbering(engine, order.administration.id, use_internal=use_internal,
                          names=FileNames(engine, FOLDER, order.administration), extension="xml")


FOLDER = "ftps://erp.example:21/export"


def test_numbers_are_order_type_plus_a_rising_sequence_kept_in_key_settings(any_engine: sa.Engine) -> None:
    orders = load(any_engine, 3)
    session = numbering(any_engine, orders[0])
    assert [session.numbers_for(o, "Default").order_nr for o in orders[:2]] == ["Default1", "Default2"]
    assert session.numbers_for(orders[2], "Inv").order_nr == "Inv3"
    assert key_settings.get(any_engine, orders[0].administration.id, ORDER_NR_KEY) == "3"


def test_the_sequence_survives_a_restart(any_engine: sa.Engine) -> None:
    orders = load(any_engine, 2)
    assert numbering(any_engine, orders[0]).numbers_for(orders[0], "Default").order_nr == "Default1"
    restarted = numbering(any_engine, orders[1])  # a new process: nothing kept in memory
    assert restarted.numbers_for(orders[1], "Default").order_nr == "Default2"


def test_every_attempt_of_one_order_gets_the_same_number(any_engine: sa.Engine) -> None:
    orders = load(any_engine, 2)
    first = numbering(any_engine, orders[0]).numbers_for(orders[0], "Default")
    assert reserved_order_nr(any_engine, orders[0].id) == "Default1"  # durable before any upload
    retry = numbering(any_engine, orders[0]).numbers_for(orders[0], "Default")
    assert retry == first
    assert numbering(any_engine, orders[1]).numbers_for(orders[1], "Default").order_nr == "Default2"


def test_the_sequence_stays_above_numbers_assigned_elsewhere(any_engine: sa.Engine) -> None:
    orders = load(any_engine, 3)
    repository.set_order_nr(any_engine, orders[0].id, "Inv1500")  # e.g. written by the former connector
    repository.set_order_nr(any_engine, orders[1].id, "Default99999999999999999999")  # not a number we could draw
    reloaded = repository.load_orders(any_engine, [orders[2].id])[0]
    assert numbering(any_engine, reloaded).numbers_for(reloaded, "Default").order_nr == "Default1501"


def test_an_order_already_numbered_by_this_connector_keeps_its_number(any_engine: sa.Engine) -> None:
    orders = load(any_engine, 2)
    repository.set_order_nr(any_engine, orders[0].id, "Default40")
    kept = repository.load_orders(any_engine, [orders[0].id])[0]
    assert numbering(any_engine, kept).numbers_for(kept, "Default").order_nr == "Default40"
    assert numbering(any_engine, orders[1]).numbers_for(orders[1], "Default").order_nr == "Default41"


def test_a_number_another_order_holds_is_not_reused(any_engine: sa.Engine) -> None:
    orders = load(any_engine, 2)
    repository.set_order_nr(any_engine, orders[0].id, "Default7")
    repository.set_order_nr(any_engine, orders[1].id, "Default7")  # the same number on two orders: bad data
    first, second = repository.load_orders(any_engine, [o.id for o in orders])
    assert numbering(any_engine, first).numbers_for(first, "Default").order_nr == "Default8"
    assert numbering(any_engine, second).numbers_for(second, "Default").order_nr == "Default9"


def test_internal_numbers_when_UseInternalOrdersAsWebOrderNr(any_engine: sa.Engine) -> None:
    orders = load(any_engine, 2)
    session = numbering(any_engine, orders[0], use_internal=True)
    csv = session.numbers_for(orders[0], "Inv")
    assert (csv.order_nr, csv.generated) == ("5000", None)
    assert key_settings.get(any_engine, orders[0].administration.id, ORDER_NR_KEY) is None  # nothing drawn
    default = session.numbers_for(orders[1], "Default", generated_always=True)
    assert (default.order_nr, default.generated) == ("5001", "Default1")


def test_a_changed_format_draws_a_number_of_the_new_type(any_engine: sa.Engine) -> None:
    order = load(any_engine, 1)[0]
    assert numbering(any_engine, order).numbers_for(order, "Inv").order_nr == "Inv1"
    assert numbering(any_engine, order).numbers_for(order, "Default").order_nr == "Default2"


def test_overlapping_runs_never_draw_the_same_number(any_engine: sa.Engine) -> None:
    orders = load(any_engine, 40)
    drawn: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(share: list[Order]) -> None:
        session = numbering(any_engine, share[0])
        try:
            for order in share:
                number = session.numbers_for(order, "Default").order_nr
                with lock:
                    drawn.append(number)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(orders[i::2],)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(drawn) == len(set(drawn)) == 40
    assert sorted(int(n.removeprefix("Default")) for n in drawn) == list(range(1, 41))
