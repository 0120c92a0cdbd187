"""Reflecta end to end: load orders, run the DAG, read the files back from SFTP and FTPS."""

from __future__ import annotations

from lxml import etree

from backoffice_export import export_state
from backoffice_export.db import schema as s
from backoffice_export.document import load_document
from backoffice_export.export import send_chunk
from backoffice_export.export_state import ClaimOwner
from tests.e2e.conftest import task_states
from tests.helpers import bind_connection, order, reflecta_admin


def _files(sandboxes, kind: str, folder: str) -> dict[str, bytes]:
    prefix = f"{folder}/orders/"
    return {k[len(prefix):]: v for k, v in sandboxes.received_files(kind).items() if k.startswith(prefix)}


def _states(engine, admin: str) -> dict[str, export_state.OrderState]:
    return {r.internal_order_nr: r for r in export_state.states(engine, administration=admin)}


def test_orders_reach_sftp_and_ftps_and_a_rerun_sends_nothing_twice(
    export_dag, sqlite_engine, sandboxes, monkeypatch, files_root
):
    sftp_id, sftp_folder = bind_connection(monkeypatch, sandboxes, "sftp")
    key_id, key_folder = bind_connection(monkeypatch, sandboxes, "sftp_key")
    ftps_id, ftps_folder = bind_connection(monkeypatch, sandboxes, "ftps")
    load_document(sqlite_engine, {"administrations": [
        reflecta_admin("over-sftp", sftp_id, application_name="ShopA", orders=[
            order("1", order_nr="WEB1", delivery_date="2026-12-01",
                  alternate_address={"address1": "Kerkstraat 42-f3", "postal_code": "1017 GC",
                                     "city": "Amsterdam", "country_iso2": "NL"}),
            order("2", customer="C2", items=("TS-M", "CAP")),
            order("3", items=("TS-M", "NO-EXTRA")),
        ]),
        reflecta_admin("over-sftp-key", key_id, application_name="ShopB", orders=[order("1")]),
        reflecta_admin("over-ftps", ftps_id, application_name="ShopC", orders=[order("1", order_nr="F-1")]),
    ]})

    run = export_dag.test()
    assert run.state == "success"
    assert task_states(run)["reflecta.send_chunk"] == ["success"] * 3

    sftp_files = _files(sandboxes, "sftp", sftp_folder)
    assert sorted(sftp_files) == ["1.xml", "WEB1.xml"]
    first = etree.fromstring(sftp_files["WEB1.xml"])
    assert first.findtext("OrderHeader/WebOrderNr") == "WEB1"
    assert first.findtext("OrderHeader/CompanyCode") == "01"
    assert first.findtext("OrderHeader/CurrencyCode") == "EUR"
    address = first.find("OrderHeader/DeliveryAddresses/DeliveryAddress")
    assert [address.findtext(t) for t in ("Street", "HouseNr", "HouseNrExt")] == ["Kerkstraat", "42", "f3"]
    assert first.findtext("OrderHeader/OrderLines/OrderLine/EarliestDeliveryDate") == "2026-12-01"
    generated = etree.fromstring(sftp_files["1.xml"])
    assert generated.findtext("OrderHeader/CurrencyCode") == "GBP"
    assert [e.text for e in generated.iter("ItemCode")] == ["TS100", "CP200"]
    assert list(_files(sandboxes, "sftp", key_folder)) == ["1.xml"]
    assert list(_files(sandboxes, "ftps", ftps_folder)) == ["F-1.xml"]
    assert not [n for n in sftp_files if n.endswith(".part")]

    states = _states(sqlite_engine, "over-sftp")
    assert states["1"].state == "sent" and states["1"].backoffice_order_nr == "WEB1"
    assert states["1"].destination.endswith(f"/{sftp_folder}/orders/WEB1.xml")
    assert states["2"].state == "sent" and states["2"].order_nr == "1"
    assert states["3"].state == "failed"
    assert "order 3 (over-sftp)" in states["3"].error and "Item.ExtraData" in states["3"].error
    assert "NO-EXTRA" in states["3"].error
    assert (files_root / "ExportedOrders" / "ShopA" / "WEB1.xml").read_bytes() == sftp_files["WEB1.xml"]

    uploads = sandboxes.sftp.uploads_completed + sandboxes.ftp.uploads_completed
    rerun = export_dag.test()
    assert rerun.state == "success"
    assert sandboxes.sftp.uploads_completed + sandboxes.ftp.uploads_completed == uploads
    assert _states(sqlite_engine, "over-sftp")["3"].attempts == 1  # a data error waits for a fix


