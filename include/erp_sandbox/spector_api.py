"""A loopback Spector v2 order API, written from the seed and Spector's public v1 API alone.

It imports nothing from the connector: the contract it shares with it (path, headers, reply
shape, result codes) is the one documented in ``docs/spector.md``, restated here.

What it does, as the real API would:

- checks every request's credentials: HTTP Basic (API user id / API key), ``X-SBM-Id`` naming
  a known SBM company, ``X-Integration-Token``; all made at random per instance;
- validates an order with the rules of the seed's DTOs (``[Required]``, ``[MaxLength]`` counted
  in UTF-16 code units as .NET does, .NET types: text, 32-bit int, decimal, bool, ``yyyy-MM-dd``
  dates, ISO currency codes), plus line numbers that must not repeat, and refuses a bad order
  with HTTP 400, result 30 and one error per field;
- issues order numbers (``100001``, ``100002`` ... across companies; they go on after a
  restart), answers result 1, or the non-fatal result 2 when an article is in
  ``unknown_articles``, or the fatal result 20 / 22 for a customer in ``unknown_customers`` / a
  stock site outside ``stock_sites``;
- detects a second order with an ``externalOrderNo`` that company already holds, whatever
  App4Sales administration sent it: nothing is stored and the non-fatal result 10 names the
  existing order;
- answers the look-up ``GET /api/v2/orders?externalOrderNo=...`` and ``GET /api/v2/orders/<no>``
  (the whole order as stored);
- keeps its companies and orders in a journal under ``<root>/spector/`` and every accepted
  request on disk there (bodies only, never headers; amounts as text, to keep their exact digits).

For tests: the base class's ``faults`` (refused auth, 5xx, slow replies, a reply lost after
the order was stored, a 5xx after storing), ``new_company()`` for a company of a test's own,
``order_count(external_order_no)`` to check that an App4Sales order exists exactly once, and
``orders_for(external_order_no)`` to compare what Spector holds with what was sent.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hmac
import json
import re
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from erp_sandbox.http_emulator import EmulatedApi, EmuRequest, EmuResponse, has_lone_surrogate, utf16_length

ORDERS = "/api/v2/orders"
LOOKUP_PARAM = "externalOrderNo"
SBM_EXTRA = "sbm_id"  # the connection extra the connector reads the company from
SBM_HEADER = "x-sbm-id"
INTEGRATION_HEADER = "X-Integration-Token"
_ORDER_PATH = re.compile("^" + re.escape(ORDERS) + r"/(?P<no>[0-9]+)$")
FIRST_ORDER_NO = 100001
INT32 = (-(2**31), 2**31 - 1)

# Spector's result codes (docs/spector.md): 1 success; 2 and 10 non-fatal; the rest fatal.
OK, ARTICLES_ADDED_AS_TEXT, DUPLICATE_EXTERNAL_ORDER_NO = 1, 2, 10
CUSTOMER_NOT_FOUND, STOCK_SITE_NOT_FOUND, VALIDATION_FAILED, NOT_FOUND = 20, 22, 30, 44

_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
# C0 control characters other than tab, CR and LF: XML 1.0, which Spector answers in since v1, cannot carry them.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True)
class _Field:
    kind: str  # text | int | decimal | bool | date | currency
    required: bool = False
    max_length: int | None = None


# SpecterOrderPost and SpecterOrderLinePost as the seed describes them.
HEADER_FIELDS: dict[str, _Field] = {
    "externalOrderNo": _Field("text"),
    "customerId": _Field("text", required=True),  # "The customer's unique code is mandatory."
    "orderDate": _Field("date"),
    "deliveryDate": _Field("date"),
    "customerReference": _Field("text", max_length=70),
    "customerOrderReference": _Field("text", max_length=50),
    "currency": _Field("currency"),
    "internalComment": _Field("text"),
    "externalDeliveryMethod": _Field("text", max_length=100),
    "publishedComment": _Field("text"),
    "requirements": _Field("text"),
    "stockSiteId": _Field("int"),
    "ourReferenceUserId": _Field("int"),
}
LINE_FIELDS: dict[str, _Field] = {
    "lineNumber": _Field("int", required=True),
    "articleNumber": _Field("text", required=True, max_length=50),
    "articleName": _Field("text", required=True, max_length=130),
    "articleComment": _Field("text", max_length=200),
    "addArticleComment": _Field("bool"),
    "priceExclVAT": _Field("decimal", required=True),
    "numberOfItems": _Field("int", required=True),
    "vatPercentage": _Field("decimal", required=True),
    "discount": _Field("decimal"),
}


def _problem(name: str, spec: _Field, value: Any) -> str | None:
    """Why ``value`` does not bind to the DTO property ``name``, or ``None`` when it does."""
    if value is None:
        return f"{name} is required" if spec.required else None
    if spec.kind == "text":
        if not isinstance(value, str):
            return f"{name} must be text, not {value!r}"
        if spec.required and not value.strip():
            return f"{name} is required"
        if has_lone_surrogate(value):
            return f"{name} holds half a UTF-16 surrogate pair"
        if _CONTROL.search(value):
            return f"{name} holds a control character"
        if spec.max_length is not None and utf16_length(value) > spec.max_length:
            return f"{name} is longer than {spec.max_length} characters ({utf16_length(value)})"
        return None
    if spec.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{name} must be a whole number, not {value!r}"
        return None if INT32[0] <= value <= INT32[1] else f"{name} {value} is outside the 32-bit range"
    if spec.kind == "decimal":
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            return f"{name} must be a number, not {value!r}"
        return None if Decimal(value).is_finite() else f"{name} must be a finite number"
    if spec.kind == "bool":
        return None if isinstance(value, bool) else f"{name} must be true or false, not {value!r}"
    if spec.kind == "date":
        if isinstance(value, str) and _DATE.match(value):
            with contextlib.suppress(ValueError):
                date.fromisoformat(value)
                return None
        return f"{name} must be a date as yyyy-MM-dd, not {value!r}"
    ok = isinstance(value, str) and _CURRENCY.match(value)
    return None if ok else f"{name} must be a three-letter ISO currency code, not {value!r}"


def _check(fields: dict[str, _Field], values: Mapping[str, Any], prefix: str = "") -> Iterator[dict[str, str]]:
    for name, spec in fields.items():
        message = _problem(name, spec, values.get(name))
        if message:
            yield {"field": prefix + name, "message": message}
    for name in values:
        if name not in fields:  # the real API would drop it unseen: refused, so a misnamed field shows
            yield {"field": prefix + name, "message": f"{name} is not a field of the Spector order"}


def validation_errors(payload: Any) -> list[dict[str, str]]:
    """Every reason Spector refuses ``payload``, header first, then line by line (lines count from 1)."""
    if not isinstance(payload, Mapping):
        return [{"field": "", "message": "the order must be a JSON object"}]
    errors = list(_check(HEADER_FIELDS, {k: v for k, v in payload.items() if k != "lines"}))
    lines = payload.get("lines")
    if not isinstance(lines, list) or not lines:
        return [*errors, {"field": "lines", "message": "lines is required: at least one order line"}]
    seen: set[Any] = set()
    for index, line in enumerate(lines, start=1):
        if not isinstance(line, Mapping):
            errors.append({"field": f"lines[{index}]", "message": "an order line must be a JSON object"})
            continue
        errors.extend(_check(LINE_FIELDS, line, f"lines[{index}]."))
        number = line.get("lineNumber")
        if isinstance(number, int) and number in seen:
            errors.append({"field": f"lines[{index}].lineNumber", "message": f"lineNumber {number} occurs twice"})
        seen.add(number)
    return errors


@dataclass
class _Company:
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)  # orderNo -> the order as received
    by_external: dict[str, list[str]] = field(default_factory=dict)  # externalOrderNo -> orderNos


def _reply(status: int, result: int, message: str, *, stored: bool = False, **more: Any) -> EmuResponse:
    return EmuResponse.json(status, {"result": result, "message": message, **more}, stored=stored)


class Api(EmulatedApi):
    name = "spector"

    def __init__(self, root: Path, port: int = 0) -> None:
        super().__init__(root, port)
        self.api_user = f"a4s-{secrets.token_hex(4)}"
        self.api_key = secrets.token_urlsafe(24)
        self.integration_token = secrets.token_urlsafe(24)
        self._companies: dict[str, _Company] = {}
        self._next_order_no = FIRST_ORDER_NO
        default: str | None = None
        for entry in self.journal_entries():
            company = self._companies.setdefault(entry["company"], _Company())
            default = default or entry["company"]
            if entry.get("orderNo") is not None:
                self._keep(company, entry["orderNo"], entry["order"])
        self.default_company = default or self.new_company()
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
                    self.journal({"company": sbm_id})
                    return sbm_id

    def airflow_connection(self, company: str | None = None) -> dict[str, Any]:
        return {
            "conn_type": "http",
            "host": "127.0.0.1",
            "port": self.port,
            "schema": "http",
            "login": self.api_user,
            "password": self.api_key,
            "extra": {SBM_EXTRA: company or self.default_company, INTEGRATION_HEADER: self.integration_token},
        }

    def orders(self, company: str | None = None) -> dict[str, dict[str, Any]]:
        """The company's orders by Spector order number, as received (amounts as ``Decimal``)."""
        with self.lock:
            return dict(self._companies[company or self.default_company].orders)

    def orders_for(self, external_order_no: str, company: str | None = None) -> list[dict[str, Any]]:
        """Every order of the company that carries this external number, as received."""
        with self.lock:
            held = self._companies[company or self.default_company]
            return [held.orders[no] for no in held.by_external.get(external_order_no, ())]

    def order_count(self, external_order_no: str, company: str | None = None) -> int:
        """How many Spector orders carry this App4Sales order number: exactly once means 1."""
        return len(self.orders_for(external_order_no, company))

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
                and hmac.compare_digest(request.headers.get(INTEGRATION_HEADER.lower(), "").encode(),
                                        self.integration_token.encode())
                and request.headers.get(SBM_HEADER, "") in self._companies)

    def handle(self, request: EmuRequest) -> EmuResponse:
        company = self._companies[request.headers[SBM_HEADER]]
        if request.path == ORDERS and request.method == "POST":
            return self._create(request, company, request.headers[SBM_HEADER])
        if request.path == ORDERS and request.method == "GET":
            return self._lookup(request, company)
        match = _ORDER_PATH.match(request.path)
        if match and request.method == "GET" and match["no"] in company.orders:
            return EmuResponse.json(200, {"result": OK, "message": "OK", "order": company.orders[match["no"]]})
        return _reply(404, NOT_FOUND, f"No resource {request.method} {request.path}")

    def _keep(self, company: _Company, order_no: str, payload: dict[str, Any]) -> None:
        company.orders[order_no] = payload
        external = payload.get("externalOrderNo")
        if external is not None:
            company.by_external.setdefault(external, []).append(order_no)
        self._next_order_no = max(self._next_order_no, int(order_no) + 1)

    def _create(self, request: EmuRequest, company: _Company, company_id: str) -> EmuResponse:
        try:
            payload = json.loads(request.body.decode("utf-8"), parse_float=Decimal)
        except (UnicodeDecodeError, ValueError) as exc:
            return _reply(400, VALIDATION_FAILED, f"The body is not JSON: {exc}")
        errors = validation_errors(payload)
        if errors:
            return _reply(400, VALIDATION_FAILED, "The order failed validation", errors=errors)
        external = payload.get("externalOrderNo")
        with self.lock:
            existing = company.by_external.get(external) if external is not None else None
            if existing:
                return _reply(200, DUPLICATE_EXTERNAL_ORDER_NO,
                              f"An order with externalOrderNo {external} already exists", orderNo=existing[0])
            if payload["customerId"] in self.unknown_customers:
                return _reply(200, CUSTOMER_NOT_FOUND, f"Customer {payload['customerId']} not found")
            site = payload.get("stockSiteId")
            if site is not None and self.stock_sites is not None and site not in self.stock_sites:
                return _reply(200, STOCK_SITE_NOT_FOUND, f"Stock site {site} not found")
            order_no = str(self._next_order_no)
            self._keep(company, order_no, payload)
            self.journal({"company": company_id, "orderNo": order_no, "order": payload})
            self.record(request, f"order-{order_no}", payload)
        unknown = [line["articleNumber"] for line in payload["lines"] if line["articleNumber"] in self.unknown_articles]
        if unknown:
            return _reply(201, ARTICLES_ADDED_AS_TEXT,
                          f"Order created; articles not in the register were added as text rows: {', '.join(unknown)}",
                          stored=True, orderNo=order_no)
        return _reply(201, OK, "Order created", stored=True, orderNo=order_no)

    def _lookup(self, request: EmuRequest, company: _Company) -> EmuResponse:
        external = request.param(LOOKUP_PARAM)
        if not external:
            return _reply(400, VALIDATION_FAILED, f"Query parameter {LOOKUP_PARAM} is required")
        with self.lock:
            found = [{"orderNo": no, "externalOrderNo": external, "customerId": company.orders[no]["customerId"],
                      "orderDate": company.orders[no].get("orderDate")} for no in company.by_external.get(external, ())]
            self.record(request, f"lookup-{external}", None)
        return _reply(200, OK, f"{len(found)} orders found", orders=found)

    @staticmethod
    def _write(handler: Any, response: EmuResponse) -> None:
        # A client that timed out has gone: the reply has nobody to go to, as on a real server.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            EmulatedApi._write(handler, response)
