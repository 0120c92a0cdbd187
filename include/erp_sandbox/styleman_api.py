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
- What it refuses besides: GUIDs, numbers and dates that do not bind to their .NET types, text
  with half a UTF-16 surrogate pair, a line number or line ID that repeats, a ``Total`` that is
  not ``SubTotal + VatTotal`` (to the cent; the seed puts surcharges in the header totals, so
  they need not add up to the lines), and a customer in ``unknown_customers``.
- ``GET /api/{version}/Orders?$filter=<Field> eq <value> [and ...]``: the OData look-up on any
  top-level field of the order (``OrderID eq 'guid'``, ``OrderNumber eq 'A4S-1'``,
  ``CustomerCode eq 'C1' and Reference eq 'R'``), answering the stored orders in full,
  ``{"Results": [...]}``.
- An unknown version or path: ``404 {"Message": "No HTTP resource was found ..."}``.

Orders and the number counter are kept in a journal under ``<root>/styleman/`` and survive a
restart; accepted order and look-up requests are recorded there too (bodies only); token
requests never are, since their body is the client secret. Faults: the base class's ``faults``
plus ``reply_without_number`` (store the order, but leave ``Number`` out of the reply).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
import uuid
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from erp_sandbox.http_emulator import EmulatedApi, EmuRequest, EmuResponse, has_lone_surrogate

_ORDERS = re.compile(r"^/api/(?P<version>[^/]+)/orders/?$", re.IGNORECASE)
# One OData comparison: ``Field eq 'text'`` (quote doubled inside), ``guid'..'``, a number, true/false/null.
_CONDITION = re.compile(r"\s*(?P<field>[A-Za-z_][A-Za-z0-9_]*)\s+eq\s+(?P<value>guid'[^']*'|'(?:[^']|'')*'"
                        r"|-?[0-9]+(?:\.[0-9]+)?|true|false|null)\s*")
GUID_FIELDS = ("OrderID", "CustomerGUID", "DeliveryAddressID")
# The SalesOrder's top-level properties a $filter may name (the seed's header fields, and Number).
FILTERABLE = frozenset({
    "OrderID", "Number", "OrderNumber", "CustomerGUID", "CustomerCode", "Created", "OrderDate", "IsOpen", "Notes",
    "Description1", "Description2", "Description3", "Reference", "SubTotal", "Total", "VatTotal", "YourReference",
    "Username", "Warehouse", "Signature", "DeliveryMethodCode", "OrderType", "DeliveryAddressID"})
INVALID = "The request is invalid."
FIRST_NUMBER = 100001


class Api(EmulatedApi):
    name = "styleman"
    token_path = "/token"  # noqa: S105 - a URL path, not a secret

    def __init__(self, root: Path, port: int = 0) -> None:
        super().__init__(root, port)
        self.client_id = f"a4s-{secrets.token_hex(6)}"
        self.client_secret = secrets.token_urlsafe(24)
        self.basic_user = "app4sales"
        self.basic_password = secrets.token_urlsafe(24)
        self.versions = {"v1", "v2"}
        self.token_lifetime = 3600
        self._orders: list[dict[str, Any]] = [entry["order"] for entry in self.journal_entries()]
        self._next_number = max((int(o["Number"]) + 1 for o in self._orders), default=FIRST_NUMBER)
        self._tokens: dict[str, float] = {}
        self.unknown_customers: set[str] = set()  # CustomerCodes StyleMan does not have: refused
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
            try:
                conditions = _conditions(query)
            except ValueError as exc:
                return EmuResponse.json(400, {"Message": f"The query specified in the URI is not valid. {exc}"})
            orders = [o for o in orders if all(_equal(o, name, value) for name, value in conditions)]
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
        if order["CustomerCode"] in self.unknown_customers:
            return _invalid({"salesOrder.CustomerCode": [f"Customer {order['CustomerCode']} does not exist."]})
        with self.lock:
            number = str(self._next_number)
            self._next_number += 1
            self._orders.append({**order, "Number": number})
            self.journal({"order": self._orders[-1]})
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
    if "DeliveryAddressID" in order and order["DeliveryAddressID"] is not None \
            and _guid(order["DeliveryAddressID"]) is None:
        problem("DeliveryAddressID", "The DeliveryAddressID field must be a GUID.")
    if not problems and abs(order["SubTotal"] + order["VatTotal"] - order["Total"]) > Decimal("0.01"):
        problem("Total", f"Total {order['Total']} is not SubTotal {order['SubTotal']} + VatTotal {order['VatTotal']}.")
    for field in ("Created", "OrderDate"):
        if order.get(field) is not None and not _is_datetime(order[field]):
            problem(field, f"The {field} field must be a date and time.")
    for key, text in _texts(order, "salesOrder"):
        if has_lone_surrogate(text):
            problems.setdefault(key, []).append("The text holds half a UTF-16 surrogate pair.")
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
        elif line["LineNumber"] in {other.get("LineNumber") for other in lines[:index] if isinstance(other, dict)}:
            problem(f"{where}.LineNumber", f"Line number {line['LineNumber']} occurs twice.")
        if _guid(line.get("ID")) is not None and _guid(line["ID"]) in {
                _guid(other.get("ID")) for other in lines[:index] if isinstance(other, dict)}:
            problem(f"{where}.ID", "The line ID occurs twice.")
        if line.get("DeliveryDate") is not None and not _is_datetime(line["DeliveryDate"]):
            problem(f"{where}.DeliveryDate", "The DeliveryDate field must be a date and time.")
    return problems


def _texts(value: Any, key: str) -> list[tuple[str, str]]:
    """Every text in ``value`` with its ModelState key."""
    if isinstance(value, str):
        return [(key, value)]
    if isinstance(value, dict):
        return [t for name, item in value.items() for t in _texts(item, f"{key}.{name}")]
    if isinstance(value, list):
        return [t for index, item in enumerate(value) for t in _texts(item, f"{key}[{index}]")]
    return []


def _is_datetime(value: Any) -> bool:
    try:
        return isinstance(value, str) and datetime.fromisoformat(value) is not None
    except ValueError:
        return False


def _conditions(query: str) -> list[tuple[str, Any]]:
    """``[(field, value)]`` of a ``$filter`` of ``eq`` comparisons joined by ``and``; ValueError otherwise."""
    parts = re.split(r"\s+and\s+", query.strip())
    conditions: list[tuple[str, Any]] = []
    for part in parts:
        match = _CONDITION.fullmatch(part)
        if match is None:
            raise ValueError(f"Only comparisons 'Field eq value' joined by 'and' are supported, not {part!r}.")
        if match["field"] not in FILTERABLE:
            raise ValueError(f"Could not find a property named '{match['field']}' on type 'SalesOrder'.")
        literal = match["value"]
        if literal.startswith("guid'") or literal.startswith("'"):
            value: Any = literal.removeprefix("guid")[1:-1].replace("''", "'")
        elif literal in ("true", "false", "null"):
            value = {"true": True, "false": False, "null": None}[literal]
        else:
            value = Decimal(literal)
        if match["field"] in GUID_FIELDS and value is not None and _guid(value) is None:
            raise ValueError(f"{value!r} is not a GUID literal for {match['field']}.")
        conditions.append((match["field"], value))
    return conditions


def _equal(order: dict[str, Any], name: str, wanted: Any) -> bool:
    stored = order.get(name)
    if name in GUID_FIELDS and wanted is not None:
        return _guid(stored) == _guid(wanted)
    if isinstance(wanted, Decimal):
        return _is_number(stored) and Decimal(stored) == wanted
    return stored == wanted


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