def test_clearing_a_finished_chunk_sends_nothing(export_dag, sqlite_engine, sandboxes, monkeypatch):
    """A cleared task re-runs as the same task instance: its sent orders are no longer claimable."""
    conn_id, folder = bind_connection(monkeypatch, sandboxes, "sftp")
    load_document(sqlite_engine, {"administrations": [
        reflecta_admin("clear-me", conn_id, orders=[order("1"), order("2")])]})
    run = export_dag.test()
    ti = next(t for t in run.get_task_instances() if t.task_id == "reflecta.send_chunk")
    uploads = sandboxes.sftp.uploads_completed

    ids = [r.order_id for r in export_state.states(sqlite_engine, administration="clear-me")]
    again = send_chunk(sqlite_engine, ids, ClaimOwner(ti.dag_id, ti.run_id, ti.task_id, ti.map_index))
    assert (again.sent, again.skipped) == (0, 2)
    assert sandboxes.sftp.uploads_completed == uploads
    assert sorted(_files(sandboxes, "sftp", folder)) == ["1.xml", "2.xml"]


def test_a_failing_upload_resets_the_order_number_and_the_next_run_sends_it(
    export_dag, sqlite_engine, sandboxes, monkeypatch
):
    conn_id, folder = bind_connection(monkeypatch, sandboxes, "sftp")
    load_document(sqlite_engine, {"administrations": [reflecta_admin("deny", conn_id, orders=[order("1")])]})
    sandboxes.sftp.faults.deny_write = True
    try:
        run = export_dag.test()
    finally:
        sandboxes.sftp.faults.reset()
    assert task_states(run)["reflecta.send_chunk"] == ["failed"]
    failed = _states(sqlite_engine, "deny")["1"]
    assert failed.state == "failed" and failed.order_nr is None
    assert "upload of 1.xml failed" in failed.error and "ermission" in failed.error
    assert _files(sandboxes, "sftp", folder) == {}

    run = export_dag.test()
    assert task_states(run)["reflecta.send_chunk"] == ["success"]
    sent = _states(sqlite_engine, "deny")["1"]
    assert sent.state == "sent" and sent.order_nr == "2" and sent.attempts == 2
    assert list(_files(sandboxes, "sftp", folder)) == ["2.xml"]


def test_ftps_rename_refused_is_stored_and_retried(export_dag, sqlite_engine, sandboxes, monkeypatch):
    conn_id, folder = bind_connection(monkeypatch, sandboxes, "ftps")
    load_document(sqlite_engine, {"administrations": [
        reflecta_admin("ftp-rename", conn_id, orders=[order("1", order_nr="R1"), order("2", order_nr="R2")])]})
    sandboxes.ftp.faults.deny_rename = True
    try:
        export_dag.test()
    finally:
        sandboxes.ftp.faults.reset()
    states = _states(sqlite_engine, "ftp-rename")
    assert {r.state for r in states.values()} == {"failed"}
    assert "550" in states["1"].error
    # The seed resets a number the connector generated; a number the order came with stays (issue 22).
    assert [r.order_nr for r in states.values()] == ["R1", "R2"]
    assert _files(sandboxes, "ftps", folder) == {}  # no half file left under either name
    export_dag.test()
    after = _states(sqlite_engine, "ftp-rename")
    assert {r.state for r in after.values()} == {"sent"}
    assert [r.order_nr for r in after.values()] == ["R1", "R2"]
    assert sorted(_files(sandboxes, "ftps", folder)) == ["R1.xml", "R2.xml"]


def test_an_unreachable_server_leaves_every_order_for_the_retry(export_dag, sqlite_engine, sandboxes, monkeypatch):
    conn_id, _ = bind_connection(monkeypatch, sandboxes, "sftp", port=1)
    load_document(sqlite_engine, {"administrations": [
        reflecta_admin("down", conn_id, orders=[order("1", order_nr="D1"), order("2", order_nr="D2")])]})
    run = export_dag.test()
    assert task_states(run)["reflecta.send_chunk"] == ["failed"]
    rows = _states(sqlite_engine, "down")
    assert {r.state for r in rows.values()} == {"failed"}
    assert "cannot connect" in rows["1"].error
    assert [o for _, _, o in export_state.unsent_order_ids(sqlite_engine)] == [r.order_id for r in rows.values()]


def test_an_unknown_host_key_is_refused(export_dag, sqlite_engine, sandboxes, monkeypatch):
    other_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ"
    conn = sandboxes.airflow_connection("sftp", "app4sales", "x")
    conn_id, _ = bind_connection(monkeypatch, sandboxes, "sftp", extra={**conn["extra"], "host_key": other_key})
    load_document(sqlite_engine, {"administrations": [reflecta_admin("mitm", conn_id, orders=[order("1")])]})
    export_dag.test()
    row = _states(sqlite_engine, "mitm")["1"]
    assert row.state == "failed" and "host key" in row.error


