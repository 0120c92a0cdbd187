"""Split a Dutch address line into street, house number and addition.

The rules of public parsers (``AddressUtils.ParseAddress`` in App4Sales): the *last*
standalone number is the house number; what follows it is the addition, with separators
(``-``, ``/``, spaces) trimmed, also around an inner separator (``22zw /2`` -> ``zw/2``); a
number at the very start belongs to the street (``1e Constantijn Huigensstraat``); a line
without a standalone number is all street.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_NUMBER_TOKEN = re.compile(r"^(?P<number>\d+)(?P<rest>.*)$")
_SPACED_SEPARATOR = re.compile(r"\s*([-/])\s*")


class AddressParts(NamedTuple):
    street: str
    house_number: str
    addition: str


def parse_address(line: str | None) -> AddressParts:
    tokens = (line or "").split()
    # The last word that starts with a digit holds the house number, unless it is the first word.
    for index in range(len(tokens) - 1, 0, -1):
        match = _NUMBER_TOKEN.match(tokens[index])
        if match:
            addition = _SPACED_SEPARATOR.sub(r"\1", " ".join([match["rest"], *tokens[index + 1:]])).strip(" -/")
            return AddressParts(" ".join(tokens[:index]), match["number"], addition)
    return AddressParts(" ".join(tokens), "", "")
