"""A run with known secrets, then a search for them everywhere a run leaves text behind.

Searched: what the tasks printed and logged, every table of the Airflow metadata database
(XCom, rendered templates, task instances...), the Airflow home (log files), the exported
files, what the sandboxes and ERP emulators recorded, and the errors stored on orders.
The sandbox's own key and certificate folders are not searched: they hold the keys by design.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from backoffice_export import export_state
from backoffice_export.document import load_document
from tests.helpers import bind_connection, reflecta_admin


def _secret_values(conn: dict) -> list[str]:
    values = [conn.get("password") or ""]
    extra = conn.get("extra") or {}
    for key, value in extra.items():
        if any(word in key.lower() for word in ("password", "secret", "token", "key")) and key != "host_key":
            values.append(str(value))
    # A private key is searched by a distinctive middle line, as a log would show it wrapped.
    expanded = []
    for value in values:
        expanded.append(value)
        expanded += [line for line in value.splitlines() if len(line) > 40 and "PRIVATE KEY" not in line]
    return [v for v in expanded if len(v) >= 12]


def _files_text(root: Path, skip: tuple[str, ...] = ()) -> dict[Path, bytes]:
    found = {}
    if not root.exists():
        return found
    for path in root.rglob("*"):
        if path.is_file() and not any(part in skip for part in path.relative_to(root).parts):
            found[path] = path.read_bytes()
    return found


def test_no_secret_reaches_logs_xcom_templates_files_or_records(
    export_dag, sqlite_engine, sandboxes, monkeypatch, capfd, files_root, caplog
):
    admins, secrets = [], []
    for kind in ("sftp", "sftp_key", "ftps"):
        conn_id, _ = bind_connection(monkeypatch, sandboxes, kind)
        secrets += _secret_values(json.loads(os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"]))
        admins.append(reflecta_admin(f"secret-{kind}", conn_id, orders=[
            {"internal_order_nr": "1", "customer": "C1", "order_date": "2026-11-20T10:00:00",
             "lines": [{"item": "TS-M", "quantity": "1", "price": "1.00"}]}]))
    # A refused login must not echo the password either.
    refused_id, _ = bind_connection(monkeypatch, sandboxes, "sftp", password="refused-password-1234567")
    secrets.append("refused-password-1234567")
    admins.append(reflecta_admin("secret-refused", refused_id, orders=[
        {"internal_order_nr": "1", "customer": "C1", "order_date": "2026-11-20T10:00:00",
         "lines": [{"item": "TS-M", "quantity": "1", "price": "1.00"}]}]))
    for api in sandboxes.apis.values():
        secrets += _secret_values(api.airflow_connection())
    assert len(secrets) >= 5
    load_document(sqlite_engine, {"administrations": admins})

    export_dag.test()

    out, err = capfd.readouterr()
    haystacks: dict[str, bytes] = {"task output": (out + err).encode(), "log records": caplog.text.encode()}
    airflow_home = Path(os.environ["AIRFLOW_HOME"])
    metadata = sqlite3.connect(airflow_home / "airflow.db")
    haystacks["airflow metadata db"] = "\n".join(metadata.iterdump()).encode("utf-8", "replace")
    metadata.close()
    for path, data in _files_text(airflow_home, skip=("airflow.db",)).items():
        haystacks[str(path)] = data
    for path, data in _files_text(files_root).items():
        haystacks[str(path)] = data
    for path, data in _files_text(sandboxes.root, skip=("keys", "tls")).items():
        haystacks[str(path)] = data
    haystacks["stored errors"] = "\n".join(
        r.error or "" for r in export_state.states(sqlite_engine)).encode()

    hits = [(secret[:6] + "...", where) for secret in secrets for where, text in haystacks.items()
            if secret.encode() in text]
    print(f"secrets searched: {len(secrets)}, places searched: {len(haystacks)}, hits: {len(hits)}")
    assert hits == []
    assert any("authentication refused" in (r.error or "") for r in export_state.states(sqlite_engine))
