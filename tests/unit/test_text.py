"""Text safety: control characters, lengths, ISO-8859-1 filtering and path-safe names."""

from __future__ import annotations

import pytest

from backoffice_export.errors import OrderDataError
from backoffice_export.mapping.text import checked_text, latin1_only, safe_path_part


@pytest.mark.parametrize(
    "bad",
    ["\x00", "\x0b", "\x0c", "\x1f", "\ud800", "\udfff", "\ufffe"],
    ids=["NUL", "VT", "FF", "US", "lone-high-surrogate", "lone-low-surrogate", "U+FFFE"],
)
def test_checked_text_refuses_forbidden_characters(bad: str) -> None:
    with pytest.raises(OrderDataError) as caught:
        checked_text(f"abc{bad}def", "Customer.Name")
    assert caught.value.field == "Customer.Name"
    assert f"U+{ord(bad):04X}" in caught.value.message


@pytest.mark.parametrize("fine", ["a\tb", "a\nb", "a\r\nb", "Café 'Het Hoekje' & zn <b.v.>", "€ 12", "😀"])
def test_checked_text_allows_tab_newline_and_ordinary_text(fine: str) -> None:
    assert checked_text(fine, "Order.Notes") == fine


def test_checked_text_max_length() -> None:
    assert checked_text("abcde", "Item.Code", max_length=5) == "abcde"
    with pytest.raises(OrderDataError) as caught:
        checked_text("abcdef", "Item.Code", max_length=5)
    assert caught.value.field == "Item.Code"
    assert "6" in caught.value.message and "5" in caught.value.message


@pytest.mark.parametrize("empty", [None, "", "   "])
def test_checked_text_required(empty: str | None) -> None:
    with pytest.raises(OrderDataError) as caught:
        checked_text(empty, "Customer.Code", required=True)
    assert caught.value.field == "Customer.Code"


def test_checked_text_not_required_none_is_empty() -> None:
    assert checked_text(None, "Order.Notes") == ""


def test_checked_text_converts_non_strings() -> None:
    assert checked_text(12, "OrderLine.Seq") == "12"


def test_latin1_only() -> None:
    assert latin1_only("€ 12,- é 😀 ñ ß") == " 12,- é  ñ ß"
    assert latin1_only("€") == ""
    assert latin1_only("😀") == ""
    assert latin1_only("é") == "é"
    assert latin1_only("ÿ\xa0") == "ÿ\xa0"  # the top of ISO-8859-1 stays


@pytest.mark.parametrize("bad", ["../x", "..", "a/b", "/etc/passwd", "", None, ".hidden", "C:\\x", "C:x", "a\\b",
                                 "a..b", "-rf", "x" * 101, "a\x00b", "é"])
def test_safe_path_part_refuses(bad: str | None) -> None:
    with pytest.raises(OrderDataError) as caught:
        safe_path_part(bad, "Order.OrderNr")
    assert caught.value.field == "Order.OrderNr"


@pytest.mark.parametrize("good", ["WEB5001", "1", "order_2.v1", "A-1", "x" * 100])
def test_safe_path_part_accepts(good: str) -> None:
    assert safe_path_part(good, "Order.OrderNr") == good
