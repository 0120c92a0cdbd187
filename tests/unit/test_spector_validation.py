"""The DTO checks (Required, MaxLength, types) that run before an order is sent, and in the emulator."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from backoffice_export.connectors.spector import validation
from backoffice_export.errors import OrderDataError

D = Decimal


def payload(**header: Any) -> dict[str, Any]:
    lines = header.pop("lines", None)
    body: dict[str, Any] = {"externalOrderNo": "5001", "customerId": "C1", "orderDate": "2024-03-15", **header}
    body["lines"] = lines if lines is not None else [line()]
    return body


def line(**fields: Any) -> dict[str, Any]:
    return {"lineNumber": 1, "articleNumber": "SHIRT", "articleName": "Shirt", "addArticleComment": False,
            "priceExclVAT": D("12.50"), "numberOfItems": 2, "vatPercentage": D(21), "discount": D(0), **fields}


def paths(body: Any) -> list[str]:
    return [p.path for p in validation.problems(body)]


def test_a_complete_order_has_no_problems() -> None:
    body = payload(deliveryDate="2024-03-16", customerReference="PO-1", customerOrderReference="R-1", currency="SEK",
                   internalComment="VIP\nnotes", externalDeliveryMethod="DHL", publishedComment="Thanks",
                   requirements="Pallets", stockSiteId=3, ourReferenceUserId=17,
                   lines=[line(articleComment="wrap", addArticleComment=True), line(lineNumber=2, priceExclVAT=5)])
    assert validation.problems(body) == []
    validation.validate(body)


@pytest.mark.parametrize("name", ["externalOrderNo", "customerId", "orderDate"])
def test_required_header_fields(name: str) -> None:
    body = payload()
    del body[name]
    assert paths(body) == [name]
    assert validation.problems(body)[0].message == f"{name} is required but missing"


@pytest.mark.parametrize("name", ["lineNumber", "articleNumber", "articleName", "priceExclVAT", "numberOfItems",
                                  "vatPercentage"])
def test_required_line_fields(name: str) -> None:
    row = line()
    del row[name]
    assert paths(payload(lines=[line(), row])) == [f"lines[2].{name}"]


@pytest.mark.parametrize(("name", "limit"), [("customerReference", 70), ("customerOrderReference", 50),
                                             ("externalDeliveryMethod", 100)])
def test_max_length_of_header_text(name: str, limit: int) -> None:
    assert paths(payload(**{name: "x" * limit})) == []
    assert paths(payload(**{name: "x" * (limit + 1)})) == [name]


@pytest.mark.parametrize(("name", "limit"), [("articleNumber", 50), ("articleName", 130), ("articleComment", 200)])
def test_max_length_of_line_text(name: str, limit: int) -> None:
    assert paths(payload(lines=[line(**{name: "x" * limit})])) == []
    assert paths(payload(lines=[line(**{name: "x" * (limit + 1)})])) == [f"lines[1].{name}"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("customerId", 42), ("orderDate", "15-03-2024"), ("orderDate", "2024-02-30"), ("deliveryDate", "2024-3-1"),
     ("currency", "eur"), ("currency", "EURO"), ("stockSiteId", "3"), ("stockSiteId", True), ("stockSiteId", 1.0),
     ("stockSiteId", 2**31), ("ourReferenceUserId", D("17.5")), ("customerReference", "bell\x07")],
)
def test_header_types(field: str, value: Any) -> None:
    assert paths(payload(**{field: value})) == [field]


@pytest.mark.parametrize(
    ("field", "value"),
    [("lineNumber", "1"), ("numberOfItems", D("2.5")), ("numberOfItems", False), ("priceExclVAT", "12.50"),
     ("priceExclVAT", 12.5), ("priceExclVAT", D("NaN")), ("vatPercentage", None), ("discount", True),
     ("addArticleComment", "true"), ("articleName", "")],
)
def test_line_types(field: str, value: Any) -> None:
    assert paths(payload(lines=[line(**{field: value})])) == [f"lines[1].{field}"]


def test_lines_are_required_objects() -> None:
    assert paths(payload(lines=[])) == ["lines"]
    body = payload()
    del body["lines"]
    assert paths(body) == ["lines"]
    assert paths(payload(lines=["SHIRT"])) == ["lines[1]"]
    assert paths([]) == [""]


def test_unknown_fields_are_refused() -> None:
    assert paths(payload(payTypeIdentifier="X", lines=[line(colour="red")])) == ["payTypeIdentifier", "lines[1].colour"]


def test_validate_names_the_app4sales_field_and_the_line() -> None:
    body = payload(customerReference="x" * 71, lines=[line(), line(lineNumber=2, articleNumber="CAP", articleName="")])
    with pytest.raises(OrderDataError) as caught:
        validation.validate(body)
    assert caught.value.field == "Order.YourReference, Item.Description"  # every problem, in one error
    assert caught.value.message == ("Order.YourReference: customerReference is 71 characters long, at most 70 "
                                    "allowed; Item.Description: line 2 (item CAP): articleName is required but empty")
    del body["customerReference"]
    with pytest.raises(OrderDataError) as caught:
        validation.validate(body)
    assert str(caught.value) == "Item.Description: line 2 (item CAP): articleName is required but empty"


def test_every_rule_names_an_app4sales_source() -> None:
    for rule in (*validation.HEADER_RULES, *validation.LINE_RULES):
        assert rule.source and rule.kind in {"text", "int", "decimal", "bool", "date", "currency"}


LENGTH_LIMITS = [("customerReference", 70), ("customerOrderReference", 50), ("externalDeliveryMethod", 100),
                 ("lines[1].articleNumber", 50), ("lines[1].articleName", 130), ("lines[1].articleComment", 200)]


def with_text(path: str, text: str) -> dict[str, Any]:
    name = path.removeprefix("lines[1].")
    return payload(lines=[line(**{name: text})]) if name != path else payload(**{name: text})


@pytest.mark.parametrize(("path", "limit"), LENGTH_LIMITS)
def test_max_length_counts_utf16_code_units_as_spector_does(path: str, limit: int) -> None:
    """Spector is .NET: ``[MaxLength]`` counts ``string.Length``, UTF-16 code units, so an emoji
    counts 2. Counted in code points, the order would pass here and be refused by Spector."""
    from erp_sandbox.spector_api import validation_errors

    fits, too_long = "😀" * (limit // 2), "x" * (limit - 1) + "😀"
    assert paths(with_text(path, fits)) == [] == validation_errors(with_text(path, fits))
    assert paths(with_text(path, too_long)) == [path]
    assert [e["field"] for e in validation_errors(with_text(path, too_long))] == [path]
