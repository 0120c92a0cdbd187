"""AccountView's business-object envelope for sales orders (``SO1``), in one place.

The AccountView API takes a business object as a table *definition* (field names with their
FieldType) and *data* rows whose values are positional, in the order of the definition's
fields (``shared/notes/erp-wire-formats.md``)::

    {"BookDate": "2024-03-15T09:30:00", "BusinessObject": "SO1",
     "Table": {"Definition": {"Name": "SO_HDR", "Fields": [{"Name": "RowId", "FieldType": "C"}, ...]},
               "DetailDefinitions": [{"Name": "SO_LINE", "Fields": [...]}]},
     "TableData": {"Data": {"Rows": [{"Values": ["000001", ...]}]},
                   "DetailData": [{"Rows": [{"Values": ["000001", "000001", ...]}]}]}}

``POST /api/v3/accountviewdata`` inserts (the first batch: header and its lines), ``PUT`` the
same path updates: later batches name the order by its key ``ORD_NR`` and carry only further
``SO_LINE`` rows. ``GET`` with ``FilterControlSource<n>`` / ``FilterOperator<n>`` /
``FilterValueType<n>`` / ``FilterValue<n>`` reads orders back. Replies are objects keyed by
table name (``{"SO_HDR": [{"ORD_NR": ...}], "SO_LINE": [...]}``); errors are
``{"ErrorType": "AccountViewError", "ErrorNumbers": null, "ErrorMessage": "..."}``.

Every row is checked against its definition before it leaves: a value whose JSON type does not
fit its FieldType is a bug here, not an ERP refusal to find out about later.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

DATA_PATH = "api/v3/accountviewdata"
TOKEN_PATH = "api/v3/token"  # noqa: S105 (a URL path, not a secret)
BUSINESS_OBJECT = "SO1"
HEADER_TABLE, LINE_TABLE = "SO_HDR", "SO_LINE"
ORDER_KEY = "ORD_NR"
HEADER_ROW_ID = "000001"  # seed: RowId and HeaderId "hardcoded to 000001": one order per request


class FieldType(StrEnum):
    """AccountView's FieldType codes."""

    TEXT = "C"
    LOGICAL = "L"
    NUMERIC = "N"
    DATE = "D"
    DATETIME = "T"
    INTEGER = "I"
    CURRENCY = "Y"
    DOUBLE = "B"
    MEMO = "M"


C, L, N, D, T, M = FieldType.TEXT, FieldType.LOGICAL, FieldType.NUMERIC, FieldType.DATE, FieldType.DATETIME, \
    FieldType.MEMO

# The SO_HDR fields this connector writes, in the order it writes them (the seed's rows).
HEADER_FIELDS: dict[str, FieldType] = {
    "RowId": C, "rpl_inv": C, "rpl_del": C, "emp_nr": C, "ord_date": T, "del_date": D,
    "comment1": C, "comment2": M, "comment3": C, "address1": C, "post_code": C, "city": C, "cnt_code": C,
    "ord_expn": C, "ORDER_TYPE": L, "X11_CHK_DS": L, "ACCT_NAME": C, "SHIP_MTH": C,
    "link_file": C, "doc_desc": C, "file_data": M, ORDER_KEY: C,
}
CUSTOM_FIELD_TYPE = C  # MapOrderReferenceToCustomField: the order reference is text
LINE_FIELDS: dict[str, FieldType] = {
    "RowId": C, "HeaderId": C, "art_code": C, "ord_qty": N, "ord_qtyu": N, "size": C, "disc_pct": N,
    "art_px": N, "art_desc1": C,
}

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")


def date_value(value: date) -> str:
    """A ``D`` value: ``yyyy-MM-dd``."""
    return value.strftime("%Y-%m-%d")


def datetime_value(value: datetime) -> str:
    """A ``T`` value: ``yyyy-MM-ddTHH:mm:ss`` (local time, no zone, as AccountView shows it)."""
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def row_id(position: int) -> str:
    """``000001`` for the first row: the seed's six-digit RowId."""
    return f"{position:06d}"


@dataclass(frozen=True)
class Field:
    name: str
    type: FieldType

    def definition(self) -> dict[str, str]:
        return {"Name": self.name, "FieldType": self.type.value}


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _is_number(value: Any) -> bool:
    return isinstance(value, (Decimal, int)) and not isinstance(value, bool)


def _is_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_logical(value: Any) -> bool:
    return isinstance(value, bool)


def _is_date(value: Any) -> bool:
    return isinstance(value, str) and _DATE.match(value) is not None


def _is_datetime(value: Any) -> bool:
    return isinstance(value, str) and _DATETIME.match(value) is not None


