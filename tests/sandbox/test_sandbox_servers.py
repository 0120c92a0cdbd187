"""The loopback sandboxes, driven by the same clients the product uses: Airflow's SFTPHook and ftplib."""

from __future__ import annotations

import ftplib
import json
import ssl
import time
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import asyncssh
import paramiko
import pytest
from airflow.providers.sftp.hooks.sftp import SFTPHook

from erp_sandbox import Sandboxes

USER = "app4sales"


@pytest.fixture(scope="module")
def sandboxes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandboxes]:
    with Sandboxes(tmp_path_factory.mktemp("sandboxes"), USER) as boxes:
        yield boxes


@pytest.fixture(autouse=True)
def _faults_off(sandboxes: Sandboxes) -> Iterator[None]:
    sandboxes.sftp.faults.reset()
    sandboxes.ftp.faults.reset()
    yield
    sandboxes.sftp.faults.reset()
    sandboxes.ftp.faults.reset()


def sftp_hook(monkeypatch: pytest.MonkeyPatch, conn: dict[str, Any], conn_id: str = "sandbox_sftp") -> SFTPHook:
    """An SFTPHook reading its connection from AIRFLOW_CONN_<ID>, as a deployment would configure it."""
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
    # One attempt: the hook otherwise retries a refused connection twice, 3-5 s apart.
    return SFTPHook(ssh_conn_id=conn_id, conn_retry_attempts=1)


def ftps_client(sandboxes: Sandboxes, *, passive: bool = True, password: str | None = None) -> ftplib.FTP_TLS:
    """An FTPS client built from the "ftps" connection dict (FTPSHook cannot be given a CA file)."""
    conn = sandboxes.airflow_connection("ftps", USER, "orders")
    context = ssl.create_default_context(cafile=conn["extra"]["ca_file"])
    client = ftplib.FTP_TLS(context=context, timeout=10)  # noqa: S321 - TLS on control and data
    client.connect(conn["host"], conn["port"])
    client.login(conn["login"], conn["password"] if password is None else password)
    client.prot_p()
    client.set_pasv(passive)
    return client


