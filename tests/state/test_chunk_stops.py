"""A chunk that cannot reach its ERP leaves every order with a stored reason, ready for the next run."""

from __future__ import annotations

import json

import pytest

from backoffice_export import export, export_state
from backoffice_export.document import load_document
from backoffice_export.export_state import ClaimOwner
from tests.helpers import order, reflecta_admin

OWNER = ClaimOwner("send_orders_to_backoffice", "scheduled_1", "reflecta.send_chunk", 0)


def _send(engine, code: str) -> None:
    ids = export.plan_chunks(engine, 10)["reflecta"][0]["ids"]
    with pytest.raises(Exception):  # noqa: B017 (the task fails, whatever the cause, so Airflow retries it)
        result = export.send_chunk(engine, ids, OWNER)
        if result.left_for_retry:
            raise export.ChunkIncomplete(result.left_for_retry)


def _assert_stored_and_picked_up(engine, code: str, *words: str) -> None:
    rows = export_state.states(engine, administration=code)
    assert [r.state for r in rows] == ["failed", "failed"]
    for row in rows:
        assert row.error and all(word in row.error for word in words), row.error
    assert len(export.plan_chunks(engine, 10)["reflecta"][0]["ids"]) == 2  # the next run takes them


def test_an_undefined_connection_stores_a_reason_on_every_order(sqlite_engine, files_root):
    load_document(sqlite_engine, {"administrations": [reflecta_admin(
        "no-conn", "erp_not_defined", orders=[order("1", order_nr="N1"), order("2", order_nr="N2")])]})
    _send(sqlite_engine, "no-conn")
    _assert_stored_and_picked_up(sqlite_engine, "no-conn", "erp_not_defined")


def test_a_folder_that_leaves_the_root_stores_a_reason_on_every_order(sqlite_engine, files_root, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_ERP_DOTDOT", json.dumps(
        {"conn_type": "sftp", "host": "127.0.0.1", "port": 1, "login": "x", "schema": "../etc"}))
    load_document(sqlite_engine, {"administrations": [reflecta_admin(
        "dotdot", "erp_dotdot", orders=[order("1", order_nr="D1"), order("2", order_nr="D2")])]})
    _send(sqlite_engine, "dotdot")
    _assert_stored_and_picked_up(sqlite_engine, "dotdot", "leaves the connection's root")