# What each FieldType takes (JSON-wise).
_FITS: dict[FieldType, Callable[[Any], bool]] = {
    FieldType.TEXT: _is_text, FieldType.MEMO: _is_text, FieldType.LOGICAL: _is_logical,
    FieldType.NUMERIC: _is_number, FieldType.CURRENCY: _is_number, FieldType.DOUBLE: _is_number,
    FieldType.INTEGER: _is_integer, FieldType.DATE: _is_date, FieldType.DATETIME: _is_datetime,
}


def fits(field_type: FieldType, value: Any) -> bool:
    """Whether ``value`` is what AccountView expects in a field of this type (JSON-wise)."""
    return _FITS[field_type](value)


@dataclass(frozen=True)
class Table:
    """One table of the envelope: its definition and its positional rows."""

    name: str
    fields: tuple[Field, ...]
    rows: tuple[tuple[Any, ...], ...]

    def __post_init__(self) -> None:
        names = [f.name.upper() for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: a field is defined twice: {names}")
        checks = [(field, _FITS[field.type]) for field in self.fields]
        for row in self.rows:
            if len(row) != len(checks):
                raise ValueError(f"{self.name}: a row has {len(row)} values for {len(self.fields)} fields")
            for (field, check), value in zip(checks, row):  # noqa: B905 (lengths checked above)
                if not check(value):
                    raise ValueError(f"{self.name}.{field.name}: {value!r} is not a FieldType {field.type.value} "
                                     "value")

    def slice(self, start: int, stop: int) -> Table:
        """Some of the rows, as a table of their own (one batch)."""
        return replace(self, rows=self.rows[start:stop])

    def definition(self) -> dict[str, Any]:
        return {"Name": self.name, "Fields": [f.definition() for f in self.fields]}

    def data(self) -> dict[str, Any]:
        return {"Rows": [{"Values": list(row)} for row in self.rows]}

    def column(self, name: str) -> list[Any]:
        index = next(i for i, f in enumerate(self.fields) if f.name == name)
        return [row[index] for row in self.rows]


def table(name: str, pairs: Iterable[tuple[Field, Any]]) -> Table:
    """A one-row table from (field, value) pairs, in their order."""
    items = list(pairs)
    return Table(name, tuple(f for f, _ in items), (tuple(v for _, v in items),))


def _envelope(book_date: str, header: Table, lines: Table) -> dict[str, Any]:
    return {
        "BookDate": book_date,
        "BusinessObject": BUSINESS_OBJECT,
        "Table": {"Definition": header.definition(), "DetailDefinitions": [lines.definition()]},
        "TableData": {"Data": header.data(), "DetailData": [lines.data()]},
    }


def insert_body(book_date: str, header: Table, lines: Table) -> dict[str, Any]:
    """The POST that creates the order: its header and the first batch of lines."""
    return _envelope(book_date, header, lines)


def update_body(book_date: str, order_nr: str, lines: Table) -> dict[str, Any]:
    """The PUT that adds a later batch of lines to the order AccountView numbered ``order_nr``."""
    key = table(HEADER_TABLE, [(Field("RowId", C), HEADER_ROW_ID), (Field(ORDER_KEY, C), order_nr)])
    return _envelope(book_date, key, lines)


def lookup_params(filters: Sequence[tuple[str, FieldType, str]], *, page_size: int = 10,
                  operator: str = "Equal") -> dict[str, str]:
    """GET parameters selecting the sales orders whose fields equal the given values; with
    ``operator="Contains"`` the last filter matches a field that contains its value."""
    params = {"BusinessObject": BUSINESS_OBJECT, "PageSize": str(page_size)}
    for number, (name, field_type, value) in enumerate(filters, start=1):
        how = operator if number == len(filters) else "Equal"
        params.update({f"FilterControlSource{number}": name, f"FilterOperator{number}": how,
                       f"FilterValueType{number}": field_type.value, f"FilterValue{number}": value})
    return params


def _get(row: Mapping[str, Any], name: str) -> Any:
    """A field of a reply row; AccountView field names are not case-sensitive."""
    for key, value in row.items():
        if key.upper() == name.upper():
            return value
    return None


def rows_of(body: Any, table_name: str) -> list[Mapping[str, Any]]:
    """The rows a reply holds for one table (``[]`` when it holds none)."""
    if not isinstance(body, Mapping):
        return []
    rows = _get(body, table_name)
    return [r for r in rows if isinstance(r, Mapping)] if isinstance(rows, list) else []


def order_number(row: Mapping[str, Any]) -> str | None:
    value = _get(row, ORDER_KEY)
    text = "" if value is None or isinstance(value, bool) else str(value).strip()
    return text or None


def field_value(row: Mapping[str, Any], name: str) -> Any:
    return _get(row, name)


def error_message(body: Any) -> str | None:
    """AccountView's ``ErrorMessage``, when the reply is its error shape."""
    if isinstance(body, Mapping):
        message = _get(body, "ErrorMessage")
        if isinstance(message, str) and message.strip():
            return message.strip()
    return None
