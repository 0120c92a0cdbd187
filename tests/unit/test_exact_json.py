"""JSON bodies keep Decimal amounts exact and refuse floats wherever they hide."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from backoffice_export.mapping import exact_json


def test_decimals_keep_their_exact_text() -> None:
    body = {"Price": Decimal("12.50"), "Qty": Decimal("3"), "Tiny": Decimal("0.0000001"), "Neg": Decimal("-0.10"),
            "Lines": [{"Amount": Decimal("1E+2")}], "Count": 4}
    assert exact_json.dumps(body) == (b'{"Price": 12.50, "Qty": 3, "Tiny": 0.0000001, "Neg": -0.10, '
                                      b'"Lines": [{"Amount": 100}], "Count": 4}')


def test_text_that_looks_like_a_number_stays_text() -> None:
    body = {"Note": 'costs 1.5e3 "or" 2.50 \\ NaN Infinity', "Code": "1.0", "Empty": "", "Flag": True, "None": None,
            "Ends in a backslash \\": "\\", 'Quoted "3.5"': '\\"4.5\\"', "v1.2": ["7.5", "\\\\8.5"]}
    assert json.loads(exact_json.dumps(body)) == body


@pytest.mark.parametrize("value", [
    1.5, {"Price": 12.5}, [Decimal("1"), 2.0], {"Lines": [{"Amount": 1e20}]}, {"x": float("nan")},
    {"x": float("inf")}, {"x": -1.0e-7}, {"Note": "a \\" + '"', "Amount": 0.1},
    {"Note": "ends in a backslash \\", "Amount": 2.5}, {'say "1"': '"', "n": [Decimal(1), "\\", 3.25]},
], ids=["top", "field", "list", "nested-exponent", "nan", "infinity", "negative-exponent", "after-escapes",
        "after-a-final-backslash", "after-quotes-in-keys"])
def test_a_float_anywhere_is_refused(value: object) -> None:
    with pytest.raises(TypeError, match="amounts must be Decimal"):
        exact_json.dumps(value)


def test_a_decimal_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(ValueError, match="no JSON number form"):
        exact_json.dumps({"Price": Decimal("NaN")})


def test_indented_bodies_for_people_to_read() -> None:
    assert exact_json.dumps({"a": Decimal("1.10")}, indent=2) == b'{\n  "a": 1.10\n}'
