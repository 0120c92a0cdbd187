"""An ERP API session reads the proxy settings of its environment once, when it opens.

``requests`` would read them on every request (a scan of the whole environment); the session
reads them once and keeps what they said, so proxies, ``NO_PROXY`` and the connection's own
``proxies`` / ``trust_env`` extras behave as before. Real servers on loopback: the ERP, and a
forward proxy that answers for it, so each reply says which way the request went.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from backoffice_export.transport.http_api import ApiSession


def _server(via: str, seen: list[str]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            body = json.dumps({"via": via}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def erp_and_proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[int, str, list[str]]]:
    proxied: list[str] = []
    erp, proxy = _server("direct", []), _server("proxy", proxied)
    for name in ("HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    try:
        yield erp.server_address[1], f"http://127.0.0.1:{proxy.server_address[1]}", proxied
    finally:
        erp.shutdown()
        proxy.shutdown()


def _session(monkeypatch: pytest.MonkeyPatch, port: int, **extra: Any) -> ApiSession:
    conn = {"conn_type": "http", "host": "127.0.0.1", "port": port, "schema": "http", "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_ERP_ENV_TEST", json.dumps(conn))
    return ApiSession("erp_env_test")


def _via(session: ApiSession) -> str:
    return str(session.request("GET", "api/orders").body["via"])


def test_the_proxy_of_the_environment_carries_every_request(monkeypatch, erp_and_proxy) -> None:
    port, proxy, proxied = erp_and_proxy
    monkeypatch.setenv("HTTP_PROXY", proxy)
    session = _session(monkeypatch, port)
    assert [_via(session), _via(session)] == ["proxy", "proxy"]
    assert proxied == [f"http://127.0.0.1:{port}/api/orders"] * 2


def test_no_proxy_still_sends_direct(monkeypatch, erp_and_proxy) -> None:
    port, proxy, proxied = erp_and_proxy
    monkeypatch.setenv("HTTP_PROXY", proxy)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert _via(_session(monkeypatch, port)) == "direct"
    assert proxied == []


def test_the_connection_can_still_switch_the_environment_off(monkeypatch, erp_and_proxy) -> None:
    port, proxy, _ = erp_and_proxy
    monkeypatch.setenv("HTTP_PROXY", proxy)
    assert _via(_session(monkeypatch, port, trust_env=False)) == "direct"


def test_the_connections_own_proxy_wins_over_the_environment(monkeypatch, erp_and_proxy) -> None:
    port, proxy, proxied = erp_and_proxy
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    assert _via(_session(monkeypatch, port, proxies={"http": proxy})) == "proxy"
    assert len(proxied) == 1
