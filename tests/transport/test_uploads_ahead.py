"""Uploading ahead: the next files go up under their temporary names on connections of their
own, and the ERP still sees each file appear whole, once, in chunk order."""

from __future__ import annotations

import pytest

from backoffice_export.errors import ConnectionLost
from backoffice_export.transport.file_drop import open_file_drop
from tests.helpers import bind_connection

FILES = [(f"{n}.xml", f"<Orders><Order>{n}</Order></Orders>".encode() * (n % 7 + 1)) for n in range(1, 31)]


def _sandbox(sandboxes, kind):
    return sandboxes.sftp if kind == "sftp" else sandboxes.ftp


def _put_like_the_runner(drop, files, ahead: int = 3) -> list[str]:
    """As ``export._ahead`` does: the next few are staged before each one's turn."""
    finals = []
    for index, (name, data) in enumerate(files):
        for later_name, later_data in files[index + 1:index + 1 + ahead]:
            drop.stage(later_name, later_data)
        finals.append(drop.put(name, data))
    return finals


@pytest.mark.parametrize("kind", ["sftp", "ftps"])
def test_files_uploaded_ahead_appear_whole_and_in_chunk_order(kind, sandboxes, monkeypatch):
    conn_id, folder = bind_connection(monkeypatch, sandboxes, kind)
    sandbox = _sandbox(sandboxes, kind)
    renamed_before = len(sandbox.renamed)
    with open_file_drop(conn_id, "orders", sweep_due=lambda seconds: False) as drop:
        finals = _put_like_the_runner(drop, FILES)
        used = drop.ahead.used
    target = sandbox.user_root("app4sales") / folder / "orders"
    assert finals == [f"{folder}/orders/{name}" for name, _ in FILES]
    assert {p.name: p.read_bytes() for p in target.iterdir()} == dict(FILES)  # no partial left
    seen = [path for path in sandbox.renamed[renamed_before:] if f"/{folder}/" in path]
    assert [path.rsplit("/", 1)[1] for path in seen] == [name for name, _ in FILES]
    assert used == len(FILES) - 1  # every file but the first went up ahead of its turn


def test_a_server_with_one_session_per_connection_gets_the_files_one_at_a_time(sandboxes, monkeypatch):
    conn_id, folder = bind_connection(monkeypatch, sandboxes, "sftp")
    sandboxes.sftp.faults.sessions_per_connection = 1
    try:
        with open_file_drop(conn_id, "orders", sweep_due=lambda seconds: False) as drop:
            finals = _put_like_the_runner(drop, FILES[:6])
            assert drop.ahead.off and drop.ahead.used == 0
    finally:
        sandboxes.sftp.faults.reset()
    target = sandboxes.sftp.user_root("app4sales") / folder / "orders"
    assert finals == [f"{folder}/orders/{name}" for name, _ in FILES[:6]]
    assert {p.name: p.read_bytes() for p in target.iterdir()} == dict(FILES[:6])


@pytest.mark.parametrize("kind", ["sftp", "ftps"])
def test_files_staged_for_orders_the_chunk_never_reached_are_removed(kind, sandboxes, monkeypatch):
    conn_id, folder = bind_connection(monkeypatch, sandboxes, kind)
    with open_file_drop(conn_id, "orders", sweep_due=lambda seconds: False) as drop:
        drop.put(*FILES[0])
        for name, data in FILES[1:4]:
            drop.stage(name, data)
    target = _sandbox(sandboxes, kind).user_root("app4sales") / folder / "orders"
    assert [p.name for p in target.iterdir()] == [FILES[0][0]]


@pytest.mark.parametrize("kind", ["sftp", "ftps"])
def test_a_staged_upload_that_was_refused_is_done_over_in_its_turn(kind, sandboxes, monkeypatch):
    """The staged upload fails (the server refuses writes for a moment); the file's own turn
    uploads it again, so its outcome is the one an upload in turn gives."""
    conn_id, folder = bind_connection(monkeypatch, sandboxes, kind)
    sandbox = _sandbox(sandboxes, kind)
    with open_file_drop(conn_id, "orders", sweep_due=lambda seconds: False) as drop:
        if kind == "sftp":
            sandbox.faults.deny_write = True
        else:
            sandbox.faults.deny_store = True
        try:
            drop.stage(*FILES[1])
            assert drop.ahead.take(f"{folder}/orders/.{FILES[1][0]}.part", FILES[1][1]) is False
        finally:
            sandbox.faults.reset()
        drop.put(*FILES[1])
    target = sandbox.user_root("app4sales") / folder / "orders"
    assert {p.name: p.read_bytes() for p in target.iterdir()} == dict([FILES[1]])


