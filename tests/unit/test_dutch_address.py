"""Dutch address lines split into street, house number and addition (Reflecta delivery address).

The first block is the examples table of shared/notes/erp-wire-formats.md, row for row.
"""

from __future__ import annotations

import pytest

from backoffice_export.mapping.dutch_address import AddressParts, parse_address

NOTES_TABLE = [
    ("Hoofdstraat 12", "Hoofdstraat", "12", ""),
    ("Kerkstraat 42-f3", "Kerkstraat", "42", "f3"),
    ("1e Constantijn Huigensstraat 9b", "1e Constantijn Huigensstraat", "9", "b"),
    ("De Dompelaar 1 B", "De Dompelaar", "1", "B"),
    ("Plein '40-'45 10", "Plein '40-'45", "10", ""),
    ("Steenkade a/b Twee Gezusters", "Steenkade a/b Twee Gezusters", "", ""),
]


@pytest.mark.parametrize(("line", "street", "number", "addition"), NOTES_TABLE, ids=[row[0] for row in NOTES_TABLE])
def test_notes_examples(line: str, street: str, number: str, addition: str) -> None:
    assert parse_address(line) == AddressParts(street, number, addition)


MORE = [
    # whitespace is normalised: runs of spaces, tabs, leading and trailing blanks
    ("  Hoofdstraat    12   A  ", "Hoofdstraat", "12", "A"),
    ("Hoofdstraat\t12", "Hoofdstraat", "12", ""),
    # the *last* standalone number is the house number; earlier numbers stay in the street
    ("Laan 1940 45 12", "Laan 1940 45", "12", ""),
    ("2e Oosterparkstraat 101 hs", "2e Oosterparkstraat", "101", "hs"),
    # separators between number and addition are trimmed
    ("Kerkstraat 42 - f3", "Kerkstraat", "42", "f3"),
    ("Hoofdstraat 12/2", "Hoofdstraat", "12", "2"),
    ("Hoofdstraat 12-II", "Hoofdstraat", "12", "II"),
    ("Hoofdstraat 12A", "Hoofdstraat", "12", "A"),
    # a street with no number at all is all street
    ("Postbus", "Postbus", "", ""),
]


@pytest.mark.parametrize(("line", "street", "number", "addition"), MORE, ids=[row[0] for row in MORE])
def test_more_lines(line: str, street: str, number: str, addition: str) -> None:
    assert parse_address(line) == AddressParts(street, number, addition)


@pytest.mark.parametrize("line", [None, "", "   "])
def test_empty_or_missing_line(line: str | None) -> None:
    assert parse_address(line) == AddressParts("", "", "")


def test_long_addition_after_the_house_number() -> None:
    # The rule (notes and module docstring): the last standalone number is the house number and what
    # follows it is the addition. "bovenwoning" (upstairs flat) is a common Dutch addition.
    assert parse_address("Hoofdstraat 12 bovenwoning") == AddressParts("Hoofdstraat", "12", "bovenwoning")


def test_parts_are_plain_strings() -> None:
    parts = parse_address("Hoofdstraat 12 B")
    assert (parts.street, parts.house_number, parts.addition) == ("Hoofdstraat", "12", "B")
    assert all(type(part) is str for part in parts)
