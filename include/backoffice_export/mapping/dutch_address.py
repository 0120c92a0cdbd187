"""Split a Dutch address line into street, house number and addition.

The rules of public parsers (``AddressUtils.ParseAddress`` in App4Sales): the *last*
standalone number is the house number; what follows it is the addition, with separators
(``-``, ``/``, spaces) trimmed; a number at the very start belongs to the street
(``1e Constantijn Huigensstraat``); a line without a standalone number is all street.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_LINE = re.compile(
    r"""^(?P<street>.*\S)\s+          # greedy: the last standalone number wins
        (?P<number>\d+)
        (?:[\s\-/]*(?P<addition>[^\W_]{1,6}(?:[\s\-/][^\W_]{1,6})?))?
        \s*$""",
    re.VERBOSE,
)


class AddressParts(NamedTuple):
    street: str
    house_number: str
    addition: str


def parse_address(line: str | None) -> AddressParts:
    text = " ".join((line or "").split())
    match = _LINE.match(text)
    if not match:
        return AddressParts(text, "", "")
    return AddressParts(match["street"], match["number"], (match["addition"] or "").strip())
