"""JSON request bodies whose amounts stay exact ``Decimal`` numbers.

The standard ``json`` module (and ``requests``' ``json=``) refuses ``Decimal``, and the usual
work-around, converting to ``float``, can change an amount (``0.1 + 0.2``) and turns ``12.50``
into ``12.5``. ERP APIs read JSON numbers as .NET ``decimal``; this writes a ``Decimal`` as the
number text it holds (``12.50`` stays ``12.50``, never an exponent), and everything else as the
standard module would. Send the bytes as the body with ``Content-Type: application/json``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

CONTENT_TYPE = "application/json; charset=utf-8"


def dumps(value: Any, *, indent: int | None = None) -> bytes:
    """``value`` as UTF-8 JSON; ``Decimal`` becomes a plain JSON number.

    ``indent`` pretty-prints (for files people read, such as golden files); the wire form is compact.
    """
    return "".join(_encode(value, indent, 0)).encode("utf-8")


def _encode(value: Any, indent: int | None, depth: int) -> list[str]:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} has no JSON number form")
        return [format(value, "f")]
    if isinstance(value, Mapping):
        items = []
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be text, not {type(key).__name__}")
            items.append([json.dumps(key, ensure_ascii=False), ": ", *_encode(item, indent, depth + 1)])
        return _container("{", items, "}", indent, depth)
    if isinstance(value, (list, tuple)):
        return _container("[", [_encode(item, indent, depth + 1) for item in value], "]", indent, depth)
    if isinstance(value, float):
        raise TypeError("a float reached a JSON body: amounts must be Decimal")
    return [json.dumps(value, ensure_ascii=False)]


def _container(opening: str, items: list[list[str]], closing: str, indent: int | None, depth: int) -> list[str]:
    if not items:
        return [opening, closing]
    if indent is None:
        separator, start, end = ", ", "", ""
    else:
        inner, outer = "\n" + " " * indent * (depth + 1), "\n" + " " * indent * depth
        separator, start, end = "," + inner, inner, outer
    parts = [opening, start]
    for index, item in enumerate(items):
        parts.extend([separator if index else "", *item])
    return [*parts, end, closing]