def test_missing_company_code_fails_every_order_with_a_clear_message(export_dag, sqlite_engine, sandboxes, monkeypatch):
    conn_id, folder = bind_connection(monkeypatch, sandboxes, "sftp")
    load_document(sqlite_engine, {"administrations": [
        reflecta_admin("no-company", conn_id, settings={}, orders=[order("1"), order("2")])]})
    run = export_dag.test()
    assert task_states(run)["reflecta.send_chunk"] == ["success"]  # data errors do not fail the task
    for row in _states(sqlite_engine, "no-company").values():
        assert row.state == "failed" and "CompanyCode" in row.error and row.error.startswith("order ")
    assert _files(sandboxes, "sftp", folder) == {}


def test_orders_of_connectors_not_built_yet_stay_pending(export_dag, sqlite_engine, monkeypatch):
    import backoffice_export.connectors as registry

    real = registry.get_connector
    monkeypatch.setattr(registry, "get_connector", lambda name: None if name == "spector" else real(name))
    admin = reflecta_admin("later", "nowhere", orders=[order("1")])
    admin["connector"] = "spector"
    load_document(sqlite_engine, {"administrations": [admin]})
    run = export_dag.test()
    assert run.state == "success"
    assert task_states(run)["spector.chunks_for"] == ["success"]
    assert _states(sqlite_engine, "later")["1"].state == "pending"


def test_chunks_respect_the_chunk_size(export_dag, sqlite_engine, sandboxes, monkeypatch):
    conn_id, folder = bind_connection(monkeypatch, sandboxes, "sftp")
    load_document(sqlite_engine, {"administrations": [
        reflecta_admin("chunky", conn_id, orders=[order(str(i), order_nr=f"N{i}") for i in range(7)])]})
    run = export_dag.test(run_conf={"chunk_size": 3})
    assert task_states(run)["reflecta.send_chunk"] == ["success"] * 3
    assert len(_files(sandboxes, "sftp", folder)) == 7
    assert s.orders is not None


def test_clearing_the_failed_chunk_after_an_outage_sends_exactly_what_had_not_gone(
    export_dag, sqlite_engine, sandboxes, monkeypatch
):
    """The ERP drops the connection after two uploads; once it is back, the failed chunk re-runs as
    the same task instance (what Clear does) and sends exactly the orders that had not gone."""
    extra = {**sandboxes.airflow_connection("sftp", "app4sales", "x")["extra"], "stale_part_seconds": 0}
    conn_id, folder = bind_connection(monkeypatch, sandboxes, "sftp", extra=extra)
    load_document(sqlite_engine, {"administrations": [reflecta_admin(
        "outage", conn_id, orders=[order(str(i), order_nr=f"O{i}") for i in range(5)])]})
    start = sandboxes.sftp.uploads_completed
    import backoffice_export.transport.file_drop as file_drop

    real_put = file_drop._SftpDrop.put

    def put_then_cut(self, name, data):
        if sandboxes.sftp.uploads_completed - start < 2:
            sandboxes.sftp.faults.cut_after_bytes = None
        else:
            sandboxes.sftp.faults.cut_after_bytes = 1
        return real_put(self, name, data)

    monkeypatch.setattr(file_drop._SftpDrop, "put", put_then_cut)
    run = export_dag.test()
    sandboxes.sftp.faults.reset()
    monkeypatch.setattr(file_drop._SftpDrop, "put", real_put)
    ti = next(t for t in run.get_task_instances() if t.task_id == "reflecta.send_chunk")
    assert str(ti.state) == "failed" and run.state == "failed"
    before = {r.internal_order_nr: r.state for r in export_state.states(sqlite_engine, administration="outage")}
    assert sorted(before.values()) == ["failed", "failed", "failed", "sent", "sent"]

    again = send_chunk(sqlite_engine, [r.order_id for r in export_state.states(sqlite_engine, administration="outage")],
                       ClaimOwner(ti.dag_id, ti.run_id, ti.task_id, ti.map_index))
    assert (again.sent, again.skipped) == (3, 2)
    after = {r.internal_order_nr: r for r in export_state.states(sqlite_engine, administration="outage")}
    # Order 2's upload was cut before its rename: it came with its number, so it keeps it (only a
    # generated number is reset, issue 22); the cut partial was replaced by the retry's upload.
    assert after["2"].order_nr == "O2"
    assert sorted(_files(sandboxes, "sftp", folder)) == ["O0.xml", "O1.xml", "O2.xml", "O3.xml", "O4.xml"]
    assert sandboxes.sftp.uploads_completed - start == 5
