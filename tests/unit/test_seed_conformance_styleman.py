"""Issue 23, StyleMan: rows that disagreed with the seed (shared/seeds/003_6544af1d6f44ec6c.txt)."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from backoffice_export.connectors.styleman import delivery, mapping
from backoffice_export.connectors.styleman import settings as styleman_settings
from backoffice_export.errors import DeliveryError, OrderDataError
from backoffice_export.mapping import exact_json
from backoffice_export.mapping.text import latin1_text
from backoffice_export.model import Order
from tests.unit import factories as f

ORDER_GUID = "6f1c2a9e-0b7d-4c3e-9a51-2d8e4f6a7b10"
CUSTOMER_GUID = "0d9b8c7a-6e5f-4a3b-8c2d-1e0f9a8b7c6d"
FILTER = {"FilterNonIso88591Characters": True}


def sm_order(**overrides: Any) -> Order:
    values: dict[str, Any] = {"guid": ORDER_GUID, "customer_": f.customer(guid=CUSTOMER_GUID)}
    values.update(overrides)
    return f.order(**values)


def sent(order: Order, **raw: Any) -> dict[str, Any]:
    settings = styleman_settings.parse(raw)
    body = mapping.build_sales_order(order, settings, created=datetime(2024, 3, 16, 14, 5))
    return json.loads(exact_json.dumps(body), parse_float=Decimal)


@pytest.mark.parametrize("reply", [{"OrderNumber": "SO-77"}, {"Number": "SO-77"},
                                   {"Number": "SO-77", "OrderNumber": "SO-77"}])
def test_the_number_is_read_from_OrderNumber_as_the_seed_says_or_Number(reply: dict[str, Any]) -> None:
    assert delivery._number(reply, already_there=False, sent="A4S-1000") == "SO-77"


def test_an_OrderNumber_that_only_echoes_the_app4sales_number_is_no_number() -> None:
    with pytest.raises(DeliveryError):
        delivery._number({"OrderNumber": "A4S-1000"}, already_there=False, sent="A4S-1000")


def test_an_identifier_the_filter_would_change_is_a_clear_error() -> None:
    order = sm_order(lines=[f.line(0, item_=f.item("SOCK-€"))])
    with pytest.raises(OrderDataError) as caught:
        sent(order, **FILTER)
    assert caught.value.field == "Item.Code"
    assert "SOCK-€" in caught.value.message


def test_free_text_is_transliterated_not_cut() -> None:
    order = sm_order(notes="Łódź \u2013 \u201cPlac\u201d €5", alternate_address=f.address(city="Łódź"))
    body = sent(order, **FILTER)
    assert body["Notes"] == 'Lódz - "Plac" EUR5'
    assert body["DeliveryAddress"]["City"] == "Lódz"
    assert latin1_text("😀 Ok") == " Ok"


def test_vat_inclusive_price_survives_and_totals_add_up() -> None:
    order = sm_order(prices_include_vat=True, lines=[f.line(i, price="10.00", vat_percentage=Decimal(21))
                                                     for i in range(3)])
    body = sent(order)
    assert [line["PriceIncl"] for line in body["Lines"]] == [Decimal("10.00")] * 3
    assert body["Total"] == Decimal("30.00")
    assert body["SubTotal"] + body["VatTotal"] == body["Total"]


def test_a_half_cent_line_gives_totals_that_add_up() -> None:
    order = sm_order(lines=[f.line(0, price="0.005", vat_percentage=Decimal(21))])
    body = sent(order)
    assert body["SubTotal"] + body["VatTotal"] == body["Total"]


def test_stored_totals_that_disagree_with_the_lines_do_not_go_out() -> None:
    order = sm_order(lines=[f.line(0, price="10.00", quantity=2)], total_excl_vat=Decimal(1),
                     total_vat=Decimal(1), total_incl_vat=Decimal(2))
    body = sent(order)
    assert (body["SubTotal"], body["VatTotal"], body["Total"]) == (Decimal("20.00"), Decimal("4.20"),
                                                                   Decimal("24.20"))


def test_the_orders_own_order_type_comes_before_the_setting() -> None:
    assert sent(sm_order(order_type="Presale"), OrderType="Standard")["OrderType"] == "Presale"
    assert sent(sm_order(order_type=None), OrderType="Standard")["OrderType"] == "Standard"
    assert "OrderType" not in sent(sm_order(order_type=None))
