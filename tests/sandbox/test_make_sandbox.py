"""``make sandbox``: servers in the foreground, a connections file Airflow imports, Ctrl-C stops cleanly,
and a restart keeps both the ERP's state and the credentials the scheduler imported."""

from __future__ import annotations

import ftplib
import io
import os
import shutil
import signal
import ssl
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import paramiko
import pytest
import requests

from tests.conftest import PROJECT, need


@contextmanager
def make_sandbox(root: Path, *more: str) -> Iterator[list[str]]:
    """Run ``make sandbox`` on ``root`` (free ports) until its banner is out; Ctrl-C it afterwards."""
    need(shutil.which("make") is not None, "make is not installed")
    process = subprocess.Popen(
        ["make", "--no-print-directory", "sandbox", f"SANDBOX_ARGS=--root {root} --port-base 0 {' '.join(more)}"],
        cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        env={**os.environ, "BACKOFFICE_LOCAL_ROOT": str(root.parent)})
    assert process.stdout is not None
    banner: list[str] = []
    try:
        for line in process.stdout:
            banner.append(line.rstrip("\n"))
            if line.startswith("Ctrl-C stops"):
                break
        else:
            pytest.fail("make sandbox ended before serving:\n" + "\n".join(banner))
        yield banner
    finally:
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends to the foreground group
        rest, _ = process.communicate(timeout=30)
    # make itself ends by SIGINT after its recipe (that is how make answers Ctrl-C); the servers
    # must have stopped on their own, without a traceback.
    assert process.returncode in (0, -signal.SIGINT), rest
    assert "sandbox stopped" in rest and "Traceback" not in rest, rest


def imported(path: Path) -> dict[str, object]:
    """The file read the way ``airflow connections import`` reads it."""
    from airflow.secrets.local_filesystem import load_connections_dict

    return load_connections_dict(str(path))


def test_make_sandbox_serves_and_writes_importable_connections(tmp_path: Path) -> None:
    root = tmp_path / "sandbox"
    target = root / "airflow-connections.json"
    with make_sandbox(root) as banner:
        assert f"  airflow connections import --overwrite {target}" in banner
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        connections = imported(target)
        assert {"sandbox_sftp", "sandbox_sftp_key", "sandbox_ftps", "sandbox_spector", "sandbox_styleman",
                "sandbox_accountview", "demo_reflecta_sftp", "demo_spector_api", "demo_accountview"} <= set(connections)
        sftp = connections["sandbox_sftp"]
        transport = paramiko.Transport((sftp.host, sftp.port))
        try:
            transport.connect(username=sftp.login, password=sftp.password)
            client = paramiko.SFTPClient.from_transport(transport)
            assert client is not None
            client.mkdir("orders")
            with client.open("orders/1.xml", "wb") as handle:
                handle.write(b"<Orders/>")
        finally:
            transport.close()
        spector = connections["sandbox_spector"]
        extra = spector.extra_dejson
        reply = requests.get(f"http://{spector.host}:{spector.port}/api/v2/orders", timeout=10,
                             params={"externalOrderNo": "1"}, auth=(spector.login, spector.password),
                             headers={"X-SBM-Id": extra["sbm_id"], "X-Integration-Token": extra["X-Integration-Token"]})
        assert reply.status_code == 200 and reply.json()["orders"] == []
        password = sftp.password
        assert password not in "\n".join(banner)
    assert (root / "sftp" / "app4sales" / "orders" / "1.xml").read_bytes() == b"<Orders/>"

    with make_sandbox(root):
        again = imported(target)["sandbox_sftp"]
        assert again.password == password  # the scheduler's imported connections stay valid
        transport = paramiko.Transport((again.host, again.port))
        try:
            transport.connect(username=again.login, password=again.password)
        finally:
            transport.close()


def test_another_listening_address_is_in_the_connections_and_the_certificate(tmp_path: Path) -> None:
    """What ``--listen 0.0.0.0 --advertise erp-sandbox`` does for the compose stack, on a second loopback
    address: the connections name it, and FTPS verifies against it (certificate and passive data)."""
    root = tmp_path / "sandbox"
    with make_sandbox(root, "--listen 127.0.0.2"):
        connections = imported(root / "airflow-connections.json")
        assert {conn.host for conn in connections.values()} == {"127.0.0.2"}
        ftps = connections["sandbox_ftps"]
        context = ssl.create_default_context(cafile=ftps.extra_dejson["ca_file"])
        client = ftplib.FTP_TLS(context=context, timeout=10)  # noqa: S321 - FTP over TLS, verified
        try:
            client.connect(ftps.host, ftps.port)
            client.login(ftps.login, ftps.password)
            client.prot_p()
            # A file first: an empty listing can close the data channel before its TLS handshake ends.
            client.storbinary("STOR probe.txt", io.BytesIO(b"probe"))
            assert client.nlst() == ["probe.txt"]
        finally:
            client.close()
