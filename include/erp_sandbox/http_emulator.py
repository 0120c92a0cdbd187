"""The loopback ERP API emulator: one small HTTP server per emulated ERP API.

Each ERP module (``spector_api``, ``styleman_api``, ``accountview_api``) subclasses
``EmulatedApi`` and implements ``handle``; this module gives them what every emulated ERP
needs, so they can concentrate on behaving like the real API:

- a threaded HTTP server on 127.0.0.1 (port 0), started and stopped with the sandboxes;
- every accepted request kept on disk, ``<root>/<api>/<seq>-<METHOD>-<what>.json``, for
  inspection (credentials are never written: headers are not recorded); the sequence goes on
  after a restart, so nothing is overwritten;
- a journal, ``<root>/<api>/journal.jsonl``: one line per change to the ERP's state, replayed
  by the next instance on the same root, so orders and number counters survive restarts;
- switchable faults for tests (``faults``): refuse authentication, answer 5xx, reply slowly,
  or lose the reply after the order was stored (the connection is closed without an answer).
"""

from __future__ import annotations

import abc
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

JOURNAL = "journal.jsonl"
_RECORDING = re.compile(r"^(?P<seq>[0-9]+)-")


def utf16_length(text: str) -> int:
    """The length .NET gives ``text`` (``string.Length``): UTF-16 code units, so an emoji counts 2."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def has_lone_surrogate(text: str) -> bool:
    """Whether ``text`` holds half a surrogate pair (JSON ``\\ud800``), which .NET's JSON reader refuses."""
    return any("\ud800" <= c <= "\udfff" for c in text)


