"""Operations journeys in dag.test(): resend by number, re-export a window, failure alerts."""

from __future__ import annotations

import email
import email.policy
import html
import json
import re
import socket
from datetime import datetime
from urllib.parse import quote

import pytest

from backoffice_export import export, export_state
from backoffice_export.document import load_document
from backoffice_export.export_state import ClaimOwner
from backoffice_export.window import export_window
from tests.conftest import PROJECT
from tests.e2e.conftest import task_states
from tests.helpers import bind_connection, order, reflecta_admin


@pytest.fixture
def resend_dag(export_dag):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(str(PROJECT / "dags")).get_dag("resend_orders")


def _files(sandboxes, folder: str) -> list[str]:
    return sorted(k for k in sandboxes.received_files("sftp") if k.startswith(f"{folder}/orders/"))


def test_resend_sends_chosen_orders_again_and_reports_each_number(
    export_dag, resend_dag, sqlite_engine, sandboxes, monkeypatch, capsys
):
    conn_id, folder = bind_connection(monkeypatch, sandboxes, "sftp")
    load_document(sqlite_engine, {"administrations": [reflecta_admin(
        "resend-me", conn_id, orders=[order("1", order_nr="A1"), order("2", order_nr="A2")])]})
    export_dag.test()
    before = sandboxes.sftp.uploads_completed

    run = resend_dag.test(run_conf={"administration": "resend-me", "order_numbers": ["1", "A2"]})
    assert run.state == "success"
    assert sandboxes.sftp.uploads_completed == before + 2
    assert _files(sandboxes, folder) == [f"{folder}/orders/A1.xml", f"{folder}/orders/A2.xml"]
    rows = export_state.states(sqlite_engine, administration="resend-me")
    assert [(r.state, r.attempts) for r in rows] == [("sent", 2), ("sent", 2)]

    run = resend_dag.test(run_conf={"administration": "resend-me", "order_numbers": ["404"]})
    assert run.state == "failed"
    assert "404: not found in administration resend-me" in capsys.readouterr().out


def test_a_resend_to_a_mistyped_administration_says_it_does_not_exist(
    export_dag, resend_dag, sqlite_engine, sandboxes, monkeypatch
):
    from backoffice_export.resend import UnknownAdministration, resend

    conn_id, _ = bind_connection(monkeypatch, sandboxes, "sftp")
    load_document(sqlite_engine, {"administrations": [reflecta_admin("resend-me", conn_id, orders=[order("1")])]})
    before = sandboxes.sftp.uploads_completed
    with pytest.raises(UnknownAdministration) as caught:
        resend(sqlite_engine, "resend-mee", ["1"], ClaimOwner("resend_orders", "r", "resend"))
    assert str(caught.value) == "administration 'resend-mee' does not exist; the administrations are: resend-me"
    run = resend_dag.test(run_conf={"administration": "resend-mee", "order_numbers": ["1"]})
    assert run.state == "failed"
    assert sandboxes.sftp.uploads_completed == before


def test_a_backfill_run_exports_only_its_window():
    class Run:
        run_type = "backfill"

    start, end = datetime(2026, 11, 1), datetime(2026, 11, 2)
    assert export_window(Run(), start, end) == (start, end)
    Run.run_type = "scheduled"
    assert export_window(Run(), start, end) == (None, end)
    Run.run_type = "manual"
    assert export_window(Run(), start, end) == (None, None)


def test_reexport_sends_a_windows_sent_orders_once_per_pass(sqlite_engine, sandboxes, monkeypatch, files_root):
    conn_id, _ = bind_connection(monkeypatch, sandboxes, "sftp")
    load_document(sqlite_engine, {"administrations": [reflecta_admin("window", conn_id, orders=[
        order("in", order_nr="W1", created_at="2026-11-01T12:00:00"),
        order("out", order_nr="W2", created_at="2026-11-03T12:00:00"),
    ])]})
    first = ClaimOwner("send_orders_to_backoffice", "manual_1", "reflecta.send_chunk", 0)
    plan = export.plan_chunks(sqlite_engine, 10)
    export.send_chunk(sqlite_engine, plan["reflecta"][0]["ids"], first)
    uploads = sandboxes.sftp.uploads_completed

    window = {"created_from": datetime(2026, 11, 1), "created_before": datetime(2026, 11, 2)}
    assert export.plan_chunks(sqlite_engine, 10, **window)["reflecta"] == []
    plan = export.plan_chunks(sqlite_engine, 10, include_sent=True, **window)
    ids = plan["reflecta"][0]["ids"]
    assert len(ids) == 1
    backfill = ClaimOwner("send_orders_to_backoffice", "backfill_1", "reflecta.send_chunk", 0)
    assert export.send_chunk(sqlite_engine, ids, backfill, reexport_pass="pass-1").sent == 1
    assert sandboxes.sftp.uploads_completed == uploads + 1
    # Clearing that chunk re-runs it in the same pass (the extract's XCom): nothing goes a third time.
    assert export.send_chunk(sqlite_engine, ids, backfill, reexport_pass="pass-1").sent == 0
    # A backfill that re-runs the same run (same run id) runs its extract again: a new pass sends it once more.
    assert export.send_chunk(sqlite_engine, ids, backfill, reexport_pass="pass-2").sent == 1