def wait_for_size(path: Path, size: int, timeout: float = 5.0) -> int:
    """The file's size once it reaches ``size`` (the server thread may still be writing)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_size >= size:
            break
        time.sleep(0.02)
    return path.stat().st_size


# --- SFTP -----------------------------------------------------------------------------------------


def test_sftp_password_upload_and_atomic_replace(sandboxes: Sandboxes, monkeypatch: pytest.MonkeyPatch) -> None:
    hook = sftp_hook(monkeypatch, sandboxes.airflow_connection("sftp", USER, "topfolder/orders"))
    before = sandboxes.sftp.uploads_completed
    with hook.get_managed_conn() as sftp:
        hook.create_directory("topfolder/orders")
        hook.store_file("/topfolder/orders/order-1.xml", BytesIO(b"<old/>"))
        hook.store_file("/topfolder/orders/order-1.xml.part", BytesIO(b"<new/>" * 10_000))
        # A plain SFTP rename refuses to overwrite; the OpenSSH extension replaces atomically.
        with pytest.raises(OSError):
            sftp.rename("/topfolder/orders/order-1.xml.part", "/topfolder/orders/order-1.xml")
        sftp.posix_rename("topfolder/orders/order-1.xml.part", "topfolder/orders/order-1.xml")
        assert sftp.listdir("/topfolder/orders") == ["order-1.xml"]
        assert sftp.stat("/topfolder/orders/order-1.xml").st_size == 60_000
        back = BytesIO()
        sftp.getfo("/topfolder/orders/order-1.xml", back)
        assert back.getvalue() == b"<new/>" * 10_000
        sftp.mkdir("/topfolder/scratch")
        sftp.putfo(BytesIO(b"x"), "/topfolder/scratch/gone.xml")
        sftp.remove("/topfolder/scratch/gone.xml")
        assert sftp.listdir("/topfolder/scratch") == []
    assert sandboxes.sftp.uploads_completed == before + 3
    assert sandboxes.received_files("sftp")["topfolder/orders/order-1.xml"] == b"<new/>" * 10_000


def test_sftp_private_key_login(sandboxes: Sandboxes, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = sandboxes.airflow_connection("sftp_key", USER, "keyed")
    assert "password" not in conn
    assert conn["extra"]["private_key"].startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    hook = sftp_hook(monkeypatch, conn, "sandbox_sftp_key")
    with hook.get_managed_conn() as sftp:
        sftp.putfo(BytesIO(b"<keyed/>"), "keyed.xml")
    assert sandboxes.received_files("sftp_key")["keyed.xml"] == b"<keyed/>"


def test_sftp_user_is_jailed(sandboxes: Sandboxes, monkeypatch: pytest.MonkeyPatch) -> None:
    hook = sftp_hook(monkeypatch, sandboxes.airflow_connection("sftp", USER, "x"))
    home = sandboxes.sftp.user_root(USER)
    with hook.get_managed_conn() as sftp:
        assert sftp.normalize("../../..") == "/"
        assert set(sftp.listdir("/../..")) == {p.name for p in home.iterdir()}
        sftp.putfo(BytesIO(b"jailed"), "../../escape.xml")
    assert (home / "escape.xml").read_bytes() == b"jailed"
    assert not (home.parent / "escape.xml").exists()
    assert not (home.parent.parent / "escape.xml").exists()


def test_sftp_wrong_host_key_is_refused(sandboxes: Sandboxes, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = sandboxes.airflow_connection("sftp", USER, "x")
    other_key = asyncssh.generate_private_key("ssh-ed25519").export_public_key("openssh").decode()
    conn["extra"]["host_key"] = " ".join(other_key.split()[:2])
    hook = sftp_hook(monkeypatch, conn)
    # The pinned key is in paramiko's host keys for [127.0.0.1]:port but does not match what the
    # server presents, so paramiko raises BadHostKeyException (a subclass of SSHException).
    with pytest.raises(paramiko.BadHostKeyException), hook.get_managed_conn():
        pass


def test_sftp_wrong_password_is_refused(sandboxes: Sandboxes, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = sandboxes.airflow_connection("sftp", USER, "x")
    conn["password"] = "not-the-password"
    hook = sftp_hook(monkeypatch, conn)
    with pytest.raises(paramiko.AuthenticationException), hook.get_managed_conn():
        pass


def test_sftp_fault_deny_write(sandboxes: Sandboxes, monkeypatch: pytest.MonkeyPatch) -> None:
    hook = sftp_hook(monkeypatch, sandboxes.airflow_connection("sftp", USER, "x"))
    sandboxes.sftp.faults.deny_write = True
    with hook.get_managed_conn() as sftp:
        with pytest.raises(PermissionError):
            sftp.putfo(BytesIO(b"x"), "denied.xml")
        sandboxes.sftp.faults.deny_write = False
        sftp.putfo(BytesIO(b"x"), "allowed.xml")
    files = sandboxes.received_files("sftp")
    assert "denied.xml" not in files
    assert files["allowed.xml"] == b"x"


def test_sftp_fault_deny_rename(sandboxes: Sandboxes, monkeypatch: pytest.MonkeyPatch) -> None:
    hook = sftp_hook(monkeypatch, sandboxes.airflow_connection("sftp", USER, "x"))
    sandboxes.sftp.faults.deny_rename = True
    with hook.get_managed_conn() as sftp:
        sftp.putfo(BytesIO(b"r"), "rename.part")
        with pytest.raises(PermissionError):
            sftp.rename("rename.part", "rename.xml")
        with pytest.raises(PermissionError):
            sftp.posix_rename("rename.part", "rename.xml")
    files = sandboxes.received_files("sftp")
    assert "rename.part" in files
    assert "rename.xml" not in files


def test_sftp_fault_cut_after_bytes(sandboxes: Sandboxes, monkeypatch: pytest.MonkeyPatch) -> None:
    hook = sftp_hook(monkeypatch, sandboxes.airflow_connection("sftp", USER, "x"))
    sandboxes.sftp.faults.cut_after_bytes = 50_000
    before = sandboxes.sftp.uploads_completed
    # paramiko reports the dropped connection as SSHException("Server connection dropped"), or as
    # EOFError / OSError depending on where it notices.
    with pytest.raises((paramiko.SSHException, EOFError, OSError)), hook.get_managed_conn() as sftp:
        sftp.putfo(BytesIO(b"c" * 300_000), "cut.xml")
    assert (sandboxes.sftp.user_root(USER) / "cut.xml").stat().st_size == 50_000
    assert sandboxes.sftp.uploads_completed == before
    # The server itself survives: the next connection works.
    sandboxes.sftp.faults.cut_after_bytes = None
    with sftp_hook(monkeypatch, sandboxes.airflow_connection("sftp", USER, "x")).get_managed_conn() as sftp:
        sftp.putfo(BytesIO(b"c" * 300_000), "cut.xml")
    assert sandboxes.received_files("sftp")["cut.xml"] == b"c" * 300_000


def test_sftp_fault_reject_auth(sandboxes: Sandboxes, monkeypatch: pytest.MonkeyPatch) -> None:
    sandboxes.sftp.faults.reject_auth = True
    for kind in ("sftp", "sftp_key"):
        hook = sftp_hook(monkeypatch, sandboxes.airflow_connection(kind, USER, "x"), f"reject_{kind}")
        with pytest.raises(paramiko.AuthenticationException), hook.get_managed_conn():
            pass


# --- FTPS -----------------------------------------------------------------------------------------


def test_ftps_connection_is_what_airflow_reads(sandboxes: Sandboxes, monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.providers.ftp.hooks.ftp import FTPSHook

    conn = sandboxes.airflow_connection("ftps", USER, "inbox/orders")
    monkeypatch.setenv("AIRFLOW_CONN_SANDBOX_FTPS", json.dumps(conn))
    airflow_conn = FTPSHook.get_connection("sandbox_ftps")
    assert (airflow_conn.conn_type, airflow_conn.host, airflow_conn.port) == ("ftps", "127.0.0.1", conn["port"])
    assert (airflow_conn.login, airflow_conn.password, airflow_conn.schema) == (
        USER,
        conn["password"],
        "inbox/orders",
    )
    assert airflow_conn.extra_dejson == {"ca_file": str(sandboxes.tls.ca_file), "passive": True}


@pytest.mark.parametrize("passive", [True, False], ids=["passive", "active"])
def test_ftps_upload_rename_download(sandboxes: Sandboxes, passive: bool) -> None:
    folder = f"ftps-{'passive' if passive else 'active'}"
    before = sandboxes.ftp.uploads_completed
    client = ftps_client(sandboxes, passive=passive)
    try:
        client.mkd(folder)
        client.storbinary(f"STOR {folder}/order-1.xml", BytesIO(b"<old/>"))
        client.storbinary(f"STOR {folder}/order-1.xml.part", BytesIO(b"<new/>" * 50_000))
        client.rename(f"{folder}/order-1.xml.part", f"{folder}/order-1.xml")  # overwrites, as on most servers
        back = BytesIO()
        client.retrbinary(f"RETR {folder}/order-1.xml", back.write)
        assert back.getvalue() == b"<new/>" * 50_000
        assert client.nlst(folder) == ["order-1.xml"]
        client.quit()
    finally:
        client.close()
    assert sandboxes.ftp.uploads_completed == before + 2
    assert sandboxes.received_files("ftps")[f"{folder}/order-1.xml"] == b"<new/>" * 50_000


def test_ftps_plain_ftp_login_is_refused(sandboxes: Sandboxes) -> None:
    client = ftplib.FTP(timeout=10)  # noqa: S321 - checking that plain FTP is refused
    try:
        client.connect("127.0.0.1", sandboxes.ftp.port)
        with pytest.raises(ftplib.error_perm, match=r"^550 SSL/TLS required"):
            client.login(USER, sandboxes.password("ftps"))
    finally:
        client.close()


def test_ftps_clear_data_channel_is_refused(sandboxes: Sandboxes) -> None:
    client = ftps_client(sandboxes)
    try:
        client.prot_c()
        with pytest.raises(ftplib.error_perm, match=r"^550 SSL/TLS required on the data channel"):
            client.storbinary("STOR clear.xml", BytesIO(b"x"))
    finally:
        client.close()


def test_ftps_untrusted_certificate_is_refused(sandboxes: Sandboxes) -> None:
    # System CAs only: the sandbox CA is not among them.
    client = ftplib.FTP_TLS(context=ssl.create_default_context(), timeout=10)  # noqa: S321
    try:
        client.connect("127.0.0.1", sandboxes.ftp.port)
        with pytest.raises(ssl.SSLCertVerificationError):
            client.auth()
    finally:
        client.close()


def test_ftps_wrong_password_is_refused(sandboxes: Sandboxes) -> None:
    with pytest.raises(ftplib.error_perm, match=r"^530"):
        ftps_client(sandboxes, password="not-the-password")


def test_ftps_fault_deny_store(sandboxes: Sandboxes) -> None:
    sandboxes.ftp.faults.deny_store = True
    client = ftps_client(sandboxes)
    try:
        with pytest.raises(ftplib.error_perm, match=r"^550"):
            client.storbinary("STOR denied.xml", BytesIO(b"x"))
        sandboxes.ftp.faults.deny_store = False
        client.storbinary("STOR allowed.xml", BytesIO(b"x"))
    finally:
        client.close()
    files = sandboxes.received_files("ftps")
    assert "denied.xml" not in files
    assert files["allowed.xml"] == b"x"


def test_ftps_fault_deny_rename(sandboxes: Sandboxes) -> None:
    sandboxes.ftp.faults.deny_rename = True
    client = ftps_client(sandboxes)
    try:
        client.storbinary("STOR rename.part", BytesIO(b"r"))
        with pytest.raises(ftplib.error_perm, match=r"^550"):
            client.rename("rename.part", "rename.xml")
    finally:
        client.close()
    files = sandboxes.received_files("ftps")
    assert "rename.part" in files
    assert "rename.xml" not in files


def test_ftps_fault_cut_after_bytes(sandboxes: Sandboxes) -> None:
    sandboxes.ftp.faults.cut_after_bytes = 100_000
    before = sandboxes.ftp.uploads_completed
    client = ftps_client(sandboxes)
    try:
        # Usually ssl.SSLEOFError or ConnectionResetError while sending, else the 426 reply.
        with pytest.raises(ftplib.all_errors):
            client.storbinary("STOR cut.xml", BytesIO(b"c" * 1_000_000))
    finally:
        client.close()
    assert wait_for_size(sandboxes.ftp.user_root(USER) / "cut.xml", 100_000) == 100_000
    assert sandboxes.ftp.uploads_completed == before


def test_ftps_fault_reject_auth(sandboxes: Sandboxes) -> None:
    sandboxes.ftp.faults.reject_auth = True
    with pytest.raises(ftplib.error_perm, match=r"^530"):
        ftps_client(sandboxes)


# --- the bundle ---------------------------------------------------------------------------------


def test_connection_dicts(sandboxes: Sandboxes) -> None:
    sftp = sandboxes.airflow_connection("sftp", USER, "topfolder/orders")
    assert sftp == {
        "conn_type": "sftp",
        "host": "127.0.0.1",
        "port": sandboxes.sftp.port,
        "login": USER,
        "password": sftp["password"],
        "schema": "topfolder/orders",
        "extra": {"host_key": sandboxes.sftp.host_key_line, "no_host_key_check": False, "conn_timeout": 10},
    }
    assert sandboxes.sftp.host_key_line.startswith("ssh-ed25519 AAAA")
    assert len(sandboxes.sftp.host_key_line.split()) == 2
    ftps = sandboxes.airflow_connection("ftps", USER, "orders")
    assert ftps["password"] != sftp["password"]
    assert json.loads(json.dumps(ftps)) == ftps
    with pytest.raises(ValueError, match="no sandbox user"):
        sandboxes.airflow_connection("sftp", "nobody", "x")
    with pytest.raises(ValueError, match="unknown sandbox connection kind"):
        sandboxes.airflow_connection("scp", USER, "x")


def test_keys_and_certificates_are_reused(sandboxes: Sandboxes) -> None:
    root = sandboxes.root
    first = Sandboxes(root, "someone")
    second = Sandboxes(root, "someone")
    assert first.sftp.host_key_line == second.sftp.host_key_line == sandboxes.sftp.host_key_line
    assert first.client_public_key == second.client_public_key
    assert first.tls == second.tls
    assert sandboxes.tls.ca_file.read_bytes() == (root / "tls" / "ca.pem").read_bytes()
    # Fresh passwords every time, even for the same user.
    assert first.password("sftp") != second.password("sftp")
    assert first.password("ftps") != second.password("ftps")


def test_latency_proxy_carries_ftps_data_connections_too(sandboxes: Sandboxes) -> None:
    """With ``rtt``, control and every passive data connection cross the proxy, each exchange at
    least a round trip later, and the file arrives whole."""
    from erp_sandbox.fault_proxy import FaultProxy

    rtt = 0.05
    with FaultProxy(sandboxes.ftp.port, rtt=rtt) as proxy:
        sandboxes.ftp.passive_through = proxy.forward_once
        try:
            conn = sandboxes.airflow_connection("ftps", USER, "latency")
            context = ssl.create_default_context(cafile=conn["extra"]["ca_file"])
            client = ftplib.FTP_TLS(context=context, timeout=10)  # noqa: S321 - TLS on control and data
            began = time.monotonic()
            client.connect(conn["host"], proxy.port)
            connected = time.monotonic() - began
            client.login(conn["login"], conn["password"])
            client.prot_p()
            data = b"<Order/>" * 5000
            began = time.monotonic()
            client.storbinary("STOR latency.xml", BytesIO(data))
            stored = time.monotonic() - began
            client.quit()
        finally:
            sandboxes.ftp.passive_through = None
    assert connected >= 1.5 * rtt  # the TCP handshake, then the greeting on its way back
    assert proxy.connections == 2  # the control connection and the upload's data connection
    assert stored >= 4 * rtt  # PASV, connect, STOR and its TLS data channel, the 226 reply
    assert wait_for_size(sandboxes.ftp.user_root(USER) / "latency.xml", len(data)) == len(data)
    assert (sandboxes.ftp.user_root(USER) / "latency.xml").read_bytes() == data


def test_latency_proxy_keeps_order_under_load(sandboxes: Sandboxes, monkeypatch: pytest.MonkeyPatch) -> None:
    """Many writes in flight arrive in order: the proxy delays, it does not reorder or throttle."""
    from erp_sandbox.fault_proxy import FaultProxy

    with FaultProxy(sandboxes.sftp.port, rtt=0.02) as proxy:
        conn = {**sandboxes.airflow_connection("sftp", USER, "latency"), "port": proxy.port}
        hook = sftp_hook(monkeypatch, conn, "latency_sftp")
        data = bytes(range(256)) * 4000  # 1 MB: many SFTP writes in flight at once
        with hook.get_managed_conn() as client:
            client.putfo(BytesIO(data), "big.bin", file_size=len(data), confirm=True)
    assert (sandboxes.sftp.user_root(USER) / "big.bin").read_bytes() == data
