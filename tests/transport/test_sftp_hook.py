"""The SFTP hand-off's TCP connection: packets go at once, a proxy command still works, a
refused connection is reported as one. Against the loopback SFTP sandbox."""

from __future__ import annotations

import io
import json
import socket
import sys
from collections.abc import Iterator
from typing import Any

import paramiko
import pytest

from backoffice_export.errors import ConnectionLost
from backoffice_export.transport.file_drop import open_file_drop
from backoffice_export.transport.sftp_hook import NoDelaySFTPHook
from erp_sandbox import Sandboxes

USER = "app4sales"
RELAY = """
import socket, sys, threading
upstream = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
def up():
    while data := sys.stdin.buffer.read1(65536):
        upstream.sendall(data)
    upstream.shutdown(socket.SHUT_WR)
threading.Thread(target=up, daemon=True).start()
while data := upstream.recv(65536):
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
"""


@pytest.fixture(scope="module")
def sandboxes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandboxes]:
    with Sandboxes(tmp_path_factory.mktemp("sandboxes"), USER) as boxes:
        yield boxes


def _bind(monkeypatch: pytest.MonkeyPatch, conn: dict[str, Any], conn_id: str = "nodelay_sftp") -> str:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
    return conn_id


def test_the_ssh_connection_sends_without_delay(sandboxes: Sandboxes, monkeypatch: pytest.MonkeyPatch) -> None:
    conn_id = _bind(monkeypatch, sandboxes.airflow_connection("sftp", USER, "topfolder"))
    with open_file_drop(conn_id, "orders") as drop:
        sock = drop.client.get_channel().get_transport().sock  # type: ignore[attr-defined]
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        assert drop.put("order-1.xml", b"<order/>") == "topfolder/orders/order-1.xml"
    assert (sandboxes.sftp.user_root(USER) / "topfolder/orders/order-1.xml").read_bytes() == b"<order/>"


def test_a_proxy_command_still_carries_the_connection(sandboxes: Sandboxes, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = sandboxes.airflow_connection("sftp", USER, "topfolder")
    conn_id = _bind(monkeypatch, conn)
    command = f"{sys.executable} -c '{RELAY}' {conn['port']}"
    hook = NoDelaySFTPHook(ssh_conn_id=conn_id, conn_retry_attempts=1, host_proxy_cmd=command)
    with hook.get_managed_conn() as sftp:
        assert isinstance(hook.host_proxy, paramiko.ProxyCommand)
        sftp.putfo(io.BytesIO(b"via proxy"), "topfolder/proxied.xml")
    assert (sandboxes.sftp.user_root(USER) / "topfolder/proxied.xml").read_bytes() == b"via proxy"


def test_a_refused_connection_is_a_lost_connection(sandboxes: Sandboxes, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # nothing listens once it is closed
    conn = {**sandboxes.airflow_connection("sftp", USER, "topfolder"), "port": port}
    lost = rf"cannot connect to sftp://127\.0\.0\.1:{port}/topfolder/orders"
    with pytest.raises(ConnectionLost, match=lost), open_file_drop(_bind(monkeypatch, conn), "orders"):
        pass
