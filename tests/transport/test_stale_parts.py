"""Temporary files left by cut uploads are swept when a drop opens, but only old ones."""

from __future__ import annotations

import os
import time

import pytest

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
