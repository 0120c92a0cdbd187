"""Issue 23, AccountView: rows that disagreed with the seed (shared/seeds/004_2a4998d564d7fd24.txt)."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from backoffice_export.connectors.accountview import mapping
from backoffice_export.connectors.accountview import settings as av_settings
from backoffice_export.errors import OrderDataError
from backoffice_export.model import Order
from tests.unit import factories as f

NOW = datetime(2024, 3, 20, 14, 5, 9)
DEMO = Path(__file__).resolve().parents[2] / "include" / "demo" / "accountview.json"


def build(order: Order, **raw: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    tables = mapping.build_order(order, av_settings.parse(raw), NOW)
    header = dict(zip((fld.name for fld in tables.header.fields), tables.header.rows[0], strict=True))
    lines = [dict(zip((fld.name for fld in tables.lines.fields), row, strict=True)) for row in tables.lines.rows]
    return header, lines


def art_px(line: Any, **raw: Any) -> Decimal:
    return build(f.order(lines=[line]), **raw)[1][0]["art_px"]


def test_without_UsePriceFromApp_a_price_that_differs_from_the_list_price_is_not_silently_replaced() -> None:
    line = f.line(0, price="10.04", original_price=Decimal("20.00"))
    with pytest.raises(OrderDataError) as caught:
        art_px(line)
    assert caught.value.field == "OrderLine.Price"
    assert "UsePriceFromApp" in caught.value.message
    assert art_px(line, UsePriceFromApp=True) == Decimal("10.04")
    assert art_px(f.line(0, price="20.00", original_price=Decimal("20.00"))) == Decimal("20.00")
    assert art_px(f.line(0, price="10.04")) == Decimal("10.04")  # no list price known: App4Sales' own


@pytest.mark.parametrize(("net", "discount", "list_price"), [
    ("44.95", "10", "49.95"),     # reversing gives 49.94
    ("0.125", "25", "0.16667"),   # reversing gives 0.17
])
def test_a_discounted_line_sends_its_known_list_price(net: str, discount: str, list_price: str) -> None:
    line = f.line(0, price=net, discount_percentage=Decimal(discount), original_price=Decimal(list_price))
    assert art_px(line) == Decimal(list_price)


def test_a_blank_item_code_is_refused_before_anything_is_sent() -> None:
    lines = [f.line(0), f.line(1), f.line(2, item_=f.item(" "))]
    with pytest.raises(OrderDataError) as caught:
        build(f.order(lines=lines), OrderLinesBatchCount=1)  # the third line would be the third batch
    assert caught.value.field == "Item.Code"
    assert "line 3" in caught.value.message


@pytest.mark.parametrize(("file_name", "expected"), [
    ("../../etc/x.pdf", "etc_x.pdf"), ("C:\\orders\\5001.pdf", "C__orders_5001.pdf"), ("..", "order.pdf")])
def test_link_file_is_a_safe_file_name(file_name: str, expected: str) -> None:
    pdf = f.attachment(kind="order_pdf", file_name=file_name, content=f.pdf())
    assert build(f.order(attachments=(pdf,)))[0]["link_file"] == expected


@pytest.mark.parametrize("content", [b"%PDF-1.4", b"%PDF-1.4\n% App4Sales order\n%%EOF\n", b"<html>%PDF-"])
def test_an_attachment_that_does_not_parse_as_a_pdf_is_refused(content: bytes) -> None:
    pdf = f.attachment(kind="order_pdf", file_name="5001.pdf", content=content)
    with pytest.raises(OrderDataError) as caught:
        build(f.order(attachments=(pdf,)))
    assert caught.value.field == "Attachment.Content"


def test_the_demo_pdf_is_a_valid_pdf() -> None:
    import io

    import pypdf

    document = json.loads(DEMO.read_text())
    pdfs = [base64.b64decode(a["content_base64"]) for adm in document["administrations"]
            for order in adm["orders"] for a in order.get("attachments", [])]
    assert pdfs
    for content in pdfs:
        reader = pypdf.PdfReader(io.BytesIO(content), strict=True)  # what qpdf --check asks too
        assert len(reader.pages) == 1


def test_free_text_is_written_in_windows_1252_and_a_code_outside_it_fails_before_anything_is_sent() -> None:
    """AccountView keeps text in Windows-1252: free text is transliterated, a code that would change
    fails the order naming its field, so no later batch can be refused for it (half an order)."""
    order = f.order(notes="Levering Łódź ☃ \u2013 €5", your_reference="Ref “Ż”",
                    alternate_address=f.address(city="Łódź"))
    header, _ = build(order)
    assert header["comment1"] == "Ref “Z”"
    assert header["comment2"].startswith("Levering Lódz  \u2013 €5")  # ó, the en dash and € are in Windows-1252
    assert header["city"] == "Lódz"
    lines = [f.line(0), f.line(1), f.line(2, item_=f.item("SOCK-Ł"))]
    with pytest.raises(OrderDataError) as caught:
        build(f.order(lines=lines), OrderLinesBatchCount=1)
    assert caught.value.field == "Item.Code"
    assert "Windows-1252" in caught.value.message
