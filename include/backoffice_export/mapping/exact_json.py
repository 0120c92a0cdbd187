"""JSON request bodies whose amounts stay exact ``Decimal`` numbers.

ERP APIs read JSON numbers as .NET ``decimal``; a ``float`` can change an amount and turns
``12.50`` into ``12.5``. ``simplejson`` writes a ``Decimal`` as the number text it holds
(``12.50`` stays ``12.50``, never an exponent); a ``float`` anywhere in a body is refused.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import simplejson

CONTENT_TYPE = "application/json; charset=utf-8"


def dumps(value: Any, *, indent: int | None = None) -> bytes:
    """``value`` as UTF-8 JSON; ``indent`` pretty-prints files people read (golden files)."""
    _refuse_floats(value)
    text = simplejson.dumps(value, ensure_ascii=False, indent=indent, use_decimal=False, default=_decimal,
                            separators=(",", ": ") if indent is not None else None)
    return text.encode("utf-8")


def _decimal(value: Any) -> simplejson.RawJSON:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} has no JSON number form")
        return simplejson.RawJSON(format(value, "f"))
    raise TypeError(f"{type(value).__name__} has no JSON form")


def _refuse_floats(value: Any) -> None:
    if isinstance(value, float):
        raise TypeError("a float reached a JSON body: amounts must be Decimal")
    if isinstance(value, dict):
        for item in value.values():
            _refuse_floats(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _refuse_floats(item)