def _encode_exact(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_text(value: Any) -> str:
    """``value`` as JSON, a ``Decimal`` as a number with its exact digits (``25.00`` stays ``25.00``),
    as a .NET API writes a decimal it holds."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        items = (f"{json.dumps(str(k), ensure_ascii=False)}: {json_text(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(json_text(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False, default=str)


def _decode_exact(obj: dict[str, Any]) -> Any:
    return Decimal(obj["$decimal"]) if obj.keys() == {"$decimal"} else obj


@dataclass
class ApiFaults:
    """Fault switches; counters count down one per affected request."""

    reject_auth: bool = False
    fail_next: int = 0  # answer the next N requests with ``fail_status`` before handling them
    fail_status: int = 503
    delay_seconds: float = 0.0  # sleep before answering every request
    lose_reply_after_store: int = 0  # for the next N requests that store something: store, then hang up
    fail_after_stored: int = 0  # answer 5xx after storing (the ERP kept the order but says it failed)

    def reset(self) -> None:
        self.__init__()  # type: ignore[misc]


@dataclass
class EmuRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class EmuResponse:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    stored: bool = False  # this request created or changed something in the ERP

    @classmethod
    def json(cls, status: int, body: Any, *, stored: bool = False) -> EmuResponse:
        return cls(status, body, {"Content-Type": "application/json"}, stored)


class EmulatedApi(abc.ABC):
    """Base of one emulated ERP API; subclasses implement ``authenticate``, ``handle`` and
    ``airflow_connection``."""

    name = "erp"

    def __init__(self, root: Path, port: int = 0) -> None:
        self.root = root / self.name
        self.root.mkdir(parents=True, exist_ok=True)
        self.wanted_port = port  # 0: any free port
        self.bind_host = "127.0.0.1"  # what it listens on; the sandbox is for loopback unless told otherwise
        self.faults = ApiFaults()
        self.lock = threading.RLock()  # ERP state is shared by the server's threads
        self._seq = max((int(m["seq"]) for p in self.root.glob("*.json") if (m := _RECORDING.match(p.name))),
                        default=0)
        journal = self.root / JOURNAL
        if journal.exists() and journal.stat().st_size:
            with journal.open("rb+") as handle:  # a kill mid-write left a torn line: end it
                handle.seek(-1, 2)
                if handle.read(1) != b"\n":
                    handle.write(b"\n")
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- what each ERP's module implements ------------------------------------------------
    @abc.abstractmethod
    def authenticate(self, request: EmuRequest) -> bool:
        """Whether the request carries credentials this API accepts."""

    @abc.abstractmethod
    def handle(self, request: EmuRequest) -> EmuResponse:
        """Answer an authenticated request as the real API would."""

    @abc.abstractmethod
    def airflow_connection(self) -> dict[str, Any]:
        """An Airflow connection (``AIRFLOW_CONN_<ID>`` JSON form) that this API accepts."""

    # -- recording ----------------------------------------------------------------------
    def record(self, request: EmuRequest, what: str, payload: Any) -> Path:
        """Keep an accepted request on disk (body only: credentials live in headers)."""
        with self.lock:
            self._seq += 1
            seq = self._seq
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in what)[:80]
        path = self.root / f"{seq:06d}-{request.method}-{safe}.json"
        path.write_text(json.dumps({"method": request.method, "path": request.path, "query": request.query,
                                    "body": payload}, indent=2, ensure_ascii=False, default=str))
        return path

    def recorded(self) -> list[dict[str, Any]]:
        return [json.loads(p.read_text()) for p in sorted(self.root.glob("*.json"))]

    # -- state that survives a restart ---------------------------------------------------
    def journal(self, entry: dict[str, Any]) -> None:
        """Append one change of the ERP's state (amounts kept exact) to the journal; call under ``lock``."""
        with (self.root / JOURNAL).open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, default=_encode_exact) + "\n")

    def journal_entries(self) -> Iterator[dict[str, Any]]:
        """Every change an earlier instance on this root made, oldest first (a torn last line is skipped)."""
        path = self.root / JOURNAL
        if not path.exists():
            return
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                try:
                    yield json.loads(line, object_hook=_decode_exact)
                except ValueError:
                    continue  # a line cut short by a kill mid-write: that change never completed

    # -- server -------------------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._server is not None, "start() the emulator first"
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle on, the body would wait for the
            # client's delayed ACK (40 ms a request on keep-alive connections). Real servers
            # send both at once.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: URLs may carry look-up values, never log them to stderr

            def _serve(self) -> None:
                api._serve(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        self._server = ThreadingHTTPServer((self.bind_host, self.wanted_port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"{self.name}-api", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> EmulatedApi:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        split = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        request = EmuRequest(handler.command, split.path, parse_qs(split.query),
                             {k.lower(): v for k, v in handler.headers.items()}, handler.rfile.read(length))
        faults = self.faults
        if faults.delay_seconds:
            time.sleep(faults.delay_seconds)
        with self.lock:
            failing = faults.fail_next > 0
            if failing:
                faults.fail_next -= 1
        if faults.reject_auth or not self.authenticate(request):
            response = EmuResponse.json(401, {"error": "unauthorized", "message": "Authentication failed"})
        elif failing:
            response = EmuResponse.json(faults.fail_status, {"error": "unavailable",
                                                             "message": "Service temporarily unavailable"})
        else:
            try:
                response = self.handle(request)
            except Exception as exc:  # an emulator bug must show as a 500, as a real server would
                response = EmuResponse.json(500, {"error": "internal", "message": f"{type(exc).__name__}: {exc}"})
        if response.stored:
            with self.lock:
                lose = faults.lose_reply_after_store > 0
                if lose:
                    faults.lose_reply_after_store -= 1
                fail_after = not lose and faults.fail_after_stored > 0
                if fail_after:
                    faults.fail_after_stored -= 1
            if lose:
                handler.close_connection = True
                handler.connection.close()  # the order is stored; the client never hears so
                return
            if fail_after:
                response = EmuResponse.json(502, {"error": "bad gateway", "message": "upstream reset"})
        self._write(handler, response)

    @staticmethod
    def _write(handler: BaseHTTPRequestHandler, response: EmuResponse) -> None:
        if isinstance(response.body, (bytes, bytearray)):
            data = bytes(response.body)
        elif response.body is None:
            data = b""
        else:
            data = json_text(response.body).encode("utf-8")
        handler.send_response(response.status)
        for key, value in response.headers.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
