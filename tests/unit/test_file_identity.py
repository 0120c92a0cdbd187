"""File names held per drop folder (``connectors/file_identity.py``) on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from backoffice_export import export_state, repository
from backoffice_export.connectors.file_identity import FileNames, NumberTaken
from backoffice_export.db import schema as s
from backoffice_export.document import load_document
from backoffice_export.export_state import ClaimOwner
from backoffice_export.model import Order
from tests.unit.ezxml_documents import ezxml_admin, ezxml_order

FOLDER = "sftp://erp.example:22/in/orders"


def load(engine: sa.Engine, code: str, count: int, *, conn_id: str = "shared", **fields: object) -> list[Order]:
    load_document(engine, {"administrations": [
        ezxml_admin(code, conn_id, orders=[ezxml_order(str(1000 + i), **fields) for i in range(count)])]})
    with engine.connect() as conn:
        ids = conn.execute(sa.select(s.orders.c.id).join(s.administrations).where(s.administrations.c.code == code)
                           .order_by(s.orders.c.id)).scalars().all()
    return repository.load_orders(engine, ids)


def sequence(start: int = 1):
    numbers = iter(range(start, 10_000))
    return lambda: str(next(numbers))


def test_two_administrations_on_one_folder_never_draw_the_same_number(any_engine: sa.Engine) -> None:
    a, b = load(any_engine, "a", 3), load(any_engine, "b", 3)
    names_a, names_b = FileNames(any_engine, FOLDER, a[0].administration), FileNames(any_engine, FOLDER,
                                                                                       b[0].administration)
    next_a, next_b = sequence(), sequence()  # each administration's own sequence starts at 1
    drawn = [names_a.draw(o, next_a, lambda n: f"{n}.xml") for o in a]
    drawn += [names_b.draw(o, next_b, lambda n: f"{n}.xml") for o in b]
    assert drawn == ["1", "2", "3", "4", "5", "6"]


def test_a_generated_number_skips_numbers_orders_of_the_connection_carry(any_engine: sa.Engine) -> None:
    load(any_engine, "a", 1, order_nr="2")
    load(any_engine, "other-connection", 1, conn_id="elsewhere", order_nr="3")
    b = load(any_engine, "b", 3)
    names = FileNames(any_engine, FOLDER, b[0].administration)
    assert [names.draw(o, sequence(), lambda n: f"{n}.xml") for o in b] == ["1", "3", "4"]


def test_an_own_number_another_order_holds_is_refused_naming_both(any_engine: sa.Engine) -> None:
    a, b = load(any_engine, "a", 1), load(any_engine, "b", 1)
    FileNames(any_engine, FOLDER, a[0].administration).hold_own(a[0], "1000.xml", "1000", "Order.OrderNr")
    names_b = FileNames(any_engine, FOLDER, b[0].administration)
    with pytest.raises(NumberTaken) as caught:
        names_b.hold_own(b[0], "1000.xml", "1000", "Order.OrderNr")
    assert caught.value.field == "Order.OrderNr"
    assert "1000.xml" in str(caught.value) and "order 1000 (a)" in str(caught.value)
    FileNames(any_engine, "sftp://erp.example:22/other", b[0].administration).hold_own(
        b[0], "1000.xml", "1000", "Order.OrderNr")  # another folder: free


def test_orders_sent_before_names_were_held_keep_their_names(any_engine: sa.Engine) -> None:
    a = load(any_engine, "a", 1)
    export_state.track_new_orders(any_engine)
    owner = ClaimOwner("d", "r", "t")
    export_state.claim(any_engine, [a[0].id], owner)
    export_state.mark_sent(any_engine, a[0].id, owner, backoffice_order_nr="7", destination=f"{FOLDER}/7.xml")
    b = load(any_engine, "b", 1)
    names = FileNames(any_engine, FOLDER, b[0].administration)  # fills the names from stored destinations
    assert names.draw(b[0], sequence(7), lambda n: f"{n}.xml") == "8"


def test_a_released_generated_name_is_free_again_and_a_kept_one_is_not(any_engine: sa.Engine) -> None:
    a = load(any_engine, "a", 2)
    names = FileNames(any_engine, FOLDER, a[0].administration)
    assert names.draw(a[0], sequence(), lambda n: f"{n}.xml") == "1"
    assert names.hold_own(a[0], "1.xml", "1", "Order.OrderNr") is True  # held as generated
    names.release(a[0], "1.xml")
    assert names.draw(a[1], sequence(), lambda n: f"{n}.xml") == "1"
    names.keep(a[1], "1.xml")
    assert names.hold_own(a[1], "1.xml", "1", "Order.OrderNr") is False


def test_two_chunks_at_once_never_hold_one_name_twice(any_engine: sa.Engine) -> None:
    a, b = load(any_engine, "a", 20), load(any_engine, "b", 20)
    drawn: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(orders: list[Order]) -> None:
        names, numbers = FileNames(any_engine, FOLDER, orders[0].administration), sequence()
        try:
            for order in orders:
                number = names.draw(order, numbers, lambda n: f"{n}.xml")
                with lock:
                    drawn.append(number)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(orders,)) for orders in (a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(drawn) == len(set(drawn)) == 40


def test_a_folder_is_the_same_folder_whatever_port_or_protocol_reached_it(any_engine: sa.Engine) -> None:
    """The connection's port (a sandbox restarted, a server moved) or protocol may change between runs;
    the names held in the folder must not be forgotten, or a sent order's file is overwritten."""
    a = load(any_engine, "a", 2)
    FileNames(any_engine, "sftp://erp.example:2222/in/orders", a[0].administration).hold_own(
        a[0], "WEB-200.xml", "WEB-200", "Order.OrderNr")
    with pytest.raises(NumberTaken):
        FileNames(any_engine, "ftps://erp.example:21/in/orders", a[0].administration).hold_own(
            a[1], "WEB-200.xml", "WEB-200", "Order.OrderNr")
