"""Temporary files left by cut uploads are swept when a drop opens, but only old ones."""

from __future__ import annotations

import os
import time

import pytest
import sqlalchemy as sa

from backoffice_export.transport.file_drop import open_file_drop
from tests.helpers import bind_connection


@pytest.mark.parametrize("kind", ["sftp", "ftps"])
def test_old_partials_are_swept_and_fresh_ones_left_alone(kind, sandboxes, monkeypatch):
    conn_id, folder = bind_connection(monkeypatch, sandboxes, kind)
    sandbox = sandboxes.sftp if kind == "sftp" else sandboxes.ftp
    target = sandbox.user_root("app4sales") / folder / "orders"
    target.mkdir(parents=True)
    old, fresh, final = target / ".7.xml.part", target / ".8.xml.part", target / "7.xml"
    for path in (old, fresh, final):
        path.write_bytes(b"<Orders/>")
    an_hour_ago = time.time() - 3700
    os.utime(old, (an_hour_ago, an_hour_ago))
    os.utime(final, (an_hour_ago, an_hour_ago))
    with open_file_drop(conn_id, "orders"):
        pass
    assert sorted(p.name for p in target.iterdir()) == [".8.xml.part", "7.xml"]


@pytest.mark.parametrize("kind", ["sftp", "ftps"])
def test_chunks_opening_a_new_folder_at_once_all_connect(kind, sandboxes, monkeypatch):
    """Parallel chunks of a first run all make ``<folder>/orders``: one losing the race for a
    level the other just made is not a lost connection (it left a chunk for the retry)."""
    from concurrent.futures import ThreadPoolExecutor

    def open_one(conn_id: str, order_nr: int) -> str:
        with open_file_drop(conn_id, "orders/deeper") as drop:
            return drop.put(f"{order_nr}.xml", b"<Orders/>")

    for _ in range(5):
        conn_id, folder = bind_connection(monkeypatch, sandboxes, kind)
        with ThreadPoolExecutor(6) as pool:
            finals = list(pool.map(open_one, [conn_id] * 6, range(6)))
        assert finals == [f"{folder}/orders/deeper/{n}.xml" for n in range(6)]


@pytest.mark.parametrize("kind", ["sftp", "ftps"])
def test_a_connector_sweeps_at_most_once_per_interval(kind, sandboxes, monkeypatch, sqlite_engine, files_root):
    """Listing the folder costs a chunk time that grows with the folder (an ERP may keep every
    file it imported), so an administration's chunks sweep once per ``stale_part_seconds``."""
    from backoffice_export import key_settings, repository
    from backoffice_export.connectors import get_connector
    from backoffice_export.db import schema as s
    from backoffice_export.document import load_document
    from backoffice_export.transport.file_drop import SWEEP_KEY
    from tests.helpers import reflecta_admin
    from tests.unit.ezxml_documents import ezxml_admin

    extra = {**sandboxes.airflow_connection(kind, "app4sales", "x")["extra"], "stale_part_seconds": 600}
    conn_id, folder = bind_connection(monkeypatch, sandboxes, kind, extra=extra)
    connector_name, subfolder = ("reflecta", "orders") if kind == "sftp" else ("ezxml", "in")
    admin = reflecta_admin("sweeper", conn_id) if kind == "sftp" else ezxml_admin(
        "sweeper", conn_id, settings={"FtpOrderExportFolder": subfolder})
    load_document(sqlite_engine, {"administrations": [admin]})
    with sqlite_engine.connect() as conn:
        admin_id = conn.execute(sa.select(s.administrations.c.id)
                                .where(s.administrations.c.code == "sweeper")).scalar_one()
    administration = repository.administration(sqlite_engine, admin_id)
    connector = get_connector(connector_name)
    settings = connector.parse_settings(administration.settings)
    sandbox = sandboxes.sftp if kind == "sftp" else sandboxes.ftp
    target = sandbox.user_root("app4sales") / folder / subfolder

    def leave_a_stale_part(name: str) -> None:
        part = target / name
        part.write_bytes(b"<Orders/>")
        long_ago = time.time() - 3700
        os.utime(part, (long_ago, long_ago))

    def open_once() -> None:
        with connector.open_session(administration, settings, sqlite_engine):
            pass

    open_once()  # the first chunk sweeps (nothing there yet) and records when
    leave_a_stale_part(".7.xml.part")
    open_once()
    assert (target / ".7.xml.part").exists()  # within the interval: no listing
    recorded = float(key_settings.get(sqlite_engine, admin_id, SWEEP_KEY))
    monkeypatch.setattr(key_settings.time, "time", lambda: recorded + 601)
    open_once()
    assert not (target / ".7.xml.part").exists()
    assert float(key_settings.get(sqlite_engine, admin_id, SWEEP_KEY)) == pytest.approx(recorded + 601, abs=0.01)


def test_due_is_true_once_per_interval(any_engine, monkeypatch):
    from backoffice_export import key_settings
    from backoffice_export.document import load_document
    from tests.helpers import reflecta_admin

    load_document(any_engine, {"administrations": [reflecta_admin("due", "c")]})
    with any_engine.connect() as conn:
        admin_id = conn.execute(sa.text("SELECT id FROM administrations WHERE code = 'due'")).scalar_one()
    now = [1_000_000.0]
    monkeypatch.setattr(key_settings.time, "time", lambda: now[0])
    assert key_settings.due(any_engine, admin_id, "k", 60)
    assert not key_settings.due(any_engine, admin_id, "k", 60)
    now[0] += 59.5
    assert not key_settings.due(any_engine, admin_id, "k", 60)
    now[0] += 1
    assert key_settings.due(any_engine, admin_id, "k", 60)
    assert key_settings.due(any_engine, admin_id, "k", 0)  # an interval of 0: always
    assert key_settings.due(any_engine, admin_id, "other", 60)  # each key on its own