def _xcoms(run) -> dict[tuple[str, int, str], object]:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(XComModel.task_id, XComModel.map_index, XComModel.key, XComModel.value).filter(
            XComModel.dag_id == run.dag_id, XComModel.run_id == run.run_id).all()
    return {(task_id, index, key): json.loads(value) if isinstance(value, str) else value
            for task_id, index, key, value in rows}


def test_a_chunk_task_pulls_one_xcom_and_pushes_one(export_dag, sqlite_engine, sandboxes, monkeypatch, files_root):
    """Each XCom is an Execution API call inside the chunk's task: its re-export pass rides in
    the chunk it pulls, and its counts go back as one value, not as a row per key too."""
    conn_id, _ = bind_connection(monkeypatch, sandboxes, "sftp")
    load_document(sqlite_engine, {"administrations": [reflecta_admin("one-xcom", conn_id, orders=[
        order("1", order_nr="X1"), order("2", order_nr="X2"), order("3", order_nr="X3")])]})
    run = export_dag.test(run_conf={"chunk_size": 2})
    assert task_states(run)["reflecta.send_chunk"] == ["success", "success"]
    xcoms = _xcoms(run)
    assert sorted(k for k in xcoms if k[0] in {"reflecta.send_chunk", "summary"}) == [
        ("reflecta.send_chunk", 0, "return_value"), ("reflecta.send_chunk", 1, "return_value"),
        ("summary", -1, "return_value")]
    assert sorted(v["sent"] for k, v in xcoms.items() if k[0] == "reflecta.send_chunk") == [1, 2]
    assert not any("reexport_pass" in chunk for chunk in xcoms[("extract", -1, "reflecta")])

    uploads = sandboxes.sftp.uploads_completed
    run = export_dag.test(run_conf={"chunk_size": 2, "reexport_sent": True})
    assert run.state == "success"
    assert sandboxes.sftp.uploads_completed == uploads + 3
    chunks = _xcoms(run)[("extract", -1, "reflecta")]
    passes = {chunk["reexport_pass"] for chunk in chunks}
    assert len(chunks) == 2 and len(passes) == 1  # one pass for the whole run, in every chunk
    assert {row.reexport_pass for row in _pass_rows(sqlite_engine, "one-xcom")} == passes


def _pass_rows(engine, administration: str):
    import sqlalchemy as sa

    from backoffice_export.db import schema as s

    t, a = s.export_state, s.administrations
    with engine.connect() as conn:
        return conn.execute(sa.select(t.c.reexport_pass).join(a, a.c.id == t.c.administration_id)
                            .where(a.c.code == administration)).all()


def test_a_failed_chunk_mails_the_configured_address(export_dag, sqlite_engine, sandboxes, monkeypatch):
    from aiosmtpd.controller import Controller

    received: list[str] = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope.content.decode("utf-8", "replace"))
            return "250 OK"

    with socket.socket() as probe:  # aiosmtpd checks its own port, so it cannot take port 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        monkeypatch.setenv("AIRFLOW_CONN_SMTP_ALERTS", json.dumps({
            "conn_type": "smtp", "host": "127.0.0.1", "port": port,
            "extra": {"disable_tls": True, "disable_ssl": True, "from_email": "airflow@example.test"}}))
        monkeypatch.setenv("BACKOFFICE_SMTP_CONN_ID", "smtp_alerts")
        monkeypatch.setenv("BACKOFFICE_ALERT_EMAIL", "ops@example.test")
        conn_id, _ = bind_connection(monkeypatch, sandboxes, "sftp", port=1)
        load_document(sqlite_engine, {"administrations": [reflecta_admin("alert", conn_id, orders=[
            order("A-1"), order("A-2")])]})
        run = export_dag.test()
    finally:
        controller.stop()
    assert task_states(run)["reflecta.send_chunk"] == ["failed"]
    assert len(received) == 1
    mail = email.message_from_string(received[0], policy=email.policy.default)
    assert mail["To"] == "ops@example.test"
    # The subject names the connector and the administration, not a map index.
    assert mail["Subject"] == "[backoffice-export] reflecta / alert: 2 of 2 orders not sent"
    body = mail.get_body(("html",)).get_content()
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))
    assert "reflecta chunk alert: 2 orders from App4Sales order A-1 (id " in text
    assert "Cause: " in text and "order A-1 (alert): " in text and "127.0.0.1:1" in text  # the stored error
    assert "Orders not sent: 2 of the chunk's 2." in text
    ti = next(t for t in run.get_task_instances() if t.task_id == "reflecta.send_chunk")
    assert f"/dags/send_orders_to_backoffice/runs/{quote(run.run_id)}/tasks/reflecta.send_chunk/mapped/0" in text
    assert "What to do: " in text and "clear this task in the Airflow UI" in text
    # Airflow calls it once the task failed for good: never a promise that a retry sends them.
    assert "the retry sends them" not in text and "Airflow retries this task" not in text
    assert "that was the last try" in text
    assert ti.rendered_map_index == "alert: 2 orders from App4Sales order A-1 (id 1)"
