"""A loopback Spector v2 order API that behaves like the contract in ``connectors/spector/api.py``.

What it does, as the real API would:

- checks every request's credentials: HTTP Basic (API user id / API key), ``X-SBM-Id`` naming
  a known SBM company, ``X-Integration-Token``; all made at random per instance;
- validates an order with the DTO rules (``connectors/spector/validation.py``) and refuses a
  bad one with HTTP 400, result 30 and one error per field;
- issues order numbers (``100001``, ``100002`` ... across companies), answers result 1, or
  the non-fatal result 2 when an article is in ``unknown_articles``, or the fatal result 20
  / 22 for a customer in ``unknown_customers`` / a stock site outside ``stock_sites``;
- detects a second order with an ``externalOrderNo`` it already has: nothing is stored and
  the non-fatal result 10 names the existing order;
- answers the look-up ``GET /api/v2/orders?externalOrderNo=...``;
- keeps every accepted request on disk under ``<root>/spector/`` (bodies only, never headers;
  amounts as text, to keep their exact digits).

For tests: the base class's ``faults`` (refused auth, 5xx, slow replies, a reply lost after
the order was stored, a 5xx after storing), ``new_company()`` for a company of a test's own,
and ``order_count(external_order_no)`` to check that an App4Sales order exists exactly once.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from backoffice_export.connectors.spector import api as spector
from backoffice_export.connectors.spector.validation import problems
from erp_sandbox.http_emulator import EmulatedApi, EmuRequest, EmuResponse

ORDERS = "/" + spector.ORDERS_PATH
_ORDER_PATH = re.compile("^" + re.escape(ORDERS) + r"/(?P<no>[0-9]+)$")
FIRST_ORDER_NO = 100001


@dataclass
class _Company:
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)  # orderNo -> the order as received
    by_external: dict[str, list[str]] = field(default_factory=dict)  # externalOrderNo -> orderNos


def _reply(status: int, result: int, message: str, *, stored: bool = False, **more: Any) -> EmuResponse:
    return EmuResponse.json(status, {"result": result, "message": message, **more}, stored=stored)


class Api(EmulatedApi):
    name = "spector"

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.api_user = f"a4s-{secrets.token_hex(4)}"
        self.api_key = secrets.token_urlsafe(24)
        self.integration_token = secrets.token_urlsafe(24)
        self._companies: dict[str, _Company] = {}
        self._next_order_no = FIRST_ORDER_NO
        self.default_company = self.new_company()
        self.unknown_customers: set[str] = set()  # Spector has no such customer: result 20
        self.unknown_articles: set[str] = set()  # stored as text rows: result 2
        self.stock_sites: set[int] | None = None  # None: every stock site exists; else others get result 22

    # -- set-up and inspection for tests ----------------------------------------------------
    def new_company(self) -> str:
        """A fresh SBM company (no orders yet) the same API user may post to; returns its id."""
        with self.lock:
            while True:
                sbm_id = str(secrets.randbelow(900_000) + 100_000)
                if sbm_id not in self._companies:
                    self._companies[sbm_id] = _Company()
                    return sbm_id

    def airflow_connection(self, company: str | None = None) -> dict[str, Any]:
        return {
            "conn_type": "http",
            "host": "127.0.0.1",
            "port": self.port,
            "schema": "http",
            "login": self.api_user,
            "password": self.api_key,
            "extra": {spector.SBM_EXTRA: company or self.default_company,
                      spector.INTEGRATION_HEADER: self.integration_token},
        }

    def orders(self, company: str | None = None) -> dict[str, dict[str, Any]]:
        """The company's orders by Spector order number, as received (amounts as ``Decimal``)."""
        with self.lock:
            return dict(self._companies[company or self.default_company].orders)

    def order_count(self, external_order_no: str, company: str | None = None) -> int:
        """How many Spector orders carry this App4Sales order number: exactly once means 1."""
        with self.lock:
            return len(self._companies[company or self.default_company].by_external.get(external_order_no, ()))

    # -- the API ----------------------------------------------------------------------------
    def authenticate(self, request: EmuRequest) -> bool:
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            user, _, key = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return (scheme.lower() == "basic"
                and hmac.compare_digest(user.encode(), self.api_user.encode())
                and hmac.compare_digest(key.encode(), self.api_key.encode())
                and hmac.compare_digest(request.headers.get(spector.INTEGRATION_HEADER.lower(), "").encode(),
                                        self.integration_token.encode())
                and request.headers.get(spector.SBM_HEADER.lower(), "") in self._companies)

    def handle(self, request: EmuRequest) -> EmuResponse:
        company = self._companies[request.headers[spector.SBM_HEADER.lower()]]
        if request.path == ORDERS and request.method == "POST":
            return self._create(request, company)
        if request.path == ORDERS and request.method == "GET":
            return self._lookup(request, company)
        match = _ORDER_PATH.match(request.path)
        if match and request.method == "GET" and match["no"] in company.orders:
            return EmuResponse.json(200, {"result": spector.Result.OK, "message": "OK",
                                          "order": company.orders[match["no"]]})
        return _reply(404, spector.Result.NOT_FOUND, f"No resource {request.method} {request.path}")

    def _create(self, request: EmuRequest, company: _Company) -> EmuResponse:
        try:
            payload = json.loads(request.body.decode("utf-8"), parse_float=Decimal)
        except (UnicodeDecodeError, ValueError) as exc:
            return _reply(400, spector.Result.VALIDATION_FAILED, f"The body is not JSON: {exc}")
        refused = problems(payload)
        if refused:
            return _reply(400, spector.Result.VALIDATION_FAILED, "The order failed validation",
                          errors=[{"field": p.path, "message": p.message} for p in refused])
        external = payload["externalOrderNo"]
        with self.lock:
            existing = company.by_external.get(external)
            if existing:
                return _reply(200, spector.Result.DUPLICATE_EXTERNAL_ORDER_NO,
                              f"An order with externalOrderNo {external} already exists", orderNo=existing[0])
            if payload["customerId"] in self.unknown_customers:
                return _reply(200, spector.Result.CUSTOMER_NOT_FOUND, f"Customer {payload['customerId']} not found")
            site = payload.get("stockSiteId")
            if site is not None and self.stock_sites is not None and site not in self.stock_sites:
                return _reply(200, spector.Result.STOCK_SITE_NOT_FOUND, f"Stock site {site} not found")
            order_no = str(self._next_order_no)
            self._next_order_no += 1
            company.orders[order_no] = payload
            company.by_external.setdefault(external, []).append(order_no)
            self.record(request, f"order-{order_no}", payload)
        unknown = [line["articleNumber"] for line in payload["lines"] if line["articleNumber"] in self.unknown_articles]
        if unknown:
            return _reply(201, spector.Result.ARTICLES_ADDED_AS_TEXT,
                          f"Order created; articles not in the register were added as text rows: {', '.join(unknown)}",
                          stored=True, orderNo=order_no)
        return _reply(201, spector.Result.OK, "Order created", stored=True, orderNo=order_no)

    def _lookup(self, request: EmuRequest, company: _Company) -> EmuResponse:
        external = request.param(spector.LOOKUP_PARAM)
        if not external:
            return _reply(400, spector.Result.VALIDATION_FAILED, f"Query parameter {spector.LOOKUP_PARAM} is required")
        with self.lock:
            found = [{"orderNo": no, "externalOrderNo": external, "customerId": company.orders[no]["customerId"],
                      "orderDate": company.orders[no]["orderDate"]} for no in company.by_external.get(external, ())]
            self.record(request, f"lookup-{external}", None)
        return _reply(200, spector.Result.OK, f"{len(found)} orders found", orders=found)

    @staticmethod
    def _write(handler: Any, response: EmuResponse) -> None:
        # A client that timed out has gone: the reply has nobody to go to, as on a real server.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            EmulatedApi._write(handler, response)
