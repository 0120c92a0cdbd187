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
    if _has_float(text):
        raise TypeError("a float reached a JSON body: amounts must be Decimal")
    # split keeps the captured number between the pieces around each mark; joined, the marks and
    # their quotes are gone. (``sub`` with a group reference expands it in Python, per amount.)
    return "".join(_MARKED.split(text)).encode("utf-8")


def _has_float(text: str) -> bool:
    """Whether the encoded text holds a float: a number with a fraction or an exponent (or NaN,
    Infinity) outside its strings. A Decimal is still a marked string here, so only a float can.

    Everything here runs at C speed: the strings are taken out with ``str`` methods (escaped
    backslashes first, then escaped quotes; what is left splits on quotes into outside / inside /
    outside ...), and what is outside is searched for what only a float's text holds (``true``
    and ``false`` end in ``e`` but are never followed by a sign). A regex that matched each string
    cost as much as encoding the body; walking the value in Python to look for floats cost more.
    """
    outside = "".join(text.replace("\\\\", "").replace('\\"', "").split('"')[::2])
    return any(token in outside for token in _FLOAT_TOKENS)


_FLOAT_TOKENS = (".", "e+", "e-", "NaN", "Infinity")


def _decimal(value: Any) -> str:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} has no JSON number form")
        return f"{_MARK}{format(value, 'f')}{_MARK}"
    raise TypeError(f"{type(value).__name__} has no JSON form")
