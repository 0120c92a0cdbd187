"""StyleMan SalesOrder JSON, one test per row of the seed (shared/seeds/003_6544af1d6f44ec6c.txt).

Every payload built here also goes through ``exact_json.dumps`` and back, as ``StyleManSession.send``
sends it, so what is asserted is what StyleMan reads.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from backoffice_export.connectors.styleman import mapping
from backoffice_export.connectors.styleman import settings as styleman_settings
from backoffice_export.errors import OrderDataError
from backoffice_export.mapping import exact_json
from backoffice_export.model import Order, SalesRep
from tests.unit import factories as f

ORDER_GUID = "6f1c2a9e-0b7d-4c3e-9a51-2d8e4f6a7b10"
CUSTOMER_GUID = "0d9b8c7a-6e5f-4a3b-8c2d-1e0f9a8b7c6d"
ADDRESS_GUID = "a1b2c3d4-e5f6-4789-8abc-def012345678"
CREATED = datetime(2024, 3, 16, 14, 5, 9)
DEFAULTS = styleman_settings.parse({})


def sm_order(**overrides: Any) -> Order:
    values: dict[str, Any] = {"guid": ORDER_GUID, "internal_order_nr": "A4S-1000",
                              "customer_": f.customer(guid=CUSTOMER_GUID)}
    values.update(overrides)
    return f.order(**values)


def sent(order: Order, settings: styleman_settings.StyleManSettings = DEFAULTS, **raw: Any) -> dict[str, Any]:
    """The SalesOrder as StyleMan parses it (amounts as exact decimals)."""
    if raw:
        settings = styleman_settings.parse(raw)
    guids = iter(f"00000000-0000-4000-8000-{n:012d}" for n in range(1, 100))
    body = mapping.request_body(mapping.build_sales_order(order, settings, created=CREATED,
                                                          line_guid=lambda: next(guids)), settings)
    return json.loads(exact_json.dumps(body), parse_float=Decimal)


def line_of(order: Order, **raw: Any) -> dict[str, Any]:
    return sent(order, **raw)["Lines"][0]


def data_error(order: Order, **raw: Any) -> OrderDataError:
    with pytest.raises(OrderDataError) as caught:
        sent(order, **raw)
    return caught.value


# ===== Order Header ==============================================================================================

def test_order_id_is_the_orders_guid_in_canonical_form() -> None:
    assert sent(sm_order(guid="6F1C2A9E-0B7D-4C3E-9A51-2D8E4F6A7B10"))["OrderID"] == ORDER_GUID
    assert sent(sm_order(guid="{6f1c2a9e-0b7d-4c3e-9a51-2d8e4f6a7b10}"))["OrderID"] == ORDER_GUID


@pytest.mark.parametrize(("value", "reason"),
                         [(None, "is missing"), ("", "is missing"), ("order-1", "not a valid GUID")])
def test_order_id_missing_or_invalid_fails_the_order(value: str | None, reason: str) -> None:
    error = data_error(sm_order(guid=value))
    assert error.field == "Order.Guid" and reason in error.message


def test_order_number_is_the_app4sales_internal_number() -> None:
    payload = sent(sm_order(internal_order_nr="A4S-2024-0042", order_nr="ERP-OLD"))
    assert payload["OrderNumber"] == "A4S-2024-0042"


def test_customer_guid_from_the_customer() -> None:
    assert sent(sm_order())["CustomerGUID"] == CUSTOMER_GUID


@pytest.mark.parametrize("value", [None, "CUST001"])
def test_customer_guid_missing_or_invalid_fails_the_order(value: str | None) -> None:
    error = data_error(sm_order(customer_=f.customer(guid=value)))
    assert error.field == "Customer.Guid"


def test_order_without_customer_fails() -> None:
    assert data_error(sm_order(customer_=None)).field == "Order.Customer"


def test_customer_code_from_the_customer() -> None:
    assert sent(sm_order(customer_=f.customer(guid=CUSTOMER_GUID, code="DEB-0042")))["CustomerCode"] == "DEB-0042"


def test_created_date_is_the_moment_of_sending() -> None:
    # DateTime.Now when the entity is made: the delivery passes the send moment, not the order's own times.
    payload = sent(sm_order(created_at=datetime(2020, 1, 1, 8, 0)))
    assert payload["Created"] == "2024-03-16T14:05:09"


def test_order_date_from_the_order() -> None:
    assert sent(sm_order(order_date=datetime(2024, 1, 5, 23, 59, 30)))["OrderDate"] == "2024-01-05T23:59:30"


def test_is_open_is_always_true() -> None:
    assert sent(sm_order())["IsOpen"] is True


def test_notes_from_the_order() -> None:
    assert sent(sm_order(notes="Deliver before noon\nRing twice"))["Notes"] == "Deliver before noon\nRing twice"
    assert sent(sm_order(notes=None))["Notes"] is None


@pytest.mark.parametrize("number", [1, 2, 3])
def test_description_1_2_3_from_the_order(number: int) -> None:
    payload = sent(sm_order(**{f"description{number}": f"text {number}"}))
    assert payload[f"Description{number}"] == f"text {number}"
    assert [payload[f"Description{n}"] for n in (1, 2, 3) if n != number] == [None, None]


def test_reference_from_the_order() -> None:
    assert sent(sm_order(reference="REF-77", your_reference="PO 1234"))["Reference"] == "REF-77"


def test_subtotal_is_the_rounded_lines_summed_half_to_even() -> None:
    order = sm_order(lines=[f.line(0, price="100.125")], total_excl_vat=Decimal("1"), total_vat=Decimal("1"),
                     total_incl_vat=Decimal("2"))  # stored totals that disagree with the lines do not go out
    assert sent(order)["SubTotal"] == Decimal("100.12")  # Math.Round: half to even, not 100.13


def test_subtotal_computed_from_lines_and_shipping() -> None:
    order = sm_order(lines=[f.line(0, quantity=2, price="10.00"), f.line(1, quantity=1, price="5.005")],
                     shipping_costs_excl_vat=Decimal("4.95"))
    assert sent(order)["SubTotal"] == Decimal("29.95")  # 20.00 + 5.00 (5.005 half to even) + 4.95


def test_total_amount_incl_vat() -> None:
    computed = sm_order(lines=[f.line(0, quantity=3, price="10.00")])  # item VAT 21 %
    assert sent(computed)["Total"] == Decimal("36.30")
    body = sent(sm_order(lines=[f.line(0, price="12.50")]))
    assert body["Total"] == body["SubTotal"] + body["VatTotal"] == Decimal("15.12")


def test_vat_total() -> None:
    computed = sm_order(lines=[f.line(0, quantity=1, price="12.50")])
    assert sent(computed)["VatTotal"] == Decimal("2.62")  # 2.625 -> 2.62 (half to even)


def test_totals_are_json_numbers_with_two_decimals() -> None:
    order = sm_order(lines=[f.line(0, price="100")])
    body = exact_json.dumps(mapping.build_sales_order(order, DEFAULTS, created=CREATED)).decode()
    assert '"SubTotal": 100.00, "Total": 121.00, "VatTotal": 21.00' in body


def test_your_reference_from_the_order() -> None:
    assert sent(sm_order(your_reference="PO 1234", reference="REF-77"))["YourReference"] == "PO 1234"


def test_username_of_the_sales_rep() -> None:
    rep = SalesRep(id=1, code="jdv", user_name="jan.devries", warehouse="MAIN")
    assert sent(sm_order(sales_rep=rep))["Username"] == "jan.devries"
    assert sent(sm_order(sales_rep=None))["Username"] is None


def test_warehouse_of_the_sales_rep_if_available() -> None:
    assert sent(sm_order(sales_rep=SalesRep(id=1, code="jdv", warehouse="AMS-01")))["Warehouse"] == "AMS-01"
    assert sent(sm_order(sales_rep=SalesRep(id=1, code="jdv", warehouse=None)))["Warehouse"] is None
    assert sent(sm_order(sales_rep=None))["Warehouse"] is None


def test_signature_from_the_order() -> None:
    signature = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    assert sent(sm_order(signature=signature))["Signature"] == signature


def test_delivery_method_code_from_the_order() -> None:
    assert sent(sm_order(delivery_method_code="DHL-EXPRESS"))["DeliveryMethodCode"] == "DHL-EXPRESS"


def test_order_type_only_when_configured() -> None:
    assert "OrderType" not in sent(sm_order())
    assert "OrderType" not in sent(sm_order(), OrderType="   ")
    assert sent(sm_order(), OrderType="VO")["OrderType"] == "VO"
    # The order's own type first (the seed's "value from the order type"), else the configured one.
    assert sent(sm_order(order_type="Pre-order"))["OrderType"] == "Pre-order"
    assert sent(sm_order(order_type="Pre-order"), OrderType="VO")["OrderType"] == "Pre-order"


def test_delivery_address_when_the_order_has_an_alternate_address() -> None:
    address = f.address("Kerkstraat 42-f3", guid=ADDRESS_GUID, name="Magazijn Zuid", contact="P. de Vries",
                        address2="Unit 4", state="NH", phone="+31 20 1234567", email="zuid@example.com")
    assert sent(sm_order(alternate_address=address))["DeliveryAddress"] == {
        "Name": "Magazijn Zuid", "Contact": "P. de Vries", "Address1": "Kerkstraat 42-f3", "Address2": "Unit 4",
        "PostalCode": "1017 GM", "City": "Amsterdam", "State": "NH", "CountryCode": "NL",
        "Phone": "+31 20 1234567", "Email": "zuid@example.com",
    }
    without = sent(sm_order(alternate_address=None))
    assert "DeliveryAddress" not in without and "DeliveryAddressID" not in without


def test_delivery_address_id_only_when_a_valid_guid() -> None:
    upper = sent(sm_order(alternate_address=f.address(guid=ADDRESS_GUID.upper())))
    assert upper["DeliveryAddressID"] == ADDRESS_GUID
    for value in (None, "", "ADDR-7", "a1b2c3d4-e5f6-4789-8abc-def01234567"):
        payload = sent(sm_order(alternate_address=f.address(guid=value)))
        assert "DeliveryAddress" in payload and "DeliveryAddressID" not in payload, value


def test_header_field_order_follows_the_seed() -> None:
    payload = sent(sm_order(alternate_address=f.address(guid=ADDRESS_GUID)), OrderType="VO")
    assert list(payload) == [
        "OrderID", "OrderNumber", "CustomerGUID", "CustomerCode", "Created", "OrderDate", "IsOpen", "Notes",
        "Description1", "Description2", "Description3", "Reference", "SubTotal", "Total", "VatTotal",
        "YourReference", "Username", "Warehouse", "Signature", "DeliveryMethodCode", "OrderType",
        "DeliveryAddress", "DeliveryAddressID", "Lines"]


# ===== Order Lines ===============================================================================================

def test_line_id_is_a_new_guid_for_every_line_and_every_send() -> None:
    order = sm_order(lines=[f.line(0), f.line(1)])
    first = mapping.build_sales_order(order, DEFAULTS, created=CREATED)
    again = mapping.build_sales_order(order, DEFAULTS, created=CREATED)
    ids = [line["ID"] for line in first["Lines"]] + [line["ID"] for line in again["Lines"]]
    assert len(set(ids)) == 4
    assert all(str(uuid.UUID(i)) == i for i in ids)


def test_a_new_line_guid_is_a_random_version_4_guid_in_canonical_form() -> None:
    made = [mapping.new_guid() for _ in range(4000)]
    assert len(set(made)) == len(made)
    for text in made:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant, str(parsed)) == (4, uuid.RFC_4122, text)
    # every variant digit (8, 9, a, b) and every value of the random digits occurs
    assert {text[19] for text in made} == set("89ab")
    assert {text[0] for text in made} == set("0123456789abcdef")


def test_line_customer_guid_is_the_headers() -> None:
    payload = sent(sm_order(lines=[f.line(0), f.line(1)]))
    assert [line["CustomerGUID"] for line in payload["Lines"]] == [CUSTOMER_GUID, CUSTOMER_GUID]


def test_discount_percentage_of_the_line_else_the_customers_default() -> None:
    customer = f.customer(guid=CUSTOMER_GUID, default_discount=Decimal("5.00"))
    order = sm_order(customer_=customer, lines=[f.line(0, discount_percentage=Decimal("12.5")), f.line(1)])
    assert [line["Discount"] for line in sent(order)["Lines"]] == [Decimal("12.5"), Decimal(5)]
    assert line_of(sm_order(lines=[f.line(0)]))["Discount"] == 0


def test_total_discount_from_the_original_price() -> None:
    line = f.line(0, quantity=3, price="90.00", original_price=Decimal("100.00"), discount_percentage=Decimal(10))
    assert line_of(sm_order(lines=[line]))["TotalDiscount"] == Decimal("30.00")


def test_total_discount_original_price_incl_vat_is_brought_to_excl() -> None:
    line = f.line(0, quantity=2, price="108.90", original_price=Decimal("121.00"), vat_percentage=Decimal(21))
    entry = line_of(sm_order(lines=[line], prices_include_vat=True))
    assert entry["PriceExcl"] == Decimal("90.00")
    assert entry["TotalDiscount"] == Decimal("20.00")  # (100 - 90) x 2


def test_total_discount_undone_from_the_percentage_without_original_price() -> None:
    line = f.line(0, quantity=4, price="7.50", discount_percentage=Decimal(25))
    assert line_of(sm_order(lines=[line]))["TotalDiscount"] == Decimal("10.00")  # 10.00 - 7.50 = 2.50 x 4


def test_total_discount_zero_without_original_price_or_discount() -> None:
    assert line_of(sm_order(lines=[f.line(0, quantity=2, price="10.00")]))["TotalDiscount"] == Decimal("0.00")
    full = f.line(0, quantity=1, price="0.00", discount_percentage=Decimal(100))
    assert line_of(sm_order(lines=[full]))["TotalDiscount"] == Decimal("0.00")


def test_total_discount_rounded_half_to_even() -> None:
    line = f.line(0, quantity=1, price="9.875", original_price=Decimal("10.00"))
    assert line_of(sm_order(lines=[line]))["TotalDiscount"] == Decimal("0.12")  # 0.125 -> 0.12


def test_item_code_of_the_item() -> None:
    order = sm_order(lines=[f.line(0, item_=f.item("SHIRT-RED-M")), f.line(1, item_=f.item("JEANS-32"))])
    assert [line["ItemCode"] for line in sent(order)["Lines"]] == ["SHIRT-RED-M", "JEANS-32"]


def test_line_without_item_fails_naming_the_line() -> None:
    error = data_error(sm_order(lines=[f.line(0), f.line(1, item_=None)]))
    assert error.field == "OrderLine.Item" and "line 2" in error.message


def test_order_without_lines_fails() -> None:
    assert data_error(sm_order(lines=[])).field == "Order.OrderLines"


@pytest.mark.parametrize(("quantity", "expected"),
                         [("2", "2"), ("1.500", "1.5"), ("12.00000000", "12"), ("0.25", "0.25")])
def test_quantity_as_ordered(quantity: str, expected: str) -> None:
    body = exact_json.dumps(mapping.build_sales_order(sm_order(lines=[f.line(0, quantity=quantity)]), DEFAULTS,
                                                      created=CREATED)).decode()
    assert f'"Quantity": {expected},' in body


def test_quantity_delivered_from_the_line_else_zero() -> None:
    order = sm_order(lines=[f.line(0, quantity_delivered=Decimal("1.000")), f.line(1)])
    assert [line["QuantityDelivered"] for line in sent(order)["Lines"]] == [1, 0]


def test_vat_percentage_of_the_line_else_the_item() -> None:
    order = sm_order(lines=[f.line(0, vat_percentage=Decimal("9")),
                            f.line(1, item_=f.item("B", vat_percentage=Decimal("21.00"))),
                            f.line(2, item_=f.item("C", vat_percentage=None))])
    assert [line["VatPercentage"] for line in sent(order)["Lines"]] == [9, 21, 0]


def test_price_excl_vat_as_stored() -> None:
    line = f.line(0, price="19.95", price_excl_vat=Decimal("16.4876"))
    assert line_of(sm_order(lines=[line], prices_include_vat=True))["PriceExcl"] == Decimal("16.4876")
    assert line_of(sm_order(lines=[f.line(0, price="12.5")]))["PriceExcl"] == Decimal("12.5")


def test_price_excl_vat_derived_from_an_incl_price_rounded_half_to_even() -> None:
    line = f.line(0, price="12.705", vat_percentage=Decimal(21))  # 12.705 / 1.21 = 10.5 exactly
    assert line_of(sm_order(lines=[line], prices_include_vat=True))["PriceExcl"] == Decimal("10.50")
    odd = f.line(0, price="19.95", vat_percentage=Decimal(21))  # 16.4876... -> 16.49
    assert line_of(sm_order(lines=[odd], prices_include_vat=True))["PriceExcl"] == Decimal("16.49")


def test_line_without_price_fails_naming_the_line() -> None:
    error = data_error(sm_order(lines=[f.line(0), f.line(1, price=None)]))
    assert error.field == "OrderLine.Price" and "line 2" in error.message


@pytest.mark.parametrize(("excl", "vat", "incl"), [("10.00", "21", "12.10"), ("16.49", "21", "19.95"),
                                                   ("0.125", "0", "0.12"), ("12.45", "9", "13.57"),
                                                   ("2.50", "21", "3.02")])
def test_price_incl_vat_computed_from_price_excl_half_to_even(excl: str, vat: str, incl: str) -> None:
    # 0.125 -> 0.12 and 2.50 x 1.21 = 3.025 -> 3.02: Math.Round, half to even
    line = f.line(0, price=excl, vat_percentage=Decimal(vat))
    assert line_of(sm_order(lines=[line]))["PriceIncl"] == Decimal(incl)


def test_default_price_is_the_items_sales_price() -> None:
    order = sm_order(lines=[f.line(0, price="8.00", item_=f.item("A", sales_price=Decimal("10.00"))),
                            f.line(1, item_=f.item("B", sales_price=None))])
    assert [line["DefaultPrice"] for line in sent(order)["Lines"]] == [Decimal(10), None]


def test_line_number_is_sequential_from_1() -> None:
    order = sm_order(lines=[f.line(7), f.line(3), f.line(11)])
    assert [line["LineNumber"] for line in sent(order)["Lines"]] == [1, 2, 3]


def test_instruction_of_the_line() -> None:
    order = sm_order(lines=[f.line(0, instruction="Gift wrap"), f.line(1)])
    assert [line["Instruction"] for line in sent(order)["Lines"]] == ["Gift wrap", None]


def test_item_description_of_the_line_else_the_item() -> None:
    order = sm_order(lines=[f.line(0, description="T-shirt red, size M"),
                            f.line(1, item_=f.item("B", description="Jeans blue 32")),
                            f.line(2, item_=f.item("C", description=None))])
    assert [line["Description"] for line in sent(order)["Lines"]] == ["T-shirt red, size M", "Jeans blue 32", None]


def test_delivery_date_only_when_present() -> None:
    order = sm_order(delivery_date=date(2024, 5, 1),
                     lines=[f.line(0, delivery_date=date(2024, 6, 15)), f.line(1, delivery_date=None)])
    first, second = sent(order)["Lines"]
    assert first["DeliveryDate"] == "2024-06-15T00:00:00"
    assert "DeliveryDate" not in second  # not the order's own delivery date either


def test_line_field_order() -> None:
    entry = line_of(sm_order(lines=[f.line(0, delivery_date=date(2024, 6, 15))]))
    assert list(entry) == ["ID", "CustomerGUID", "Discount", "TotalDiscount", "ItemCode", "Quantity",
                           "QuantityDelivered", "VatPercentage", "PriceExcl", "PriceIncl", "DefaultPrice",
                           "LineNumber", "Instruction", "Description", "DeliveryDate"]


# ===== Charges & Attachments: none as separate entities ==========================================================

def test_no_charge_lines_or_attachments() -> None:
    plain = sm_order(total_excl_vat=Decimal("106.95"), total_vat=Decimal("22.46"), total_incl_vat=Decimal("129.41"))
    loaded = sm_order(total_excl_vat=Decimal("106.95"), total_vat=Decimal("22.46"), total_incl_vat=Decimal("129.41"),
                      shipping_costs_excl_vat=Decimal("6.95"), payment=f.payment(),
                      attachments=(f.attachment(),), is_paid=True)
    assert sent(loaded)["Lines"] == sent(plain)["Lines"]
    assert len(sent(loaded)["Lines"]) == 1
    assert set(sent(loaded)) == set(sent(plain))
    # Surcharges live in the header totals: the line 10.00 plus shipping 6.95.
    assert (sent(plain)["SubTotal"], sent(loaded)["SubTotal"]) == (Decimal("10.00"), Decimal("16.95"))


# ===== Related Settings ==========================================================================================

def test_filter_non_iso_8859_1_characters_on_removes_them_from_every_text_field() -> None:
    address = f.address("Straße 1 ✓", guid=ADDRESS_GUID, name="Café ☕ Noord", city="Łódź")
    order = sm_order(notes="Levering € 5 → voor 12:00 😀", description1="Größe M", your_reference="PO\u20141",
                     alternate_address=address,
                     lines=[f.line(0, instruction="Wrap 🎁 please", description="Žluté tričko")])
    payload = sent(order, FilterNonIso88591Characters=True)
    assert payload["Notes"] == "Levering EUR 5  voor 12:00 "  # transliterated where a reading exists
    assert payload["Description1"] == "Größe M"  # ß and ö are ISO-8859-1
    assert payload["YourReference"] == "PO-1"
    assert payload["DeliveryAddress"]["Name"] == "Café  Noord"
    assert payload["DeliveryAddress"]["Address1"] == "Straße 1 "
    assert payload["DeliveryAddress"]["City"] == "Lódz"
    assert payload["Lines"][0]["Instruction"] == "Wrap  please"
    assert payload["Lines"][0]["Description"] == "Zluté tricko"
    # An identifier is never changed: the order fails naming it.
    assert data_error(sm_order(customer_=f.customer(guid=CUSTOMER_GUID, code="DEB✓1")),
                      FilterNonIso88591Characters=True).field == "Customer.Code"
    body = exact_json.dumps(payload).decode("utf-8")
    assert all(ord(c) < 256 for c in body)


def test_filter_non_iso_8859_1_characters_off_sends_text_unchanged() -> None:
    payload = sent(sm_order(notes="Levering € 5 → 😀", lines=[f.line(0, description="Žluté")]))
    assert payload["Notes"] == "Levering € 5 → 😀"
    assert payload["Lines"][0]["Description"] == "Žluté"


def test_dont_send_alternative_address_on_order() -> None:
    order = sm_order(alternate_address=f.address(guid=ADDRESS_GUID))
    on = sent(order, DontSendAlternativeAddressOnOrder=True)
    assert "DeliveryAddress" not in on and "DeliveryAddressID" not in on
    off = sent(order, DontSendAlternativeAddressOnOrder=False)
    assert off["DeliveryAddress"]["Address1"] == "Kerkstraat 42-f3" and off["DeliveryAddressID"] == ADDRESS_GUID


def test_use_results_tag_for_request_wraps_in_base_response_and_base_response2() -> None:
    order = sm_order()
    bare = sent(order)
    wrapped = sent(order, UseResultsTagForRequest=True)
    assert list(wrapped) == ["Results"]
    assert len(wrapped["Results"]) == 1 and list(wrapped["Results"][0]) == ["Results"]
    assert wrapped["Results"][0]["Results"] == [bare]
    assert "Results" not in bare and bare["OrderID"] == ORDER_GUID


# ===== Bad input =================================================================================================

@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"notes": "bad \x00 byte"}, "Order.Notes"),
     ({"your_reference": "PO\x0b1"}, "Order.YourReference"),
     ({"alternate_address": f.address("Kerkstraat\x1f 1")}, "AlternateAddress.Address1"),
     ({"lines": [f.line(0, instruction="x\ud800")]}, "OrderLine.Instruction")],
)
def test_control_characters_fail_the_order_naming_the_field(overrides: dict[str, Any], field: str) -> None:
    assert data_error(sm_order(**overrides)).field == field
