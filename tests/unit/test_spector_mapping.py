"""Spector order JSON, one test per row of the seed (shared/seeds/002_01dd28680e055152.txt).

Every payload built here also passes ``validation.validate``, as ``SpectorSession.send`` does
before anything is sent; a row's MaxLength / Required is tested through that same check.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from backoffice_export.connectors.spector import mapping, validation
from backoffice_export.connectors.spector import settings as spector_settings
from backoffice_export.errors import OrderDataError
from backoffice_export.mapping import exact_json
from backoffice_export.model import Item, Order, OrderLine, SalesRep
from tests.unit import factories as f

D = Decimal
TODAY = date(2024, 6, 1)
DEFAULT = spector_settings.parse({})
DISCOUNT_ONLY = spector_settings.parse({"OnlySendDiscount": True})


def item(code: str = "SHIRT-RED-M", **overrides: Any) -> Item:
    values: dict[str, Any] = {"description": f"Article {code}", "vat_percentage": D(21), "sales_price": D("20.00")}
    values.update(overrides)
    return f.item(code, None, **values)


def line(index: int = 0, *, item_: Item | None = None, **overrides: Any) -> OrderLine:
    return f.line(index, item_=item_ or item(f"ITEM-{index + 1}"), **overrides)


def order(**overrides: Any) -> Order:
    overrides.setdefault("administration_", f.administration(connector="spector", settings={}))
    overrides.setdefault("lines", [line(0)])
    return f.order(**overrides)


def build(order_: Order, settings: spector_settings.SpectorSettings = DEFAULT) -> dict[str, Any]:
    payload = mapping.build_order(order_, settings, TODAY)
    validation.validate(payload)
    return payload


def refused(order_: Order, settings: spector_settings.SpectorSettings = DEFAULT) -> OrderDataError:
    with pytest.raises(OrderDataError) as caught:
        build(order_, settings)
    return caught.value


def first_line(payload: dict[str, Any]) -> dict[str, Any]:
    return payload["lines"][0]


# ===== Order Header ==============================================================================================

def test_customer_id_is_the_customer_code() -> None:
    assert build(order(customer_=f.customer(code="DEB-0042")))["customerId"] == "DEB-0042"


def test_customer_id_is_required() -> None:
    assert refused(order(customer_=None)).field == "Order.Customer"
    error = refused(order(customer_=f.customer(code="  ")))
    assert error.field == "Customer.Code" and "customerId is required" in error.message


def test_order_date_is_the_order_date_as_yyyy_MM_dd() -> None:
    payload = build(order(order_date=datetime(2024, 1, 5, 23, 59), created_at=datetime(2024, 2, 1)))
    assert payload["orderDate"] == "2024-01-05"


def test_order_date_is_today_with_set_order_date_as_delivery_date() -> None:
    settings = spector_settings.parse({"SetOrderDateAsDeliveryDate": True})
    payload = build(order(order_date=datetime(2024, 1, 5, 10, 0), delivery_date=date(2024, 2, 1)), settings)
    assert payload["orderDate"] == TODAY.isoformat()


def test_customer_reference_is_your_reference_max_70() -> None:
    assert build(order(your_reference="PO-2024-117"))["customerReference"] == "PO-2024-117"
    assert build(order(your_reference="R" * 70))["customerReference"] == "R" * 70
    assert "customerReference" not in build(order(your_reference=None))
    error = refused(order(your_reference="R" * 71))
    assert error.field == "Order.YourReference"
    assert error.message == "customerReference is 71 characters long, at most 70 allowed"


def test_customer_order_reference_is_the_orders_reference_max_50() -> None:
    assert build(order(reference="INT-77", your_reference="PO-1"))["customerOrderReference"] == "INT-77"
    assert build(order(reference="I" * 50))["customerOrderReference"] == "I" * 50
    assert "customerOrderReference" not in build(order(reference=None))
    error = refused(order(reference="I" * 51))
    assert error.field == "Order.Reference" and "at most 50" in error.message


@pytest.mark.parametrize(
    ("price_list_currency", "administration_currency", "expected"),
    [("SEK", "EUR", "SEK"), ("GBP", None, "GBP"), (None, "EUR", "EUR"), ("", "NOK", "NOK")],
)
def test_currency_is_the_customers_price_list_currency(
        price_list_currency: str | None, administration_currency: str | None, expected: str | None) -> None:
    # A customer without a price list currency is on the default price list: the administration's currency.
    payload = build(order(customer_=f.customer(price_list_currency=price_list_currency),
                          administration_=f.administration(connector="spector", settings={},
                                                           default_currency=administration_currency)))
    assert payload.get("currency") == expected


def test_currency_that_is_not_an_iso_code_is_refused() -> None:
    error = refused(order(customer_=f.customer(price_list_currency="eur")))
    assert error.field == "Customer.PriceList.CurrencyIso" and "'eur'" in error.message


def test_delivery_date_is_the_order_date_as_yyyy_MM_dd() -> None:
    # The seed: "Otherwise, the App4Sales order date is used" -- not Order.DeliveryDate.
    payload = build(order(order_date=datetime(2024, 3, 15, 9, 30), delivery_date=date(2024, 4, 2)))
    assert payload["deliveryDate"] == "2024-03-15"


def test_delivery_date_is_not_populated_with_set_order_date_as_delivery_date() -> None:
    settings = spector_settings.parse({"SetOrderDateAsDeliveryDate": True})
    assert "deliveryDate" not in build(order(delivery_date=date(2024, 4, 2)), settings)


@pytest.mark.parametrize(
    ("extra_data", "notes", "expected"),
    [("VIP; pays by invoice", "Deliver before noon", "VIP; pays by invoice\nDeliver before noon"),
     (None, "Deliver before noon", "Deliver before noon"),
     ("", "Deliver before noon", "Deliver before noon"),
     ("VIP; pays by invoice", None, "VIP; pays by invoice"),
     (None, None, None)],
)
def test_internal_comment_is_customer_extra_data_newline_notes(
        extra_data: str | None, notes: str | None, expected: str | None) -> None:
    payload = build(order(customer_=f.customer(extra_data=extra_data), notes=notes))
    assert payload.get("internalComment") == expected


def test_external_delivery_method_is_the_customers_max_100() -> None:
    assert build(order(customer_=f.customer(delivery_method="DHL Express")))["externalDeliveryMethod"] == "DHL Express"
    assert "externalDeliveryMethod" not in build(order(customer_=f.customer(delivery_method=None)))
    assert build(order(customer_=f.customer(delivery_method="D" * 100)))["externalDeliveryMethod"] == "D" * 100
    error = refused(order(customer_=f.customer(delivery_method="D" * 101)))
    assert error.field == "Customer.DeliveryMethod" and "at most 100" in error.message


@pytest.mark.parametrize(("configured", "expected"),
                         [("Thank you for your order!", "Thank you for your order!"), ("", None), ("   ", None),
                          (None, None)])
def test_published_comment_from_the_setting(configured: str | None, expected: str | None) -> None:
    raw = {} if configured is None else {"PublishedCommentOnOrder": configured}
    assert build(order(), spector_settings.parse(raw)).get("publishedComment") == expected


@pytest.mark.parametrize(("configured", "expected"),
                         [("Pallets max 1.2 m high", "Pallets max 1.2 m high"), ("", None), (None, None)])
def test_requirements_from_the_setting(configured: str | None, expected: str | None) -> None:
    raw = {} if configured is None else {"RequirementsOnOrder": configured}
    assert build(order(), spector_settings.parse(raw)).get("requirements") == expected


@pytest.mark.parametrize(
    ("configured", "expected"),
    [("12", 12), (" 7 ", 7), (12, 12), ("+5", 5), ("-3", -3), ("2147483647", 2147483647),
     ("12.0", None), ("abc", None), ("1 2", None), ("2147483648", None), ("", None), (D("4.5"), None),
     ("١٢", None), (True, None), (None, None)],
)
def test_stock_site_id_only_when_a_valid_integer(configured: Any, expected: int | None) -> None:
    raw = {} if configured is None else {"StockSiteID": configured}
    payload = build(order(), spector_settings.parse(raw))
    assert payload.get("stockSiteId") == expected
    assert "stockSiteId" in payload or expected is None
    assert isinstance(payload.get("stockSiteId", 0), int)


def test_our_reference_user_id_is_the_sales_reps_user_id_as_integer() -> None:
    rep = SalesRep(id=5, code="jdv", user_id=17, user_name="jan.devries")
    assert build(order(sales_rep=rep))["ourReferenceUserId"] == 17
    assert "ourReferenceUserId" not in build(order(sales_rep=None))
    assert "ourReferenceUserId" not in build(order(sales_rep=SalesRep(id=6, code="x", user_id=None)))


def test_external_order_no_is_the_administration_code_and_the_app4sales_order_number() -> None:
    # Not a seed row: the key the connector looks an order up by before sending it again. App4Sales
    # numbers are unique per administration only; administrations may share a Spector company.
    payload = build(order(internal_order_nr="5001", order_nr="WEB5001"))
    assert payload["externalOrderNo"] == "ADM1/5001"
    other = build(order(internal_order_nr="5001", administration_=f.administration(
        code="ADM2", connector="spector", settings={})))
    assert other["externalOrderNo"] == "ADM2/5001"


def test_optional_header_fields_are_left_out_without_a_value() -> None:
    payload = build(order(customer_=f.customer(price_list_currency=None)))
    # currency is required in practice: without one the order fails (test_seed_conformance_spector)
    assert sorted(payload) == ["currency", "customerId", "deliveryDate", "externalOrderNo", "lines", "orderDate"]


# ===== Order Lines ===============================================================================================

def test_line_number_starts_at_1() -> None:
    payload = build(order(lines=[line(7), line(3), line(11)]))
    assert [row["lineNumber"] for row in payload["lines"]] == [1, 2, 3]


def test_article_number_is_the_item_code_required_max_50() -> None:
    payload = build(order(lines=[line(0, item_=item("SHIRT-RED-M")), line(1, item_=item("A" * 50))]))
    assert [row["articleNumber"] for row in payload["lines"]] == ["SHIRT-RED-M", "A" * 50]
    error = refused(order(lines=[line(0), line(1, item_=item("A" * 51))]))
    assert error.field == "Item.Code"
    assert error.message == f"line 2 (item {'A' * 51}): articleNumber is 51 characters long, at most 50 allowed"
    assert refused(order(lines=[f.line(0, item_=None)])).field == "OrderLine.Item"


def test_article_name_is_the_item_description_required_max_130() -> None:
    payload = build(order(lines=[line(0, item_=item("CAP", description="Cap, blue"), description="line text")]))
    assert first_line(payload)["articleName"] == "Cap, blue"
    assert first_line(build(order(lines=[line(0, item_=item("CAP", description="N" * 130))])))["articleName"] == \
        "N" * 130
    too_long = refused(order(lines=[line(0, item_=item("CAP", description="N" * 131))]))
    assert too_long.field == "Item.Description" and "at most 130" in too_long.message
    for missing in (None, "", "  "):
        error = refused(order(lines=[line(0, item_=item("SCARF", description=missing))]))
        assert error.field == "Item.Description"
        assert error.message.startswith("line 1 (item SCARF): articleName is required")


def test_article_comment_is_the_line_instruction_max_200() -> None:
    payload = build(order(lines=[line(0, instruction="Gift wrap, please"), line(1)]))
    assert payload["lines"][0]["articleComment"] == "Gift wrap, please"
    assert "articleComment" not in payload["lines"][1]
    assert first_line(build(order(lines=[line(0, instruction="C" * 200)])))["articleComment"] == "C" * 200
    error = refused(order(lines=[line(0, instruction="C" * 201)]))
    assert error.field == "OrderLine.Instruction" and "at most 200" in error.message


@pytest.mark.parametrize(("instruction", "expected"), [("Gift wrap", True), (None, False), ("", False)])
def test_add_article_comment_is_true_when_there_is_an_article_comment(instruction: str | None, expected: bool) -> None:
    assert first_line(build(order(lines=[line(0, instruction=instruction)])))["addArticleComment"] is expected


@pytest.mark.parametrize(
    ("price", "webshop", "expected"),
    [("12.50", None, "12.50"), ("12.50", "0", "12.50"), ("12.50", "2.5", "12.1875"), ("19.95", "10", "17.955"),
     ("100", "100", "0")],
)
def test_price_excl_vat_is_the_line_price_after_the_webshop_discount(
        price: str, webshop: str | None, expected: str) -> None:
    # Not rounded: the seed rounds only the discount, and .NET decimal keeps the exact product.
    payload = build(order(lines=[line(0, price=price, original_price=D("30"), discount_percentage=D(10))],
                          webshop_discount_percentage=None if webshop is None else D(webshop)))
    assert first_line(payload)["priceExclVAT"] == D(expected)
    assert str(first_line(payload)["priceExclVAT"]) == expected


def test_price_excl_vat_takes_the_price_without_vat() -> None:
    given = build(order(prices_include_vat=True, lines=[line(0, price="12.10", price_excl_vat=D("10.00"))]))
    assert first_line(given)["priceExclVAT"] == D("10.00")
    derived = build(order(prices_include_vat=True, lines=[line(0, price="12.10", vat_percentage=D(21))]))
    assert first_line(derived)["priceExclVAT"] == D("10.00")
    assert refused(order(lines=[line(0, price=None)])).field == "OrderLine.Price"


def test_price_excl_vat_is_the_items_sales_price_with_only_send_discount() -> None:
    payload = build(order(lines=[line(0, item_=item("A", sales_price=D("30.00")), price="27.00",
                                      original_price=D("30.00"), discount_percentage=D(10))]), DISCOUNT_ONLY)
    assert first_line(payload)["priceExclVAT"] == D("30.00")
    fallback = build(order(lines=[line(0, item_=item("B", sales_price=None), price="27.00",
                                       original_price=D("30.00"), discount_percentage=D(10))]), DISCOUNT_ONLY)
    assert first_line(fallback)["priceExclVAT"] == D("30.00")
    error = refused(order(lines=[line(0, item_=item("C", sales_price=None), price="27.00", discount_percentage=D(10))]),
                    DISCOUNT_ONLY)
    assert error.field == "Item.SalesPrice" and "item C" in error.message


def test_price_excl_vat_with_only_send_discount_but_no_discount_is_the_line_price() -> None:
    payload = build(order(lines=[line(0, item_=item("A", sales_price=D("30.00")), price="25.00")]), DISCOUNT_ONLY)
    assert (first_line(payload)["priceExclVAT"], first_line(payload)["discount"]) == (D("25.00"), D(0))


@pytest.mark.parametrize(("quantity", "expected"),
                         [("2", 2), ("2.000", 2), ("1.4", 1), ("2.5", 2), ("3.5", 4), ("1.6", 2), ("-1", -1)])
def test_number_of_items_is_the_quantity_converted_to_an_integer(quantity: str, expected: int) -> None:
    # Convert.ToInt32(decimal) rounds half to even.
    value = first_line(build(order(lines=[line(0, quantity=quantity)])))["numberOfItems"]
    assert value == expected and isinstance(value, int)


def test_number_of_items_that_rounds_to_zero_is_refused() -> None:
    error = refused(order(lines=[line(0, item_=item("CAP"), quantity="0.4")]))
    assert error.field == "OrderLine.Quantity" and "0.4 rounds to 0 items" in error.message


def test_vat_percentage_is_the_items_when_the_customer_is_vat_liable() -> None:
    lines = [line(0, item_=item("A", vat_percentage=D(21)), vat_percentage=D(9)),
             line(1, item_=item("B", vat_percentage=D("9.0"))),
             line(2, item_=item("C", vat_percentage=None), vat_percentage=D(6))]
    payload = build(order(customer_=f.customer(vat_liable=True), lines=lines))
    assert [row["vatPercentage"] for row in payload["lines"]] == [D(21), D("9.0"), D(6)]
    error = refused(order(lines=[line(0, item_=item("D", vat_percentage=None))]))
    assert error.field == "Item.VatPercentage" and "vatPercentage is required" in error.message


def test_vat_percentage_is_0_when_the_customer_is_not_vat_liable() -> None:
    lines = [line(0, item_=item("A", vat_percentage=D(21))), line(1, item_=item("B", vat_percentage=None))]
    payload = build(order(customer_=f.customer(vat_liable=False), lines=lines))
    assert [row["vatPercentage"] for row in payload["lines"]] == [D(0), D(0)]


@pytest.mark.parametrize(
    ("discount_percentage", "original_price", "price", "webshop", "expected"),
    [(D(10), D("30"), "27", None, "10.0000"),  # the line's own discount
     (D(10), D("30"), "27", D("2.5"), "12.5000"),  # plus the webshop discount percentage
     (None, D("30"), "20", None, "33.3333"),  # derived from OriginalPrice and Price
     (None, D("30"), "20", D("2.5"), "35.8333"),
     (D("12.34565"), None, "10", None, "12.3456"),  # Math.Round(x, 4): half to even ...
     (D("12.34575"), None, "10", None, "12.3458"),  # ... both ways
     (D("0.00004"), None, "10", None, "0")],  # rounds to no discount at all: the line price goes, discount 0
)
def test_discount_with_only_send_discount_is_line_plus_webshop_discount_rounded_to_4(
        discount_percentage: Decimal | None, original_price: Decimal | None, price: str, webshop: Decimal | None,
        expected: str) -> None:
    payload = build(order(webshop_discount_percentage=webshop,
                          lines=[line(0, price=price, original_price=original_price,
                                      discount_percentage=discount_percentage)]), DISCOUNT_ONLY)
    assert str(first_line(payload)["discount"]) == expected


def test_discount_is_0_without_only_send_discount() -> None:
    payload = build(order(webshop_discount_percentage=D("2.5"),
                          lines=[line(0, price="27", original_price=D("30"), discount_percentage=D(10))]))
    assert first_line(payload)["discount"] == D(0)


# ===== Special Logic & Filters, Charges & Attachments ============================================================

def test_order_without_lines_is_refused() -> None:
    assert refused(order(lines=[])).field == "Order.OrderLines"


def test_no_charges_surcharges_or_attachments_are_sent() -> None:
    plain = order(lines=[line(0, price="27.00")])
    loaded = order(lines=[line(0, price="27.00")], shipping_costs_excl_vat=D("6.95"), shipping_costs_incl_vat=D("8.41"),
                   total_excl_vat=D("33.95"), total_vat=D("7.13"), total_incl_vat=D("41.08"), is_paid=True,
                   payment=f.payment(payment_id="tr_WxYz"), attachments=(f.attachment(file_name="signature.png"),))
    assert build(loaded) == build(plain)
    body = exact_json.dumps(build(loaded)).decode()
    for value in ("6.95", "8.41", "41.08", "tr_WxYz", "signature.png"):
        assert value not in body


def test_the_body_carries_amounts_as_exact_json_numbers() -> None:
    payload = build(order(webshop_discount_percentage=D("2.5"), lines=[line(0, price="12.50")]))
    body = exact_json.dumps(payload).decode()
    assert '"priceExclVAT": 12.1875,' in body and '"vatPercentage": 21' in body and '"discount": 0' in body
