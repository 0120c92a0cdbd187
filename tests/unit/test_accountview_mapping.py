"""AccountView SO1 tables, one test per seed row and per setting on and off.

Seed: shared/seeds/004_2a4998d564d7fd24.txt (Order Header Logic, Line & Pricing Logic, Charges &
Attachments, Related Settings). Every table built here has passed ``envelope.Table``'s FieldType check.
"""

from __future__ import annotations

import base64
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from backoffice_export.connectors.accountview import mapping
from backoffice_export.connectors.accountview import settings as av_settings
from backoffice_export.errors import OrderDataError
from backoffice_export.model import Order, SalesRep
from tests.unit import factories as f

NOW = datetime(2024, 3, 20, 14, 5, 9)
PDF = f.pdf()


def build(order: Order, **raw_settings: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    tables = mapping.build_order(order, av_settings.parse(raw_settings), NOW)
    header = dict(zip((fld.name for fld in tables.header.fields), tables.header.rows[0], strict=True))
    lines = [dict(zip((fld.name for fld in tables.lines.fields), row, strict=True)) for row in tables.lines.rows]
    return header, lines


def header_of(order: Order, **raw_settings: Any) -> dict[str, Any]:
    return build(order, **raw_settings)[0]


def line_of(line: Any, order_overrides: dict[str, Any] | None = None, **raw_settings: Any) -> dict[str, Any]:
    return build(f.order(lines=[line], **(order_overrides or {})), **raw_settings)[1][0]


def kubus(**overrides: Any) -> Order:
    return f.order(administration_=f.administration(application_name="kubussports"), **overrides)


def rep(user_name: str | None) -> SalesRep:
    return SalesRep(id=7, code="R7", user_name=user_name)


# ===== Order Header Logic ========================================================================================

def test_app4sales_internal_id_RowId_is_000001() -> None:
    assert header_of(f.order(id=4711, internal_order_nr="A4S-99"))["RowId"] == "000001"


def test_customer_code_goes_to_rpl_inv_and_rpl_del() -> None:
    header = header_of(f.order(customer_=f.customer(code="20010")))
    assert (header["rpl_inv"], header["rpl_del"]) == ("20010", "20010")


def test_customer_code_is_required() -> None:
    with pytest.raises(OrderDataError) as caught:
        build(f.order(customer_=None))
    assert caught.value.field == "Order.Customer"
    with pytest.raises(OrderDataError, match="no code"):
        build(f.order(customer_=f.customer(code=" ")))


def test_employee_number_from_FixedEmployeeCode() -> None:
    header = header_of(f.order(sales_rep=rep("jan.devries")), FixedEmployeeCode="WEB01")
    assert header["emp_nr"] == "WEB01"


def test_employee_number_from_the_sales_reps_user_name_when_FixedEmployeeCode_is_empty() -> None:
    for raw in ({}, {"FixedEmployeeCode": ""}, {"FixedEmployeeCode": "  "}):
        assert header_of(f.order(sales_rep=rep("jan.devries")), **raw)["emp_nr"] == "jan.devries"


@pytest.mark.parametrize("sales_rep", [None, rep(None), rep("")], ids=["no rep", "no user name", "empty"])
def test_no_employee_number_without_fixed_code_or_user_name(sales_rep: SalesRep | None) -> None:
    assert "emp_nr" not in header_of(f.order(sales_rep=sales_rep))


def test_order_date_is_now_as_a_datetime() -> None:
    order = f.order(order_date=datetime(2024, 1, 2, 3, 4, 5), created_at=datetime(2024, 1, 2, 3, 5))
    tables = mapping.build_order(order, av_settings.parse({}), NOW)
    assert header_of(order)["ord_date"] == "2024-03-20T14:05:09"
    assert dict((fld.name, fld.type.value) for fld in tables.header.fields)["ord_date"] == "T"


def test_delivery_date_maps_to_del_date() -> None:
    assert header_of(f.order(delivery_date=date(2024, 4, 2)))["del_date"] == "2024-04-02"
    assert "del_date" not in header_of(f.order(delivery_date=None))


@pytest.mark.parametrize(("your_reference", "expected"), [("PO-4471", "PO-4471"), ("  PO 1 ", "PO 1"),
                                                          (None, "App4Sales Order"), ("", "App4Sales Order"),
                                                          ("   ", "App4Sales Order")])
def test_comment1_is_your_reference_defaulting_to_App4Sales_Order(your_reference: str | None, expected: str) -> None:
    assert header_of(f.order(your_reference=your_reference))["comment1"] == expected


@pytest.mark.parametrize(("label", "notes", "expected"), [
    ("Opmerking:", "Deliver before noon", "Opmerking: Deliver before noon"),
    ("", "Deliver before noon", "Deliver before noon"),
    ("App4Sales", "two\nlines", "App4Sales two\nlines"),
])
def test_comment2_is_OrderNoteLabel_followed_by_the_notes(label: str, notes: str, expected: str) -> None:
    assert header_of(f.order(notes=notes), OrderNoteLabel=label)["comment2"] == expected


@pytest.mark.parametrize("notes", [None, "", "  "])
def test_no_notes_no_comment2(notes: str | None) -> None:
    assert "comment2" not in header_of(f.order(notes=notes), OrderNoteLabel="Opmerking:")


def test_comment3_is_the_order_reference_when_no_custom_field_is_set() -> None:
    assert header_of(f.order(reference="INT-77"))["comment3"] == "INT-77"
    assert "comment3" not in header_of(f.order(reference=None))


def test_order_reference_goes_to_the_custom_field_instead_of_comment3() -> None:
    header = header_of(f.order(reference="INT-77"), MapOrderReferenceToCustomField="X11_A4S_REF")
    assert header["X11_A4S_REF"] == "INT-77"
    assert "comment3" not in header
    assert "X11_A4S_REF" not in header_of(f.order(reference=""), MapOrderReferenceToCustomField="X11_A4S_REF")


def test_custom_reference_field_is_text() -> None:
    tables = mapping.build_order(f.order(reference="R"), av_settings.parse(
        {"MapOrderReferenceToCustomField": "X11_A4S_REF"}), NOW)
    assert [(fld.name, fld.type.value) for fld in tables.header.fields if fld.name == "X11_A4S_REF"] == [
        ("X11_A4S_REF", "C")]


def test_alternate_delivery_address_goes_to_address1_post_code_city_cnt_code() -> None:
    address = f.address("Kerkstraat 42-f3", postal_code="1017 GM", city="Amsterdam", country_iso2="NL")
    customer = f.customer(address1="Dorpsweg 1", postal_code="3511 AA", city="Utrecht", country_iso2="BE")
    header = header_of(f.order(alternate_address=address, customer_=customer))
    assert [header[k] for k in ("address1", "post_code", "city", "cnt_code")] == [
        "Kerkstraat 42-f3", "1017 GM", "Amsterdam", "NL"]


def test_no_alternate_address_no_address_fields() -> None:
    header = header_of(f.order(alternate_address=None, customer_=f.customer(address1="Dorpsweg 1")))
    assert not {"address1", "post_code", "city", "cnt_code"} & set(header)


def test_selection_code_ord_expn_from_SelectionCodeForOrders() -> None:
    assert header_of(f.order(), SelectionCodeForOrders="APP")["ord_expn"] == "APP"
    assert "ord_expn" not in header_of(f.order())


@pytest.mark.parametrize(("application", "order_type", "expected"), [
    ("kubussports", "preorder", True), ("kubussports", "ps", True), ("kubussports", "Presale", True),
    ("Kubussports", "PREORDER", True), ("kubussports", "order", None), ("kubussports", None, None),
    ("demo", "preorder", None),
])
def test_kubussports_order_type_is_true_for_preorders(application: str, order_type: str | None,
                                                       expected: bool | None) -> None:
    order = f.order(administration_=f.administration(application_name=application), order_type=order_type)
    assert header_of(order).get("ORDER_TYPE") is expected


def test_kubussports_dropshipment_sets_X11_CHK_DS() -> None:
    assert header_of(kubus(is_dropshipment=True))["X11_CHK_DS"] is True
    assert "X11_CHK_DS" not in header_of(kubus(is_dropshipment=False))
    assert "X11_CHK_DS" not in header_of(f.order(is_dropshipment=True))


def test_kubussports_dropshipment_consumer_name_goes_to_ACCT_NAME() -> None:
    assert header_of(kubus(is_dropshipment=True, consumer_name="Sanne de Vries"))["ACCT_NAME"] == "Sanne de Vries"
    assert "ACCT_NAME" not in header_of(kubus(is_dropshipment=False, consumer_name="Sanne de Vries"))
    assert "ACCT_NAME" not in header_of(kubus(is_dropshipment=True, consumer_name=None))
    assert "ACCT_NAME" not in header_of(f.order(is_dropshipment=True, consumer_name="Sanne de Vries"))


def test_kubussports_logical_fields_are_FieldType_L() -> None:
    order = kubus(order_type="ps", is_dropshipment=True, consumer_name="Sanne")
    tables = mapping.build_order(order, av_settings.parse({}), NOW)
    types = {fld.name: fld.type.value for fld in tables.header.fields}
    assert (types["ORDER_TYPE"], types["X11_CHK_DS"], types["ACCT_NAME"]) == ("L", "L", "C")


def test_shipping_method_SHIP_MTH_from_the_delivery_method() -> None:
    assert header_of(f.order(delivery_method_code="POSTNL"))["SHIP_MTH"] == "POSTNL"
    assert "SHIP_MTH" not in header_of(f.order(delivery_method_code=None))


def test_header_fields_in_seed_order_with_their_types() -> None:
    order = kubus(sales_rep=rep("jan"), notes="n", reference="r", alternate_address=f.address(), order_type="ps",
                  is_dropshipment=True, consumer_name="c", delivery_method_code="DHL",
                  attachments=(f.attachment(kind="order_pdf", content=PDF),))
    tables = mapping.build_order(order, av_settings.parse({"SelectionCodeForOrders": "S"}), NOW)
    assert [(fld.name, fld.type.value) for fld in tables.header.fields] == [
        ("RowId", "C"), ("rpl_inv", "C"), ("rpl_del", "C"), ("emp_nr", "C"), ("ord_date", "T"), ("del_date", "D"),
        ("comment1", "C"), ("comment2", "M"), ("comment3", "C"), ("address1", "C"), ("post_code", "C"),
        ("city", "C"), ("cnt_code", "C"), ("ord_expn", "C"), ("ORDER_TYPE", "L"), ("X11_CHK_DS", "L"),
        ("ACCT_NAME", "C"), ("SHIP_MTH", "C"), ("link_file", "C"), ("doc_desc", "C"), ("file_data", "M")]


@pytest.mark.parametrize(("overrides", "field"), [
    ({"notes": "bad\x00"}, "Order.Notes"), ({"your_reference": "x\x0b"}, "Order.YourReference"),
    ({"reference": "\x01"}, "Order.Reference"),
    ({"alternate_address": f.address("Weg\x0c 1")}, "AlternateAddress.Address1"),
])
def test_control_characters_are_refused_naming_the_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(OrderDataError) as caught:
        build(f.order(**overrides))
    assert caught.value.field == field


# ===== Line & Pricing Logic ======================================================================================

def test_line_RowId_is_the_position_from_000001() -> None:
    _, lines = build(f.order(lines=[f.line(7), f.line(3), f.line(11)]))
    assert [line["RowId"] for line in lines] == ["000001", "000002", "000003"]


def test_line_HeaderId_is_000001() -> None:
    _, lines = build(f.order(lines=[f.line(0), f.line(1)]))
    assert [line["HeaderId"] for line in lines] == ["000001", "000001"]


def test_item_code_art_code_is_the_item_code() -> None:
    line = f.line(0, item_=f.item("SHIRT-RED-M", {"SbaItemCode": "SBA1", "Size": "M"}))
    assert line_of(line)["art_code"] == "SHIRT-RED-M"


def test_unknown_item_fails_naming_the_line() -> None:
    with pytest.raises(OrderDataError) as caught:
        build(f.order(lines=[f.line(0), f.line(1, item_=None)]))
    assert caught.value.field == "OrderLine.Item" and "line 2" in caught.value.message


def test_order_without_lines_fails() -> None:
    with pytest.raises(OrderDataError) as caught:
        build(f.order(lines=[]))
    assert caught.value.field == "Order.OrderLines"


@pytest.mark.parametrize(("quantity", "expected"), [("2", Decimal(2)), ("1.5", Decimal("1.5")),
                                                    ("2.000", Decimal("2.000"))])
def test_quantity_goes_to_ord_qty_without_UnitModule(quantity: str, expected: Decimal) -> None:
    line = line_of(f.line(0, quantity=quantity))
    assert line["ord_qty"] == expected and "ord_qtyu" not in line


def test_quantity_goes_to_ord_qtyu_with_UnitModule() -> None:
    line = line_of(f.line(0, quantity="12"), UnitModule=True)
    assert line["ord_qtyu"] == Decimal(12) and "ord_qty" not in line


@pytest.mark.parametrize("quantity", ["0", "-1"])
def test_quantity_must_be_positive(quantity: str) -> None:
    with pytest.raises(OrderDataError) as caught:
        build(f.order(lines=[f.line(0, quantity=quantity)]))
    assert caught.value.field == "OrderLine.Quantity"


def test_UseSbaItems_takes_art_code_and_size_from_extra_data() -> None:
    item = f.item("SHIRT-RED-M", {"SbaItemCode": "POLO100", "Size": "M"})
    line = line_of(f.line(0, item_=item), UseSbaItems=True)
    assert (line["art_code"], line["size"]) == ("POLO100", "M")


def test_UseSbaItems_item_without_size_sends_an_empty_size() -> None:
    assert line_of(f.line(0, item_=f.item("BELT", {"SbaItemCode": "BELT300"})), UseSbaItems=True)["size"] == ""


def test_without_UseSbaItems_no_size_field() -> None:
    assert "size" not in line_of(f.line(0, item_=f.item("SHIRT", {"SbaItemCode": "POLO100", "Size": "M"})))


@pytest.mark.parametrize("extra", [None, {}, {"Size": "M"}, {"SbaItemCode": "  "}])
def test_UseSbaItems_item_without_SbaItemCode_fails(extra: dict[str, Any] | None) -> None:
    with pytest.raises(OrderDataError) as caught:
        build(f.order(lines=[f.line(0, item_=f.item("POLO", {"SbaItemCode": "POLO100"})),
                             f.line(1, item_=f.item("SCARF-NEW", extra))]), UseSbaItems=True)
    assert caught.value.field == "Item.ExtraData.SbaItemCode"
    assert "SCARF-NEW" in caught.value.message and "line 2" in caught.value.message


def test_discount_percentage_goes_to_disc_pct() -> None:
    assert line_of(f.line(0, discount_percentage=Decimal("12.5")))["disc_pct"] == Decimal("12.5")
    assert line_of(f.line(0, discount_percentage=None))["disc_pct"] == Decimal(0)


def test_DontSendDiscountToBackoffice_leaves_disc_pct_out() -> None:
    assert "disc_pct" not in line_of(f.line(0, discount_percentage=Decimal(10)), DontSendDiscountToBackoffice=True)


@pytest.mark.parametrize("discount", ["100.01", "-100.5"])
def test_discount_outside_minus_100_to_100_fails(discount: str) -> None:
    with pytest.raises(OrderDataError) as caught:
        build(f.order(lines=[f.line(0, discount_percentage=Decimal(discount))]))
    assert caught.value.field == "OrderLine.DiscountPercentage"


# Unit price (art_px): (line, order prices include VAT, settings) -> expected
PRICE_CASES = [
    # no discount, list price known: App4Sales' price (a different list price fails the order, below)
    ({"price": "10.00", "original_price": Decimal("10.00")}, False, {}, Decimal("10.00")),
    ({"price": "9.00", "original_price": Decimal("10.00")}, False, {"UsePriceFromApp": True}, Decimal("9.00")),
    # no discount, no list price: App4Sales' price either way
    ({"price": "9.00"}, False, {}, Decimal("9.00")),
    ({"price": "9.00"}, False, {"UsePriceFromApp": True}, Decimal("9.00")),
    # a discount of 0 is no discount
    ({"price": "9.00", "original_price": Decimal("10.00"), "discount_percentage": Decimal(0)}, False,
     {"UsePriceFromApp": True}, Decimal("9.00")),
    # discount: the price before discount, reversed from the net price and rounded half to even
    ({"price": "90.00", "original_price": Decimal("95.00"), "discount_percentage": Decimal(10)}, False, {},
     Decimal("100.00")),
    ({"price": "90.00", "discount_percentage": Decimal(10)}, False, {"UsePriceFromApp": True}, Decimal("100.00")),
    ({"price": "44.95", "discount_percentage": Decimal("10.01")}, False, {}, Decimal("49.95")),
    ({"price": "0.10", "discount_percentage": Decimal(50)}, False, {}, Decimal("0.20")),
    ({"price": "0.25", "discount_percentage": Decimal(50)}, False, {}, Decimal("0.50")),
    ({"price": "1.00", "discount_percentage": Decimal("-5")}, False, {}, Decimal("0.95")),  # surcharge
    # midpoint: 0.02125 / 0.5 = 0.0425 -> 0.04 (half to even; half away from zero would give 0.05)
    ({"price": "0.02125", "discount_percentage": Decimal(50)}, False, {}, Decimal("0.04")),
    # 100 % discount: the list price
    ({"price": "0.00", "original_price": Decimal("12.00"), "discount_percentage": Decimal(100)}, False, {},
     Decimal("12.00")),
    # DontSendDiscountToBackoffice: the net price carries the discount
    ({"price": "90.00", "original_price": Decimal("100.00"), "discount_percentage": Decimal(10)}, False,
     {"DontSendDiscountToBackoffice": True}, Decimal("90.00")),
    # VAT: prices including VAT lose it (the price given without VAT wins), rounded to 2 decimals
    ({"price": "12.10", "vat_percentage": Decimal(21)}, True, {}, Decimal("10.00")),
    ({"price": "19.95", "vat_percentage": Decimal(21)}, True, {}, Decimal("16.49")),
    ({"price": "19.95", "price_excl_vat": Decimal("16.4876")}, True, {}, Decimal("16.4876")),
    ({"price": "30.25", "original_price": Decimal("30.25"), "vat_percentage": Decimal(21)}, True, {},
     Decimal("25.00")),
    ({"price": "9.68", "discount_percentage": Decimal(20), "vat_percentage": Decimal(21)}, True, {},
     Decimal("10.00")),
    # prices given as stored keep their precision
    ({"price": "3.1415"}, False, {}, Decimal("3.1415")),
]


@pytest.mark.parametrize(("values", "incl_vat", "raw", "expected"), PRICE_CASES)
def test_unit_price_art_px_is_the_calculated_unit_price(values: dict[str, Any], incl_vat: bool,
                                                        raw: dict[str, Any], expected: Decimal) -> None:
    price = values.pop("price")
    line = line_of(f.line(0, price=price, **values), {"prices_include_vat": incl_vat}, **raw)
    assert line["art_px"] == expected
    assert str(line["art_px"]) == str(expected)  # same scale: no float ever came near


def test_DontSendPriceToBackoffice_leaves_art_px_out() -> None:
    line = line_of(f.line(0, price=None), DontSendPriceToBackoffice=True)
    assert "art_px" not in line


def test_a_line_without_any_price_fails_when_prices_are_sent() -> None:
    with pytest.raises(OrderDataError) as caught:
        build(f.order(lines=[f.line(0, price=None)]))
    assert caught.value.field == "OrderLine.Price"


def test_full_discount_without_list_price_fails() -> None:
    with pytest.raises(OrderDataError) as caught:
        build(f.order(lines=[f.line(0, price="0", discount_percentage=Decimal(100))]))
    assert caught.value.field == "OrderLine.OriginalPrice"


@pytest.mark.parametrize(("description", "line_description", "instruction", "expected"), [
    ("Polo navy M", None, "gift wrap", "Polo navy M gift wrap"),
    ("Polo navy M", None, None, "Polo navy M"),
    ("Polo navy M", None, "  ", "Polo navy M"),
    (None, "Own text", "gift wrap", "Own text gift wrap"),
    (None, None, "gift wrap", "gift wrap"),
])
def test_AddOrderLineInstructionToItemDescription_appends_the_instruction_to_art_desc1(
        description: str | None, line_description: str | None, instruction: str | None, expected: str) -> None:
    line = f.line(0, item_=f.item("I", description=description), description=line_description,
                  instruction=instruction)
    assert line_of(line, AddOrderLineInstructionToItemDescription=True)["art_desc1"] == expected


def test_without_AddOrderLineInstructionToItemDescription_no_art_desc1() -> None:
    assert "art_desc1" not in line_of(f.line(0, item_=f.item("I", description="D"), instruction="gift wrap"))


def test_line_fields_follow_the_settings_in_seed_order() -> None:
    order = f.order(lines=[f.line(0, item_=f.item("I", {"SbaItemCode": "S"}))])
    everything = {"UnitModule": True, "UseSbaItems": True, "AddOrderLineInstructionToItemDescription": True}
    tables = mapping.build_order(order, av_settings.parse(everything), NOW)
    assert [(fld.name, fld.type.value) for fld in tables.lines.fields] == [
        ("RowId", "C"), ("HeaderId", "C"), ("art_code", "C"), ("ord_qtyu", "N"), ("size", "C"), ("disc_pct", "N"),
        ("art_px", "N"), ("art_desc1", "C")]
    least = {"DontSendDiscountToBackoffice": True, "DontSendPriceToBackoffice": True}
    tables = mapping.build_order(order, av_settings.parse(least), NOW)
    assert [fld.name for fld in tables.lines.fields] == ["RowId", "HeaderId", "art_code", "ord_qty"]


# ===== Charges & Attachments =====================================================================================

def test_order_pdf_goes_as_link_file_doc_desc_and_base64_file_data() -> None:
    pdf = f.attachment(kind="order_pdf", file_name="5001.pdf", description="Order 5001", content=PDF)
    header = header_of(f.order(attachments=(pdf,)))
    assert (header["link_file"], header["doc_desc"]) == ("5001.pdf", "Order 5001")
    assert base64.b64decode(header["file_data"]) == PDF


def test_order_pdf_description_defaults_to_the_file_name() -> None:
    pdf = f.attachment(kind="ORDER_PDF", file_name="5001.pdf", description=None, content=PDF)
    assert header_of(f.order(attachments=(pdf,)))["doc_desc"] == "5001.pdf"


def test_only_the_first_order_pdf_goes_other_attachments_never() -> None:
    first = f.attachment(kind="order_pdf", file_name="a.pdf", content=PDF)
    second = f.attachment(kind="order_pdf", file_name="b.pdf", content=PDF)
    signature = f.attachment(kind="signature", file_name="sig.png", content=b"\x89PNG")
    assert header_of(f.order(attachments=(signature, first, second)))["link_file"] == "a.pdf"
    assert not {"link_file", "doc_desc", "file_data"} & set(header_of(f.order(attachments=(signature,))))
    assert not {"link_file", "doc_desc", "file_data"} & set(header_of(f.order(attachments=())))


def test_an_order_pdf_that_is_not_a_pdf_fails() -> None:
    with pytest.raises(OrderDataError) as caught:
        build(f.order(attachments=(f.attachment(kind="order_pdf", file_name="x.pdf", content=b"<html>"),)))
    assert caught.value.field == "Attachment.Content" and "x.pdf" in caught.value.message


def test_no_charges_are_sent() -> None:
    plain = build(f.order())
    charged = build(f.order(shipping_costs_excl_vat=Decimal("6.95"), webshop_discount_percentage=Decimal("2.5"),
                            payment=f.payment(), is_paid=True))
    assert plain == charged
