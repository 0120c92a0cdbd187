"""Visma AccountView's REST API (v3), emulated on loopback for the tests and the demo.

What it does, as the connector meets the real one (``shared/notes/erp-wire-formats.md``):

- ``POST /api/v3/token``: OAuth2 ``grant_type=refresh_token`` with ``client_id``,
  ``client_secret`` and ``refresh_token`` form fields; answers ``{"access_token", "token_type":
  "bearer", "expires_in", "refresh_token"}``, or ``400 {"error": "invalid_grant"}`` /
  ``401 {"error": "invalid_client"}``. Token requests are never recorded (their body is secret).
- Every other call needs ``Authorization: Bearer <token>`` (else 401) and ``x-company: <company
  id>`` (missing: 400, another company: 403, in AccountView's error shape).
- ``POST /api/v3/accountviewdata``: a business-object envelope, checked like the real API: the
  business object (``SO1`` only), the definitions (``SO_HDR`` with at most one ``SO_LINE``
  detail), every field known to this company's ``SO_HDR`` / ``SO_LINE`` (custom fields in
  ``custom_fields``) and declared with its FieldType, every row's values positional with one
  value per defined field and of that type, one header row, lines pointing at it (``HeaderId``),
  a debtor (``rpl_inv``), an item code and one quantity field per line. Stores the order under
  the next ``ORD_NR`` and answers ``{"SO_HDR": [{"RowId", "ORD_NR"}], "SO_LINE": [...]}``.
- ``PUT /api/v3/accountviewdata``: the same envelope whose header row carries the order key
  ``ORD_NR``: adds its ``SO_LINE`` rows to that order (unknown order, or a line RowId the order
  already has: 400, nothing stored).
- Also refused: text (C, M) that AccountView's Visual FoxPro tables cannot keep as is (outside
  Windows-1252), a debtor in ``unknown_debtors``, an item in ``unknown_items``.
- ``GET /api/v3/accountviewdata?BusinessObject=SO1&FilterControlSource1=..&FilterOperator1=
  Equal|NotEqual|Contains&FilterValueType1=..&FilterValue1=..`` (more filters numbered 2, 3 ...,
  ``PageSize``, ``PageNumber``): matching headers under ``SO_HDR`` and their lines under
  ``SO_LINE``, every row with its ``ORD_NR``; field names upper case, as AccountView answers.
- Every refusal: ``{"ErrorType": "AccountViewError", "ErrorNumbers": null, "ErrorMessage": ...}``.

Orders and the ``ORD_NR`` counter are kept in a journal under ``<root>/accountview/`` and survive
a restart; accepted writes are recorded there too (the envelope, never headers).
Faults: the base class's ``faults``, plus ``fail_writes`` (refuse chosen later writes with a
status, before storing), ``lose_write_replies`` (store chosen later writes, then hang up),
``fail_reads`` (answer the next reads with 503), ``reply_without_number`` (store, but leave
``ORD_NR`` out of the reply), ``expire_tokens`` (every issued token stops working) and
``rotate_refresh_token`` (every token answer retires the refresh token for a new one). Tests
read the ERP's state with ``order_count(reference)``, ``orders()``, ``header(nr)``,
``lines(nr)``, ``line_count(nr)`` and ``attachment(nr)``, and remove an order with ``delete_order(nr)``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from erp_sandbox.http_emulator import EmulatedApi, EmuRequest, EmuResponse

DATA_PATH = "/api/v3/accountviewdata"
TOKEN_PATH = "/api/v3/token"  # noqa: S105 - a URL path, not a secret

# This company's sales-order tables: field name (upper case; AccountView ignores case) -> FieldType.
SO_HDR = {
    "ROWID": "C", "ORD_NR": "C", "RPL_INV": "C", "RPL_DEL": "C", "EMP_NR": "C", "ORD_DATE": "T",
    "DEL_DATE": "D", "COMMENT1": "C", "COMMENT2": "M", "COMMENT3": "C", "ADDRESS1": "C", "POST_CODE": "C",
    "CITY": "C", "CNT_CODE": "C", "ORD_EXPN": "C", "SHIP_MTH": "C", "ACCT_NAME": "C",
    "ORDER_TYPE": "L", "X11_CHK_DS": "L", "LINK_FILE": "C", "DOC_DESC": "C", "FILE_DATA": "M",
}
SO_LINE = {
    "ROWID": "C", "HEADERID": "C", "ART_CODE": "C", "ORD_QTY": "N", "ORD_QTYU": "N", "SIZE": "C",
    "DISC_PCT": "N", "ART_PX": "N", "ART_DESC1": "C",
}
FIELD_TYPES = set("CLNDTIYBM")
FIRST_NUMBER = 10001
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")


class Refused(Exception):
    """A request AccountView would refuse; the message is its ``ErrorMessage``."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def av_error(status: int, message: str) -> EmuResponse:
    return EmuResponse.json(status, {"ErrorType": "AccountViewError", "ErrorNumbers": None, "ErrorMessage": message})


