"""Transport safety defaults: host keys are checked, plain FTP needs an explicit opt-in."""

from __future__ import annotations

import logging

import pytest

from backoffice_export.errors import ConnectionLost
from backoffice_export.transport.file_drop import open_file_drop
from tests.helpers import bind_connection


def test_an_sftp_connection_without_a_pinned_host_key_is_refused(sandboxes, monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.ssh/known_hosts to fall back on
    conn = sandboxes.airflow_connection("sftp", "app4sales", "x")
    extra = {k: v for k, v in conn["extra"].items() if k not in {"host_key", "no_host_key_check"}}
    conn_id, _ = bind_connection(monkeypatch, sandboxes, "sftp", extra=extra)
    unknown = "host key is unknown: pin it in the connection extra host_key"
    with pytest.raises(ConnectionLost, match=unknown), open_file_drop(conn_id, "orders"):
        pass


def test_a_different_host_key_is_refused(sandboxes, monkeypatch):
    conn = sandboxes.airflow_connection("sftp", "app4sales", "x")
    other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ"
    conn_id, _ = bind_connection(monkeypatch, sandboxes, "sftp", extra={**conn["extra"], "host_key": other})
    with pytest.raises(ConnectionLost, match="host key"), open_file_drop(conn_id, "orders"):
        pass


def test_plain_ftp_is_refused_without_an_explicit_opt_in(sandboxes, monkeypatch):
    conn_id, _ = bind_connection(monkeypatch, sandboxes, "ftps", conn_type="ftp", extra={})
    refused = "plain FTP sends the password unencrypted"
    with pytest.raises(ConnectionLost, match=refused), open_file_drop(conn_id, "orders"):
        pass


def test_plain_ftp_with_the_opt_in_logs_a_warning(sandboxes, monkeypatch, caplog):
    conn_id, _ = bind_connection(monkeypatch, sandboxes, "ftps", conn_type="ftp", extra={"allow_plain_ftp": True})
    caplog.set_level(logging.WARNING)
    # This sandbox insists on TLS, so the login itself fails after the warning.
    with pytest.raises(ConnectionLost), open_file_drop(conn_id, "orders"):
        pass
    assert "uses plain FTP: password and orders travel unencrypted" in caplog.text
