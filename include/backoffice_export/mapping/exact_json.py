"""JSON request bodies whose amounts stay exact ``Decimal`` numbers.

The standard ``json`` module (and ``requests``' ``json=``) refuses ``Decimal``, and the usual
work-around, converting to ``float``, can change an amount (``0.1 + 0.2``) and turns ``12.50``
into ``12.5``. ERP APIs read JSON numbers as .NET ``decimal``; this writes a ``Decimal`` as the
number text it holds (``12.50`` stays ``12.50``, never an exponent), and everything else as the
standard module would. Send the bytes as the body with ``Content-Type: application/json``.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

CONTENT_TYPE = "application/json; charset=utf-8"


# A Decimal travels through the C encoder as a marked string, and the marks (with the quotes
# around them) are taken off afterwards: the number text comes out exactly as the Decimal holds it,
# at the speed of the standard encoder. NUL cannot occur in the marked text, only in the mark.
_MARK = "\x00dec\x00"
_MARKED = re.compile(r'"\\u0000dec\\u0000(-?[0-9]+(?:\.[0-9]+)?)\\u0000dec\\u0000"')


def dumps(value: Any, *, indent: int | None = None) -> bytes:
    """``value`` as UTF-8 JSON; ``Decimal`` becomes a plain JSON number, a ``float`` is refused.

    ``indent`` pretty-prints (for files people read, such as golden files); the wire form is compact.
    """
    text = json.dumps(value, ensure_ascii=False, indent=indent, default=_decimal)
    # Only a float leaves a number with a fraction or an exponent outside the strings (a Decimal is
    # still a marked string here). One scan of the text at C speed; walking the value in Python
    # to look for floats cost more than encoding it.
    if _FLOAT_NUMBER.search(_STRING.sub("", text)):
        raise TypeError("a float reached a JSON body: amounts must be Decimal")
    # split keeps the captured number between the pieces around each mark; joined, the marks and
    # their quotes are gone. (``sub`` with a group reference expands it in Python, per amount.)
    return "".join(_MARKED.split(text)).encode("utf-8")


_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')  # a JSON string, unrolled: no alternation per character
_FLOAT_NUMBER = re.compile(r"[0-9][.eE]|NaN|Infinity")


def _decimal(value: Any) -> str:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} has no JSON number form")
        return f"{_MARK}{format(value, 'f')}{_MARK}"
    raise TypeError(f"{type(value).__name__} has no JSON form")