class Api(EmulatedApi):
    name = "accountview"

    def __init__(self, root: Path, port: int = 0) -> None:
        super().__init__(root, port)
        self.client_id = f"a4s-{secrets.token_hex(6)}"
        self.client_secret = secrets.token_urlsafe(24)
        self.refresh_token = secrets.token_urlsafe(32)
        self.company_id = secrets.token_hex(8).upper()
        self.custom_fields: dict[str, str] = {"X11_A4S_REF": "C"}
        self.token_lifetime = 3600
        self._orders: dict[str, dict[str, Any]] = {}
        self._next_number = FIRST_NUMBER
        for entry in self.journal_entries():
            self._apply(entry)
        self.unknown_debtors: set[str] = set()  # debtor codes this administration does not have: refused
        self.unknown_items: set[str] = set()  # item codes it does not have: refused
        self._tokens: set[str] = set()
        self._issued: set[str] = set()
        self.reset()

    def reset(self) -> None:
        """Faults back off (stored orders and issued tokens stay)."""
        with self.lock:
            self.faults.reset()
            self.reply_without_number = 0
            self.fail_reads = 0  # answer the next N reads (GET accountviewdata) with 503
            self.rotate_refresh_token = False  # each token answer brings a new refresh token, retiring the old
            self._write_fault: dict[str, Any] | None = None

    # -- for tests ----------------------------------------------------------------------
    def airflow_connection(self) -> dict[str, Any]:
        """A connection in ``AIRFLOW_CONN_<ID>`` form: this API's client, refresh token and company."""
        return {"conn_type": "http", "host": "127.0.0.1", "port": self.port, "schema": "http",
                "login": self.client_id, "password": self.client_secret,
                "extra": {"refresh_token": self.refresh_token, "x-company": self.company_id, "timeout": 10}}

    def fail_writes(self, *, times: int = 1, after: int = 0, status: int = 503,
                    message: str = "The AccountView service is temporarily unavailable") -> None:
        """Let ``after`` more POST/PUT writes through, then refuse the ``times`` after them (nothing stored)."""
        with self.lock:
            self._write_fault = {"kind": "refuse", "after": after, "times": times, "status": status,
                                 "message": message}

    def lose_write_replies(self, *, times: int = 1, after: int = 0) -> None:
        """Let ``after`` more writes through, then store the ``times`` after them but never answer."""
        with self.lock:
            self._write_fault = {"kind": "lose_reply", "after": after, "times": times}

    def expire_tokens(self) -> None:
        with self.lock:
            self._tokens.clear()

    def tokens_issued(self) -> list[str]:
        """Every access and refresh token handed out (tests look for them where secrets must not be)."""
        with self.lock:
            return sorted(self._issued)

    def orders(self) -> list[dict[str, Any]]:
        with self.lock:
            return [{"header": dict(o["header"]), "lines": [dict(line) for line in o["lines"]]}
                    for o in self._orders.values()]

    def order_count(self, reference: str) -> int:
        """How many orders carry this App4Sales reference (in ``comment3`` or a custom field)."""
        fields = {"COMMENT3", *self.custom_fields}
        with self.lock:
            return sum(1 for o in self._orders.values()
                       if any(o["header"].get(f) == reference for f in fields))

    def numbers_for(self, reference: str) -> list[str]:
        fields = {"COMMENT3", *self.custom_fields}
        with self.lock:
            return [nr for nr, o in self._orders.items() if any(o["header"].get(f) == reference for f in fields)]

    def header(self, order_nr: str) -> dict[str, Any]:
        with self.lock:
            return dict(self._orders[order_nr]["header"])

    def lines(self, order_nr: str) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(line) for line in self._orders[order_nr]["lines"]]

    def line_count(self, order_nr: str) -> int:
        with self.lock:
            return len(self._orders[order_nr]["lines"]) if order_nr in self._orders else 0

    def delete_order(self, order_nr: str) -> None:
        """Remove a sales order, as a user deleting it in AccountView does (tests of what follows)."""
        with self.lock:
            entry = {"op": "delete", "number": order_nr}
            self._apply(entry)
            self.journal(entry)

    def attachment(self, order_nr: str) -> bytes | None:
        data = self.header(order_nr).get("FILE_DATA")
        return None if data is None else decode_attachment(data)

    # -- the API ------------------------------------------------------------------------
    def authenticate(self, request: EmuRequest) -> bool:
        if request.path.rstrip("/").lower() == TOKEN_PATH:
            return True  # the token endpoint checks the client itself
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        with self.lock:
            return scheme.lower() == "bearer" and token in self._tokens

    def handle(self, request: EmuRequest) -> EmuResponse:
        path = request.path.rstrip("/").lower()
        if path == TOKEN_PATH:
            return self._token(request) if request.method == "POST" else av_error(405, "Use POST for the token")
        if path != DATA_PATH:
            return av_error(404, f"No resource {request.path}")
        company = request.headers.get("x-company")
        if not company:
            return av_error(400, "The x-company header is missing")
        if company != self.company_id:
            return av_error(403, f"No access to company {company}")
        try:
            if request.method == "GET":
                return self._read(request)
            if request.method in ("POST", "PUT"):
                return self._store(request)
            return av_error(405, f"{request.method} is not supported on accountviewdata")
        except Refused as exc:
            return av_error(exc.status, str(exc))

    def _token(self, request: EmuRequest) -> EmuResponse:
        form = {k: v[0] for k, v in parse_qs(request.body.decode("utf-8", "replace")).items()}
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return EmuResponse.json(401, {"error": "invalid_client"})
        if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != self.refresh_token:
            return EmuResponse.json(400, {"error": "invalid_grant"})
        token = secrets.token_urlsafe(32)
        with self.lock:
            self._tokens.add(token)
            self._issued.add(token)
            if self.rotate_refresh_token:
                self.refresh_token = secrets.token_urlsafe(32)
                self._issued.add(self.refresh_token)
            refresh_token = self.refresh_token
        return EmuResponse.json(200, {"access_token": token, "token_type": "bearer",
                                      "expires_in": self.token_lifetime, "refresh_token": refresh_token})

    # -- writes -------------------------------------------------------------------------
    def _store(self, request: EmuRequest) -> EmuResponse:
        if not request.headers.get("content-type", "").lower().startswith("application/json"):
            raise Refused("The request body must be application/json", 415)
        fault = self._take_write_fault()
        if fault is not None and fault["kind"] == "refuse":
            if fault["status"] >= 500:
                return EmuResponse.json(fault["status"], {"Message": fault["message"]})
            return av_error(fault["status"], fault["message"])
        try:
            body = json.loads(request.body.decode("utf-8"), parse_float=Decimal)
        except (UnicodeDecodeError, ValueError):
            raise Refused("The request body is not valid JSON") from None
        header, lines = self._envelope(body)
        with self.lock:
            if request.method == "POST":
                if header.get("ORD_NR"):
                    raise Refused("ORD_NR is assigned by AccountView; leave it out when inserting")
                if not str(header.get("RPL_INV") or "").strip():
                    raise Refused("SO_HDR: a debtor (rpl_inv) is required")
                number = str(self._next_number)
            else:
                number = str(header.get("ORD_NR") or "")
                if number not in self._orders:
                    raise Refused(f"Sales order {number or '(no ORD_NR)'} does not exist")
                held = {line.get("ROWID") for line in self._orders[number]["lines"]}
                repeated = sorted(str(line["ROWID"]) for line in lines if line["ROWID"] in held)
                if repeated:
                    raise Refused(f"SO_LINE: RowId {', '.join(repeated)} already exists in sales order {number}")
            for debtor in {header.get("RPL_INV"), header.get("RPL_DEL")} & self.unknown_debtors:
                raise Refused(f"Debtor {debtor} does not exist")
            for line in lines:
                if line["ART_CODE"] in self.unknown_items:
                    raise Refused(f"SO_LINE row {line['ROWID']}: item {line['ART_CODE']} does not exist")
            entry = {"op": "insert" if request.method == "POST" else "update", "number": number,
                     "header": header, "lines": lines}
            self._apply(entry)
            self.journal(entry)
            without_number = self.reply_without_number > 0
            if without_number:
                self.reply_without_number -= 1
        # Kept as received: JSON numbers stay numbers (a float shows a JSON number's text unchanged).
        self.record(request, f"SO1-{number}", json.loads(request.body.decode("utf-8")))
        if fault is not None:  # "lose_reply": stored; the base class hangs up instead of answering
            with self.lock:
                self.faults.lose_reply_after_store += 1
        head = {"RowId": header.get("ROWID")} if without_number else {"RowId": header.get("ROWID"), "ORD_NR": number}
        return EmuResponse.json(200, {"SO_HDR": [head],
                                      "SO_LINE": [{"RowId": line.get("ROWID"), "ORD_NR": number} for line in lines]},
                                stored=True)

    def _apply(self, entry: dict[str, Any]) -> None:
        """One insert or update of a sales order, as received now or replayed from the journal."""
        number = entry["number"]
        if entry["op"] == "delete":
            del self._orders[number]  # its number is not issued again: the counter stays
            return
        if entry["op"] == "insert":
            self._orders[number] = {"header": {**entry["header"], "ORD_NR": number}, "lines": []}
            self._next_number = max(self._next_number, int(number) + 1)
        else:
            self._orders[number]["header"].update({k: v for k, v in entry["header"].items() if k != "ROWID"})
        order = self._orders[number]
        for line in entry["lines"]:
            order["lines"].append({**line, "ORD_NR": number, "LINE_NR": len(order["lines"]) + 1})

    def _take_write_fault(self) -> dict[str, Any] | None:
        with self.lock:
            fault = self._write_fault
            if fault is None:
                return None
            if fault["after"] > 0:
                fault["after"] -= 1
                return None
            fault["times"] -= 1
            if fault["times"] <= 0:
                self._write_fault = None
            return fault

    def _envelope(self, body: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The header and lines of a valid envelope, field names upper case; ``Refused`` otherwise."""
        if not isinstance(body, dict):
            raise Refused("The request body must be a business-object envelope")
        if body.get("BusinessObject") != "SO1":
            raise Refused(f"Business object {body.get('BusinessObject')!r} is not available; use SO1")
        table, data = body.get("Table"), body.get("TableData")
        if not isinstance(table, dict) or not isinstance(data, dict):
            raise Refused("The envelope needs Table and TableData")
        header_fields = self._definition(table.get("Definition"), "SO_HDR", {**SO_HDR, **self.custom_fields})
        header_rows = self._rows(data.get("Data"), "SO_HDR", header_fields)
        if len(header_rows) != 1:
            raise Refused(f"SO_HDR: exactly one row expected, got {len(header_rows)}")
        header = header_rows[0]
        if "FILE_DATA" in header:
            try:
                decode_attachment(header["FILE_DATA"])
            except ValueError as exc:
                raise Refused(f"SO_HDR: {exc}") from None
        details, detail_data = table.get("DetailDefinitions") or [], data.get("DetailData") or []
        if not isinstance(details, list) or not isinstance(detail_data, list) or len(details) > 1 \
                or len(detail_data) != len(details):
            raise Refused("SO1 has one detail table, SO_LINE, with one DetailData entry")
        lines: list[dict[str, Any]] = []
        if details:
            line_fields = self._definition(details[0], "SO_LINE", SO_LINE)
            lines = self._rows(detail_data[0], "SO_LINE", line_fields)
            for name in ("ROWID", "HEADERID", "ART_CODE"):
                if name not in dict(line_fields):
                    raise Refused(f"SO_LINE: field {name} is required")
            quantities = [q for q in ("ORD_QTY", "ORD_QTYU") if q in dict(line_fields)]
            if len(quantities) != 1:
                raise Refused("SO_LINE: give the quantity in exactly one of ord_qty and ord_qtyu")
            row_ids = [line["ROWID"] for line in lines]
            if len(set(row_ids)) != len(row_ids):
                raise Refused("SO_LINE: a RowId occurs twice")
            for line in lines:
                if line["HEADERID"] != header.get("ROWID"):
                    raise Refused(f"SO_LINE row {line['ROWID']}: HeaderId {line['HEADERID']} is not the header's RowId")
                if not str(line["ART_CODE"]).strip():
                    raise Refused(f"SO_LINE row {line['ROWID']}: an item code (art_code) is required")
        return header, lines

    @staticmethod
    def _definition(definition: Any, name: str, known: dict[str, str]) -> list[tuple[str, str]]:
        if not isinstance(definition, dict) or str(definition.get("Name", "")).upper() != name:
            raise Refused(f"Definition {name} expected")
        fields = definition.get("Fields")
        if not isinstance(fields, list) or not fields:
            raise Refused(f"{name}: the definition has no fields")
        out: list[tuple[str, str]] = []
        for field in fields:
            if not isinstance(field, dict):
                raise Refused(f"{name}: every field needs a Name and a FieldType")
            field_name, field_type = str(field.get("Name", "")).upper(), field.get("FieldType")
            if field_type not in FIELD_TYPES:
                raise Refused(f"{name}.{field_name}: unknown FieldType {field_type!r}")
            if field_name not in known:
                raise Refused(f"{name}: unknown field {field.get('Name')}")
            if known[field_name] != field_type:
                raise Refused(f"{name}.{field_name}: FieldType {field_type} does not match the field's type "
                              f"{known[field_name]}")
            if field_name in dict(out):
                raise Refused(f"{name}: field {field_name} is defined twice")
            out.append((field_name, field_type))
        return out

    @staticmethod
    def _rows(data: Any, name: str, fields: list[tuple[str, str]]) -> list[dict[str, Any]]:
        rows = data.get("Rows") if isinstance(data, dict) else None
        if not isinstance(rows, list):
            raise Refused(f"{name}: Rows expected")
        out = []
        for number, row in enumerate(rows, start=1):
            values = row.get("Values") if isinstance(row, dict) else None
            if not isinstance(values, list) or len(values) != len(fields):
                raise Refused(f"{name} row {number}: {len(values) if isinstance(values, list) else 'no'} values "
                              f"for {len(fields)} fields")
            for (field_name, field_type), value in zip(fields, values, strict=True):
                if not _fits(field_type, value):
                    raise Refused(f"{name} row {number}: value {value!r} of {field_name} is not of FieldType "
                                  f"{field_type}")
                if field_type in ("C", "M") and not _storable(value):
                    raise Refused(f"{name} row {number}: {field_name} holds a character AccountView's tables "
                                  f"cannot store (they keep text in Windows-1252)")
            out.append(dict(zip((f for f, _ in fields), values, strict=True)))
        return out

    # -- reads --------------------------------------------------------------------------
    def _read(self, request: EmuRequest) -> EmuResponse:
        with self.lock:
            failing = self.fail_reads > 0
            if failing:
                self.fail_reads -= 1
        if failing:
            return EmuResponse.json(503, {"Message": "The AccountView service is temporarily unavailable"})
        business_object = request.param("BusinessObject")
        if business_object != "SO1":
            raise Refused(f"Business object {business_object!r} is not available; use SO1")
        known = {**SO_HDR, **self.custom_fields}
        filters = []
        number = 1
        while request.param(f"FilterControlSource{number}") is not None:
            source = str(request.param(f"FilterControlSource{number}")).upper().removeprefix("SO_HDR.")
            operator = request.param(f"FilterOperator{number}") or "Equal"
            value_type = request.param(f"FilterValueType{number}") or "C"
            value = request.param(f"FilterValue{number}")
            if source not in known:
                raise Refused(f"Filter {number}: unknown field {source}")
            if operator not in ("Equal", "NotEqual", "Contains"):
                raise Refused(f"Filter {number}: operator {operator} is not supported")
            if value is None or value_type not in FIELD_TYPES:
                raise Refused(f"Filter {number}: FilterValue{number} and a FilterValueType are required")
            filters.append((source, operator, value_type, value))
            number += 1
        try:
            page_size = int(request.param("PageSize") or 100)
            page = int(request.param("PageNumber") or 1)
        except ValueError:
            raise Refused("PageSize and PageNumber are whole numbers") from None
        with self.lock:
            matches = [o for o in self._orders.values() if all(_matches(o["header"], f) for f in filters)]
            page_orders = matches[(page - 1) * page_size: page * page_size]
            return EmuResponse.json(200, {
                "SO_HDR": [dict(o["header"]) for o in page_orders],
                "SO_LINE": [dict(line) for o in page_orders for line in o["lines"]],
            })


def _fits(field_type: str, value: Any) -> bool:
    if field_type in ("C", "M"):
        return isinstance(value, str)
    if field_type == "L":
        return isinstance(value, bool)
    if field_type in ("N", "Y", "B"):
        return isinstance(value, (int, Decimal)) and not isinstance(value, bool)
    if field_type == "I":
        return isinstance(value, int) and not isinstance(value, bool)
    if not isinstance(value, str):
        return False
    try:
        if field_type == "D":
            return bool(_DATE.match(value)) and date.fromisoformat(value) is not None
        return bool(_DATETIME.match(value)) and datetime.fromisoformat(value) is not None
    except ValueError:
        return False


def _storable(text: str) -> bool:
    """Whether AccountView (a Visual FoxPro application, text in code page 1252) can keep ``text`` as is."""
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def _matches(header: dict[str, Any], condition: tuple[str, str, str, str]) -> bool:
    field, operator, value_type, wanted = condition
    stored = header.get(field)
    if value_type in ("N", "Y", "B", "I"):
        try:
            equal = stored is not None and Decimal(str(stored)) == Decimal(wanted)
        except InvalidOperation:
            raise Refused(f"FilterValue {wanted!r} is not a number") from None
        return equal if operator == "Equal" else not equal if operator == "NotEqual" else False
    if value_type == "L":
        equal = bool(stored) == (wanted.strip().lower() in ("true", "1", ".t."))
        return equal if operator == "Equal" else not equal if operator == "NotEqual" else False
    text = "" if stored is None else str(stored)
    if operator == "Contains":
        return wanted.lower() in text.lower()
    return (text == wanted) == (operator == "Equal")


def decode_attachment(text: str) -> bytes:
    """The bytes of a ``file_data`` value (base64), for tests that compare what arrived."""
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"file_data is not base64: {exc}") from exc
