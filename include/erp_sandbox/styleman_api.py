"""StyleMan's order API, emulated on loopback for the tests and the demo.

What it does, as the connector meets the real one:

- ``POST /token``: OAuth2 client credentials (form fields ``client_id`` / ``client_secret``, or
  HTTP basic with them), answering ``{"access_token", "token_type": "bearer", "expires_in"}``
  or ``400 {"error": "invalid_client"}``. Tokens live ``token_lifetime`` seconds.
- Every other request needs ``Authorization: Bearer <token>`` or HTTP basic with the basic
  user, unless ``allow_anonymous`` is on (a StyleMan set up with no authorisation).
- ``POST /api/{version}/Orders``: validates the SalesOrder like the real API (ASP.NET Web API
  model state: ``400 {"Message": "The request is invalid.", "ModelState": {...}}``), stores it,
  issues the next order number and answers ``201`` with the stored order (its ``Number`` set),
  wrapped the way the request was. ``request_shape`` decides what it accepts: ``"plain"``
  (bare SalesOrder), ``"wrapped"`` (``{"Results": [{"Results": [order]}]}``) or ``"either"``.
  Like most ERPs it does *not* refuse a second order with the same ``OrderID``: it creates a
  duplicate, which the tests count with ``order_count(order_id)``.
- ``GET /api/{version}/Orders?$filter=OrderID eq '<guid>'``: the look-up, ``{"Results": [...]}``.
- An unknown version or path: ``404 {"Message": "No HTTP resource was found ..."}``.

Accepted order and look-up requests are recorded under ``<root>/styleman/`` (bodies only);
token requests never are, since their body is the client secret. Faults: the base class's
``faults`` plus ``reply_without_number`` (store the order, but leave ``Number`` out of the reply).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from erp_sandbox.http_emulator import EmulatedApi, EmuRequest, EmuResponse

_ORDERS = re.compile(r"^/api/(?P<version>[^/]+)/orders/?$", re.IGNORECASE)
_FILTER = re.compile(r"^\s*OrderID\s+eq\s+(?:guid)?'?(?P<guid>[0-9A-Fa-f{}-]+)'?\s*$")
INVALID = "The request is invalid."


class Api(EmulatedApi):
    name = "styleman"
    token_path = "/token"  # noqa: S105 - a URL path, not a secret

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.client_id = f"a4s-{secrets.token_hex(6)}"
        self.client_secret = secrets.token_urlsafe(24)
        self.basic_user = "app4sales"
        self.basic_password = secrets.token_urlsafe(24)
        self.versions = {"v1", "v2"}
        self.token_lifetime = 3600
        self._orders: list[dict[str, Any]] = []
        self._next_number = 100001
        self._tokens: dict[str, float] = {}
        self.reset()

    def reset(self) -> None:
        """Faults and switches back to a well-behaved StyleMan (stored orders stay)."""
        with self.lock:
            self.faults.reset()
            self.allow_anonymous = False
            self.request_shape = "either"
            self.reply_without_number = 0
            self.tokens_issued = 0
            self._tokens.clear()

    # -- for tests ----------------------------------------------------------------------
    def airflow_connection(self, auth_type: str = "client_credentials", **extra: Any) -> dict[str, Any]:
        """A connection in ``AIRFLOW_CONN_<ID>`` form that logs in the way ``auth_type`` says."""
        conn: dict[str, Any] = {"conn_type": "http", "host": "127.0.0.1", "port": self.port, "schema": "http",
                                "extra": {"auth_type": auth_type, **extra}}
        if auth_type == "client_credentials":
            conn.update(login=self.client_id, password=self.client_secret)
        elif auth_type == "basic":
            conn.update(login=self.basic_user, password=self.basic_password)
        return conn

    def orders_for(self, order_id: str) -> list[dict[str, Any]]:
        """Every stored order with this ``OrderID`` (more than one means a duplicate)."""
        wanted = _guid(order_id)
        with self.lock:
            return [dict(o) for o in self._orders if _guid(o.get("OrderID")) == wanted]

    def order_count(self, order_id: str) -> int:
        return len(self.orders_for(order_id))

    def expire_tokens(self) -> None:
        """Every issued token stops working, as after its lifetime."""
        with self.lock:
            self._tokens.clear()

    # -- the API ------------------------------------------------------------------------
    def authenticate(self, request: EmuRequest) -> bool:
        if request.path.rstrip("/").lower() == self.token_path:
            return True  # the token endpoint checks the client credentials itself
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            with self.lock:
                expires = self._tokens.get(value)
            return expires is not None and time.monotonic() < expires
        if scheme.lower() == "basic":
            return _basic(value) == (self.basic_user, self.basic_password)
        return not header and self.allow_anonymous

    def handle(self, request: EmuRequest) -> EmuResponse:
        if request.path.rstrip("/").lower() == self.token_path and request.method == "POST":
            return self._token(request)
        match = _ORDERS.match(request.path)
        if match is None or match["version"] not in self.versions:
            return EmuResponse.json(404, {"Message": f"No HTTP resource was found that matches the request URI "
                                                     f"'{self.base_url}{request.path}'."})
        if request.method == "GET":
            return self._lookup(request)
        if request.method == "POST":
            return self._create(request)
        return EmuResponse.json(405, {"Message": f"The requested resource does not support http method "
                                                 f"'{request.method}'."})

    def _token(self, request: EmuRequest) -> EmuResponse:
        form = {k: v[0] for k, v in parse_qs(request.body.decode("utf-8", "replace")).items()}
        client = (form.get("client_id"), form.get("client_secret"))
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "basic":
            client = _basic(value)
        if form.get("grant_type") != "client_credentials":
            return EmuResponse.json(400, {"error": "unsupported_grant_type"})
        if client != (self.client_id, self.client_secret):
            return EmuResponse.json(400, {"error": "invalid_client",
                                          "error_description": "The client id or client secret is incorrect."})
        token = secrets.token_urlsafe(32)
        with self.lock:
            self._tokens[token] = time.monotonic() + self.token_lifetime
            self.tokens_issued += 1
        return EmuResponse.json(200, {"access_token": token, "token_type": "bearer",
                                      "expires_in": self.token_lifetime})

    def _lookup(self, request: EmuRequest) -> EmuResponse:
        query = request.param("$filter")
        with self.lock:
            orders = [dict(o) for o in self._orders]
        if query is not None:
            match = _FILTER.match(query)
            if match is None or _guid(match["guid"]) is None:
                return EmuResponse.json(400, {"Message": "The query specified in the URI is not valid. "
                                                         "Only $filter=OrderID eq '<guid>' is supported."})
            orders = [o for o in orders if _guid(o.get("OrderID")) == _guid(match["guid"])]
        self.record(request, "Orders-lookup", None)
        return EmuResponse.json(200, {"Results": orders})

    def _create(self, request: EmuRequest) -> EmuResponse:
        try:
            # Amounts exact (as StyleMan's decimal fields read them) for what is stored and checked ...
            body = json.loads(request.body.decode("utf-8"), parse_float=Decimal)
            # ... and as plain JSON numbers for the reply and the file on disk.
            echoed = request.json()
        except ValueError as exc:
            return _invalid({"salesOrder": [f"The request body is not JSON: {exc}"]})
        wrapped = isinstance(body, dict) and "Results" in body
        if self.request_shape != "either" and wrapped != (self.request_shape == "wrapped"):
            expected = "a bare SalesOrder" if self.request_shape == "plain" else "a SalesOrder inside Results"
            return _invalid({"salesOrder": [f"The request does not have the expected shape: {expected}."]})
        order = _unwrap(body) if wrapped else body
        if not isinstance(order, dict):
            return _invalid({"salesOrder": ["A SalesOrder object is required."]})
        problems = _validate(order)
        if problems:
            return _invalid(problems)
        with self.lock:
            number = str(self._next_number)
            self._next_number += 1
            self._orders.append({**order, "Number": number})
            without_number = self.reply_without_number > 0
            if without_number:
                self.reply_without_number -= 1
        self.record(request, f"Orders-{order['OrderID']}", echoed)
        reply = dict(_unwrap(echoed) if wrapped else echoed)
        if not without_number:
            reply["Number"] = number
        return EmuResponse.json(201, {"Results": [{"Results": [reply]}]} if wrapped else reply, stored=True)


def _unwrap(body: dict[str, Any]) -> Any:
    outer = body.get("Results")
    if not (isinstance(outer, list) and len(outer) == 1 and isinstance(outer[0], dict)):
        return None
    inner = outer[0].get("Results")
    return inner[0] if isinstance(inner, list) and len(inner) == 1 else None


def _validate(order: dict[str, Any]) -> dict[str, list[str]]:
    """What ASP.NET model binding and StyleMan's own checks would refuse, keyed like ModelState."""
    problems: dict[str, list[str]] = {}

    def problem(key: str, message: str) -> None:
        problems.setdefault(f"salesOrder.{key}", []).append(message)

    for field in ("OrderID", "CustomerGUID"):
        if _guid(order.get(field)) is None:
            problem(field, f"The {field} field is required and must be a GUID.")
    for field in ("OrderNumber", "CustomerCode"):
        if not isinstance(order.get(field), str) or not order[field].strip():
            problem(field, f"The {field} field is required.")
    if order.get("IsOpen") is not True:
        problem("IsOpen", "New orders must be open.")
    for field in ("SubTotal", "Total", "VatTotal"):
        if not _is_number(order.get(field)):
            problem(field, f"The {field} field must be a number.")
    if "DeliveryAddressID" in order and _guid(order["DeliveryAddressID"]) is None:
        problem("DeliveryAddressID", "The DeliveryAddressID field must be a GUID.")
    lines = order.get("Lines")
    if not isinstance(lines, list) or not lines:
        problem("Lines", "An order needs at least one line.")
        return problems
    for index, line in enumerate(lines):
        where = f"Lines[{index}]"
        if not isinstance(line, dict):
            problem(where, "A line must be an object.")
            continue
        if _guid(line.get("ID")) is None:
            problem(f"{where}.ID", "The ID field is required and must be a GUID.")
        if not isinstance(line.get("ItemCode"), str) or not line["ItemCode"].strip():
            problem(f"{where}.ItemCode", "The ItemCode field is required.")
        quantity = line.get("Quantity")
        if not _is_number(quantity):
            problem(f"{where}.Quantity", "The Quantity field must be a number.")
        elif Decimal(str(quantity)) <= 0:
            problem(f"{where}.Quantity", "Quantity must be greater than 0.")
        for field in ("PriceExcl", "PriceIncl", "VatPercentage", "Discount", "TotalDiscount"):
            if not _is_number(line.get(field)):
                problem(f"{where}.{field}", f"The {field} field must be a number.")
        if not isinstance(line.get("LineNumber"), int) or isinstance(line.get("LineNumber"), bool):
            problem(f"{where}.LineNumber", "The LineNumber field must be a whole number.")
    return problems


def _invalid(model_state: dict[str, list[str]]) -> EmuResponse:
    return EmuResponse.json(400, {"Message": INVALID, "ModelState": model_state})


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool)


def _guid(value: Any) -> str | None:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


def _basic(value: str) -> tuple[str, str] | None:
    try:
        user, _, password = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
    except ValueError:
        return None
    return user, password
