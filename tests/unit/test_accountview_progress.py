"""Per-order delivery progress (``export_state.progress``), on SQLite and PostgreSQL alike."""

from __future__ import annotations

import sqlalchemy as sa

from backoffice_export import export_state
from backoffice_export.connectors.accountview.delivery import Progress
from backoffice_export.db import schema as s
from backoffice_export.document import load_document


def _order_id(engine: sa.Engine) -> int:
    load_document(engine, {"administrations": [{
        "code": "progress", "application_name": "shop", "connector": "accountview", "connection_id": "av",
        "customers": [{"code": "20010", "name": "Jansen"}], "items": [{"code": "ART1"}],
        "orders": [{"internal_order_nr": "1", "customer": "20010", "order_date": "2024-03-15T09:30:00",
                    "lines": [{"item": "ART1", "quantity": "1", "price": "1.00"}]}]}]})
    with engine.connect() as conn:
        return conn.execute(sa.select(s.orders.c.id)).scalar_one()


def test_progress_is_saved_read_and_forgotten(any_engine: sa.Engine) -> None:
    order_id = _order_id(any_engine)
    assert export_state.progress(any_engine, order_id) is None
    value = {"order_nr": "10001", "batches": 2, "batch_size": 50, "lines": 120, "ord_date": "2024-03-20T14:05:09",
             "in_flight": 3, "complete": False}
    export_state.save_progress(any_engine, order_id, value)
    assert export_state.progress(any_engine, order_id) == value
    assert Progress.of(export_state.progress(any_engine, order_id)) == Progress(**value)
    export_state.save_progress(any_engine, order_id, None)
    assert export_state.progress(any_engine, order_id) is None


def test_progress_of_reads_what_it_knows_and_ignores_the_rest() -> None:
    assert Progress.of(None) == Progress()
    assert Progress.of({"order_nr": "7", "batches": 1, "written_by": "a later version"}) == Progress(
        order_nr="7", batches=1)


def test_progress_survives_the_order_being_reloaded(any_engine: sa.Engine) -> None:
    order_id = _order_id(any_engine)
    export_state.save_progress(any_engine, order_id, {"order_nr": "10001", "batches": 1})
    _order_id(any_engine)  # the same document again: the order is updated in place
    assert export_state.progress(any_engine, order_id) == {"order_nr": "10001", "batches": 1}
