"""Proof that an order an ERP already holds under our key is *this* order, not another one.

An ERP answers "exists" (a duplicate key, a look-up hit after a lost reply) by key alone. Before
such an answer marks an order sent, the order the ERP holds is compared with what we would send:
customer, lines and totals. Any difference fails the order for review instead: marking it sent
would store another order's number on it and never deliver it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_LISTED = 4  # differences named in one error; the rest are counted


def differences(ours: Mapping[str, Any], theirs: Mapping[str, Any], *, fields: Sequence[str], lines: str,
                line_fields: Sequence[str]) -> list[str]:
    """What differs between the order we would send and the one the ERP holds, as short phrases."""
    found = [f"{name} {_show(theirs.get(name))} there, {_show(ours.get(name))} here"
             for name in fields if not _same(ours.get(name), theirs.get(name))]
    our_lines = ours.get(lines) if isinstance(ours.get(lines), list) else []
    their_lines = theirs.get(lines) if isinstance(theirs.get(lines), list) else []
    if len(our_lines) != len(their_lines):
        found.append(f"{len(their_lines)} lines there, {len(our_lines)} here")
        return found
    for number, (mine, other) in enumerate(zip(our_lines, their_lines, strict=True), start=1):
        other = other if isinstance(other, Mapping) else {}
        found.extend(f"line {number} {name} {_show(other.get(name))} there, {_show(mine.get(name))} here"
                     for name in line_fields if not _same(mine.get(name), other.get(name)))
    return found


def describe(found: Sequence[str]) -> str:
    """``customerId C1 there, C2 here; ...`` with at most ``MAX_LISTED`` named."""
    text = "; ".join(found[:MAX_LISTED])
    return f"{text}; and {len(found) - MAX_LISTED} more" if len(found) > MAX_LISTED else text


def _same(ours: Any, theirs: Any) -> bool:
    a, b = _plain(ours), _plain(theirs)
    if {type(a), type(b)} == {Decimal, str}:
        a, b = _number(a), _number(b)  # an amount the ERP wrote back as text
    return a == b


def _plain(value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float, Decimal)):
        return Decimal(str(value))
    return str(value).strip() if isinstance(value, str) else value


def _number(value: Any) -> Any:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return value


def _show(value: Any) -> str:
    return "none" if value is None or value == "" else str(value)
