"""Comparing the order we would send with the one an ERP holds under our key."""

from __future__ import annotations

from decimal import Decimal

from backoffice_export.identity import describe, differences

FIELDS = ("customerId",)
LINE_FIELDS = ("articleNumber", "numberOfItems", "priceExclVAT")
OURS = {"customerId": "C1", "lines": [{"articleNumber": "SHIRT", "numberOfItems": 2, "priceExclVAT": Decimal("12.50")}]}


def compare(theirs: dict) -> list[str]:
    return differences(OURS, theirs, fields=FIELDS, lines="lines", line_fields=LINE_FIELDS)


def test_the_same_order_as_json_gives_it_back_has_no_differences() -> None:
    # Amounts come back as JSON numbers (floats), or as text; 12.5 is 12.50.
    assert compare({"customerId": "C1", "lines": [{"articleNumber": "SHIRT", "numberOfItems": 2,
                                                   "priceExclVAT": 12.5}]}) == []
    assert compare({"customerId": "C1", "lines": [{"articleNumber": "SHIRT", "numberOfItems": "2",
                                                   "priceExclVAT": "12.50"}]}) == []


def test_each_difference_is_named_with_both_values() -> None:
    assert compare({"customerId": "C2", "lines": [{"articleNumber": "SHIRT", "numberOfItems": 3,
                                                   "priceExclVAT": "12.50"}]}) == [
        "customerId C2 there, C1 here", "line 1 numberOfItems 3 there, 2 here"]
    assert compare({"customerId": "C1", "lines": []}) == ["0 lines there, 1 here"]
    assert compare({"customerId": None}) == ["customerId none there, C1 here", "0 lines there, 1 here"]


def test_a_long_list_is_cut_short() -> None:
    assert describe(["a", "b", "c", "d", "e", "f"]) == "a; b; c; d; and 2 more"