@pytest.mark.parametrize("value", ["two", -1])
def test_a_bad_uploads_ahead_extra_leaves_the_orders_for_a_retry(value, sandboxes, monkeypatch):
    extra = {**sandboxes.airflow_connection("sftp", "app4sales", "x")["extra"], "uploads_ahead": value}
    conn_id, _ = bind_connection(monkeypatch, sandboxes, "sftp", extra=extra)
    with pytest.raises(ConnectionLost, match=f"connection {conn_id}: connection extra uploads_ahead"), \
            open_file_drop(conn_id, "orders"):
        pass


@pytest.mark.parametrize(("kind", "extra", "workers"), [
    ("sftp", {}, 2), ("ftps", {}, 1), ("sftp", {"uploads_ahead": 0}, 0), ("ftps", {"uploads_ahead": 3}, 3)])
def test_how_many_go_up_ahead_follows_the_connection(kind, extra, workers, sandboxes, monkeypatch):
    """Two SFTP channels of the one login by default; one more FTP login, since FTP servers often
    cap logins per user; 0 uploads every file in its own turn."""
    extra = {**sandboxes.airflow_connection(kind, "app4sales", "x")["extra"], **extra}
    conn_id, folder = bind_connection(monkeypatch, sandboxes, kind, extra=extra)
    with open_file_drop(conn_id, "orders", sweep_due=lambda seconds: False) as drop:
        assert (drop.ahead._pool._max_workers if drop.ahead else 0) == workers
        _put_like_the_runner(drop, FILES[:4])
    target = _sandbox(sandboxes, kind).user_root("app4sales") / folder / "orders"
    assert {p.name: p.read_bytes() for p in target.iterdir()} == dict(FILES[:4])


def test_a_worker_whose_channel_broke_opens_another_for_its_next_file(sandboxes, monkeypatch):
    conn_id, folder = bind_connection(monkeypatch, sandboxes, "sftp")
    with open_file_drop(conn_id, "orders", sweep_due=lambda seconds: False) as drop:
        drop.stage(*FILES[1])
        assert drop.ahead.take(f"{folder}/orders/.{FILES[1][0]}.part", FILES[1][1])
        for worker in list(drop.ahead._opened):
            worker.get_channel().close()  # as a server dropping the channel would
        finals = _put_like_the_runner(drop, FILES[2:8])
        assert drop.ahead.used >= 1 + 4 and not drop.ahead.off
        drop.put(*FILES[1])
    target = sandboxes.sftp.user_root("app4sales") / folder / "orders"
    assert finals == [f"{folder}/orders/{name}" for name, _ in FILES[2:8]]
    assert {p.name: p.read_bytes() for p in target.iterdir()} == dict(FILES[1:8])


def _stall_uploads_ahead(drop, hold, finished) -> None:
    """The drop's uploads ahead wait for ``hold`` (a server that stopped answering) with half a
    second of patience, then upload for real and set ``finished``."""
    drop.ahead.patience = 0.5
    real_upload = drop.ahead._upload

    def upload(worker, name, data):
        hold.wait(5)
        real_upload(worker, name, data)
        finished.set()

    drop.ahead._upload = upload


def test_a_staged_upload_that_never_finishes_is_a_lost_connection(sandboxes, monkeypatch):
    """A server that stops answering mid-upload: the file's turn does not wait for ever, and the
    rest of the chunk waits for the retry, as with a stalled upload of the drop's own."""
    import threading

    conn_id, folder = bind_connection(monkeypatch, sandboxes, "sftp")
    hold = threading.Event()
    with open_file_drop(conn_id, "orders", sweep_due=lambda seconds: False) as drop:
        _stall_uploads_ahead(drop, hold, threading.Event())
        drop.stage(*FILES[1])
        with pytest.raises(ConnectionLost, match=r"did not finish in [01] s"):
            drop.put(*FILES[1])
        hold.set()
    target = sandboxes.sftp.user_root("app4sales") / folder / "orders"
    assert [p.name for p in target.iterdir()] == []


def test_a_stalled_upload_that_finishes_after_all_is_removed_on_closing(sandboxes, monkeypatch):
    """The server answers again once the turn has given up on it: the temporary file that upload
    leaves is removed when the drop closes, not left for the next sweep."""
    import threading

    conn_id, folder = bind_connection(monkeypatch, sandboxes, "sftp")
    hold, finished = threading.Event(), threading.Event()
    with open_file_drop(conn_id, "orders", sweep_due=lambda seconds: False) as drop:
        _stall_uploads_ahead(drop, hold, finished)
        drop.stage(*FILES[1])
        with pytest.raises(ConnectionLost, match=r"did not finish in [01] s"):
            drop.put(*FILES[1])
        hold.set()
        assert finished.wait(5)
        target = sandboxes.sftp.user_root("app4sales") / folder / "orders"
        assert [p.name for p in target.iterdir()] == [f".{FILES[1][0]}.part"]
    assert [p.name for p in target.iterdir()] == []
