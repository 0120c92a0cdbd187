"""Reflecta order XML, one test per row of the seed (shared/seeds/000_adf382cff99276f0.txt).

Every document built here goes through the connector's XSD, as ``ReflectaSession.send`` does.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from backoffice_export.connectors.reflecta import delivery, mapping
from backoffice_export.connectors.reflecta import settings as reflecta_settings
from backoffice_export.connectors.reflecta.delivery import XSD
from backoffice_export.errors import DeliveryError, OrderDataError, SettingsError
from backoffice_export.mapping.xml import to_bytes, validate
from backoffice_export.model import Order
from tests.unit import factories as f

SETTINGS = reflecta_settings.parse({"CompanyCode": "RFL01"})
LINE_ELEMENTS = ["WebOrderLineSeq", "ItemCode", "ItemDimension_obj", "ItemDimensionSize_obj", "OrderedQty",
                 "SalesPriceAmt", "EarliestDeliveryDate"]


def build(order: Order, order_nr: str = "WEB5001", settings: reflecta_settings.ReflectaSettings = SETTINGS
          ) -> etree._Element:
    root = mapping.build_order(order, settings, order_nr)
    validate(root, XSD)
    return root


def text(root: etree._Element, path: str) -> str | None:
    found = root.find(path)
    assert found is not None, f"{path} is missing"
    return found.text


def texts(root: etree._Element, path: str) -> list[str | None]:
    return [node.text for node in root.findall(path)]


def dims_item(code: str, backoffice_code: str, dimension: str | None = None, size: str | None = None) -> Any:
    extra = {"BackofficeItemCode": backoffice_code}
    if dimension is not None:
        extra["ItemDimension"] = dimension
    if size is not None:
        extra["ItemDimensionSize"] = size
    return f.item(code, extra)


# ===== Order Header ==============================================================================================

def test_order_number_maps_to_WebOrderNr() -> None:
    root = build(f.order(order_nr="WEB5001"), order_nr="WEB5001")
    assert text(root, "OrderHeader/WebOrderNr") == "WEB5001"


def test_order_number_is_the_one_given_to_the_mapping() -> None:
    # The delivery hands the mapping the order number it drew for an order without one.
    root = build(f.order(order_nr=None), order_nr="17")
    assert text(root, "OrderHeader/WebOrderNr") == "17"


def test_customer_code_maps_to_CustomerCode() -> None:
    root = build(f.order(customer_=f.customer(code="DEB-0042")))
    assert text(root, "OrderHeader/CustomerCode") == "DEB-0042"


def test_order_date_maps_to_OrderDate_as_yyyy_MM_dd() -> None:
    root = build(f.order(order_date=datetime(2024, 1, 5, 23, 59), created_at=datetime(2024, 2, 1)))
    assert text(root, "OrderHeader/OrderDate") == "2024-01-05"


@pytest.mark.parametrize(
    ("price_list_currency", "administration_currency", "expected"),
    [("GBP", "EUR", "GBP"), ("USD", None, "USD"), (None, "EUR", "EUR"), ("", "EUR", "EUR")],
)
def test_currency_from_customer_price_list_else_administration(
        price_list_currency: str | None, administration_currency: str | None, expected: str | None) -> None:
    order = f.order(customer_=f.customer(price_list_currency=price_list_currency),
                    administration_=f.administration(default_currency=administration_currency))
    root = build(order)
    assert texts(root, "OrderHeader/CurrencyCode") == ([expected] if expected else [])


def test_company_code_is_mandatory() -> None:
    root = build(f.order(), settings=reflecta_settings.parse({"CompanyCode": "ACME-NL"}))
    assert text(root, "OrderHeader/CompanyCode") == "ACME-NL"
    for raw in ({}, {"CompanyCode": ""}, {"CompanyCode": "   "}, {"CompanyCode": None}):
        with pytest.raises(SettingsError, match="CompanyCode"):
            reflecta_settings.parse(raw)


def test_header_element_order_matches_the_format() -> None:
    order = f.order(customer_=f.customer(price_list_currency="EUR"), alternate_address=f.address())
    header = build(order).find("OrderHeader")
    assert header is not None
    assert [child.tag for child in header] == ["WebOrderNr", "CompanyCode", "OrderDate", "CustomerCode",
                                              "CurrencyCode", "DeliveryAddresses", "OrderLines"]


# ===== Order Lines ===============================================================================================

def test_line_sequence_starts_at_1() -> None:
    # Numbered by position, not from App4Sales' own line index.
    order = f.order(lines=[f.line(7), f.line(3), f.line(11)])
    root = build(order)
    assert texts(root, "OrderHeader/OrderLines/OrderLine/WebOrderLineSeq") == ["1", "2", "3"]


def test_item_code_from_extra_data() -> None:
    order = f.order(lines=[f.line(0, item_=dims_item("A4S-SHIRT", "REF-100")),
                           f.line(1, item_=dims_item("A4S-JEANS", "REF-200"))])
    root = build(order)
    assert texts(root, "OrderHeader/OrderLines/OrderLine/ItemCode") == ["REF-100", "REF-200"]


@pytest.mark.parametrize(("quantity", "expected"),
                         [("2", "2"), ("2.000", "2"), ("1.5", "1.5"), ("2.5", "2.5"), ("0.125", "0.125"),
                          ("12", "12"), ("1E+2", "100")])
def test_quantity_maps_directly(quantity: str, expected: str) -> None:
    root = build(f.order(lines=[f.line(0, quantity=quantity)]))
    assert text(root, "OrderHeader/OrderLines/OrderLine/OrderedQty") == expected


@pytest.mark.parametrize(("price", "expected"),
                         [("19.95", "19.95"), ("49.5", "49.50"), ("12", "12.00"), ("0", "0.00"),
                          ("3.1415", "3.1415"), ("121.00", "121.00")])
def test_price_maps_directly(price: str, expected: str) -> None:
    root = build(f.order(lines=[f.line(0, price=price)]))
    assert text(root, "OrderHeader/OrderLines/OrderLine/SalesPriceAmt") == expected


def test_price_maps_directly_without_vat_logic() -> None:
    line = f.line(0, price="121.00", price_excl_vat=Decimal("100.00"), vat_percentage=Decimal(21),
                  original_price=Decimal("150.00"), discount_percentage=Decimal(10))
    incl = build(f.order(lines=[line], prices_include_vat=True))
    excl = build(f.order(lines=[line], prices_include_vat=False))
    assert text(incl, "OrderHeader/OrderLines/OrderLine/SalesPriceAmt") == "121.00"
    assert to_bytes(incl) == to_bytes(excl)


def test_dimension_and_size_from_extra_data() -> None:
    order = f.order(lines=[
        f.line(0, item_=dims_item("A", "R-A", "RED", "M")),
        f.line(1, item_=dims_item("B", "R-B", "BLUE")),
        f.line(2, item_=dims_item("C", "R-C", size="42")),
        f.line(3, item_=dims_item("D", "R-D")),
        f.line(4, item_=f.item("E", {"BackofficeItemCode": "R-E", "ItemDimension": "", "ItemDimensionSize": None})),
    ])
    lines = build(order).findall("OrderHeader/OrderLines/OrderLine")
    assert [(node.findtext("ItemDimension_obj"), node.findtext("ItemDimensionSize_obj")) for node in lines] == [
        ("RED", "M"), ("BLUE", None), (None, "42"), (None, None), (None, None)]
    for node in lines:
        assert [child.tag for child in node] == [tag for tag in LINE_ELEMENTS if node.find(tag) is not None]


def test_delivery_date_is_the_orders_on_every_line() -> None:
    order = f.order(delivery_date=date(2024, 5, 31),
                    lines=[f.line(0, delivery_date=date(2024, 6, 15)), f.line(1), f.line(2, delivery_date=None)])
    root = build(order)
    assert texts(root, "OrderHeader/OrderLines/OrderLine/EarliestDeliveryDate") == ["2024-05-31"] * 3


def test_no_order_delivery_date_no_EarliestDeliveryDate() -> None:
    order = f.order(delivery_date=None, lines=[f.line(0, delivery_date=date(2024, 6, 15))])
    root = build(order)
    assert root.findall("OrderHeader/OrderLines/OrderLine/EarliestDeliveryDate") == []


# ===== Delivery Address ==========================================================================================

def test_delivery_address_only_when_alternate_address_is_set() -> None:
    customer = f.customer(address1="Dorpsweg 1", postal_code="1234 AB", city="Utrecht", country_iso2="NL")
    without = build(f.order(customer_=customer, alternate_address=None))
    assert without.find("OrderHeader/DeliveryAddresses") is None
    with_address = build(f.order(customer_=customer, alternate_address=f.address()))
    assert len(with_address.findall("OrderHeader/DeliveryAddresses/DeliveryAddress")) == 1


def test_customer_name_from_the_customer() -> None:
    order = f.order(customer_=f.customer(name="Jansen Mode B.V."),
                    alternate_address=f.address(name="Magazijn Noord", contact="P. de Vries"))
    assert text(build(order), "OrderHeader/DeliveryAddresses/DeliveryAddress/Name") == "Jansen Mode B.V."


@pytest.mark.parametrize(
    ("address1", "street", "number", "addition"),
    [
        ("Kerkstraat 42-f3", "Kerkstraat", "42", "f3"),
        ("Hoofdstraat 12", "Hoofdstraat", "12", None),
        ("1e Constantijn Huigensstraat 9b", "1e Constantijn Huigensstraat", "9", "b"),
        ("De Dompelaar 1 B", "De Dompelaar", "1", "B"),
        ("Steenkade a/b Twee Gezusters", "Steenkade a/b Twee Gezusters", None, None),
    ],
)
def test_street_house_nr_and_addition_parsed_from_alternate_address(
        address1: str, street: str, number: str | None, addition: str | None) -> None:
    # None: no such part, so no element (HouseNr and HouseNrExt are optional in the XSD); an address line
    # without a house number is a valid address (last row of the notes' table) and must not fail the order.
    node = build(f.order(alternate_address=f.address(address1))).find("OrderHeader/DeliveryAddresses/DeliveryAddress")
    assert node is not None
    parts = (node.findtext("Street"), node.findtext("HouseNr"), node.findtext("HouseNrExt"))
    assert parts == (street, number, addition)


def test_city_from_alternate_address() -> None:
    order = f.order(customer_=f.customer(city="Utrecht"), alternate_address=f.address(city="Zwolle"))
    assert text(build(order), "OrderHeader/DeliveryAddresses/DeliveryAddress/City") == "Zwolle"


def test_postal_code_from_alternate_address() -> None:
    order = f.order(customer_=f.customer(postal_code="3511 AA"), alternate_address=f.address(postal_code="8011 CW"))
    assert text(build(order), "OrderHeader/DeliveryAddresses/DeliveryAddress/ZipCode") == "8011 CW"


def test_country_from_alternate_address() -> None:
    order = f.order(customer_=f.customer(country_iso2="NL"), alternate_address=f.address(country_iso2="BE"))
    assert text(build(order), "OrderHeader/DeliveryAddresses/DeliveryAddress/CountryIsoCode") == "BE"


def test_delivery_address_element_order() -> None:
    node = build(f.order(alternate_address=f.address())).find("OrderHeader/DeliveryAddresses/DeliveryAddress")
    assert node is not None
    assert [child.tag for child in node] == ["Name", "Street", "HouseNr", "HouseNrExt", "ZipCode", "City",
                                            "CountryIsoCode"]


# ===== Special Logic & Filters ===================================================================================

@pytest.mark.parametrize("extra_data", [None, {}], ids=["None", "empty"])
def test_missing_extra_data_fails(extra_data: dict[str, Any] | None) -> None:
    order = f.order(lines=[f.line(0), f.line(1, item_=f.item("SHIRT-RED-M", extra_data))])
    with pytest.raises(OrderDataError) as caught:
        mapping.build_order(order, SETTINGS, "WEB5001")
    assert caught.value.field == "Item.ExtraData"
    assert "SHIRT-RED-M" in caught.value.message
    assert "line 2" in caught.value.message


def test_extra_data_without_backoffice_item_code_fails() -> None:
    order = f.order(lines=[f.line(0, item_=f.item("SHIRT", {"ItemDimension": "RED"}))])
    with pytest.raises(OrderDataError) as caught:
        mapping.build_order(order, SETTINGS, "WEB5001")
    assert caught.value.field == "Item.ExtraData.BackofficeItemCode"
    assert "SHIRT" in caught.value.message


def test_line_without_item_fails() -> None:
    with pytest.raises(OrderDataError) as caught:
        mapping.build_order(f.order(lines=[f.line(0, item_=None)]), SETTINGS, "WEB5001")
    assert caught.value.field == "OrderLine.Item"


def test_missing_customer_fails() -> None:
    with pytest.raises(OrderDataError) as caught:
        mapping.build_order(f.order(customer_=None), SETTINGS, "WEB5001")
    assert caught.value.field == "Order.Customer"


def test_no_lines_fails() -> None:
    with pytest.raises(OrderDataError) as caught:
        mapping.build_order(f.order(lines=[]), SETTINGS, "WEB5001")
    assert caught.value.field == "Order.OrderLines"


def test_control_character_in_a_field_fails_naming_the_field() -> None:
    with pytest.raises(OrderDataError) as caught:
        mapping.build_order(f.order(customer_=f.customer(code="DEB\x001")), SETTINGS, "WEB5001")
    assert caught.value.field == "Customer.Code"


class _FakeDrop:
    destination = "sftp://sandbox/top/orders"

    def __init__(self, events: list[tuple[str, Any]], error: DeliveryError | None = None) -> None:
        self.events, self.error, self.files = events, error, {}

    def put(self, name: str, data: bytes) -> str:
        self.events.append(("put", name))
        if self.error is not None:
            raise self.error
        self.files[name] = data
        return f"{self.destination}/{name}"

    def exists(self, name: str) -> bool:
        return name in self.files


class _FolderNames:
    """The drop folder's names without a database: every number is free, generated ones are tracked."""

    def __init__(self, engine: Any, destination: str, administration: Any) -> None:
        self.generated_names: set[str] = set()

    def draw(self, order: Any, next_number: Any, name_of: Any) -> str:
        number = next_number()
        self.generated_names.add(name_of(number))
        return number

    def hold_own(self, order: Any, name: str, number: str, field: str) -> bool:
        return name in self.generated_names

    def release(self, order: Any, name: str) -> None:
        self.generated_names.discard(name)

    def keep(self, order: Any, name: str) -> None:
        self.generated_names.discard(name)


@pytest.fixture
def numbering(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Order numbers drawn and saved without a database: the calls are recorded in order."""
    events: list[tuple[str, Any]] = []
    monkeypatch.setattr(delivery, "FileNames", _FolderNames)

    def next_value(engine: Any, administration_id: int, key: str, **_: Any) -> int:
        events.append(("draw", (administration_id, key)))
        return 17

    def set_order_nr(engine: Any, order_id: int, order_nr: str | None) -> None:
        events.append(("save", (order_id, order_nr)))

    monkeypatch.setattr(delivery.key_settings, "next_value", next_value)
    monkeypatch.setattr(delivery.repository, "set_order_nr", set_order_nr)
    monkeypatch.setattr(delivery.ExportCopies, "write", lambda self, name, data: events.append(("local", name)))
    return events


def test_order_number_generated_when_missing_and_saved_before_proceeding(numbering: list[tuple[str, Any]]) -> None:
    drop = _FakeDrop(numbering)
    session = delivery.ReflectaSession(f.administration(id=3), SETTINGS, engine=object(), drop=drop)  # type: ignore[arg-type]
    order = f.order(id=1000, order_nr=None)
    sent = session.send(order)
    assert sent.backoffice_order_nr == "17"
    assert numbering == [("draw", (3, "Reflecta.LastOrderNr")), ("save", (1000, "17")), ("local", "17.xml"),
                         ("put", "17.xml")]
    assert etree.fromstring(drop.files["17.xml"]).findtext("OrderHeader/WebOrderNr") == "17"


def test_existing_order_number_is_kept(numbering: list[tuple[str, Any]]) -> None:
    drop = _FakeDrop(numbering)
    session = delivery.ReflectaSession(f.administration(), SETTINGS, engine=object(), drop=drop)  # type: ignore[arg-type]
    sent = session.send(f.order(order_nr="WEB5001"))
    assert sent.backoffice_order_nr == "WEB5001"
    assert numbering == [("local", "WEB5001.xml"), ("put", "WEB5001.xml")]


def test_failed_upload_resets_the_order_number(numbering: list[tuple[str, Any]]) -> None:
    drop = _FakeDrop(numbering, DeliveryError("550 Permission denied"))
    session = delivery.ReflectaSession(f.administration(), SETTINGS, engine=object(), drop=drop)  # type: ignore[arg-type]
    with pytest.raises(DeliveryError, match="550 Permission denied"):
        session.send(f.order(id=1000, order_nr=None))
    assert numbering[-1] == ("save", (1000, None))


def test_a_generated_number_that_reached_the_erp_is_never_reset(numbering: list[tuple[str, Any]]) -> None:
    """A re-export whose upload fails keeps the number the ERP already has the order under."""
    drop = _FakeDrop(numbering)
    session = delivery.ReflectaSession(f.administration(), SETTINGS, engine=object(), drop=drop)  # type: ignore[arg-type]
    assert session.send(f.order(id=1000, order_nr=None)).backoffice_order_nr == "17"
    drop.error = DeliveryError("550 Permission denied")
    with pytest.raises(DeliveryError):
        session.send(f.order(id=1000, order_nr="17"))
    assert ("save", (1000, None)) not in numbering


def test_failed_upload_keeps_a_number_the_order_came_with(numbering: list[tuple[str, Any]]) -> None:
    """The seed's reset is for numbers the connector generated (issue 22): WEB5204 stays WEB5204."""
    drop = _FakeDrop(numbering, DeliveryError("550 Permission denied"))
    session = delivery.ReflectaSession(f.administration(), SETTINGS, engine=object(), drop=drop)  # type: ignore[arg-type]
    with pytest.raises(DeliveryError, match="550 Permission denied"):
        session.send(f.order(id=1000, order_nr="WEB5204"))
    assert not [event for event in numbering if event[0] == "save"]


# ===== Related Settings ==========================================================================================

@pytest.mark.parametrize("raw", [{}, {"CompanyCode": ""}], ids=["absent", "empty"])
def test_settings_without_company_code_refused(raw: dict[str, Any]) -> None:
    with pytest.raises(SettingsError, match="CompanyCode"):
        reflecta_settings.parse(raw)


def test_settings_company_code_is_trimmed() -> None:
    assert reflecta_settings.parse({"CompanyCode": "  RFL01 "}).CompanyCode == "RFL01"


def test_unknown_setting_refused() -> None:
    with pytest.raises(SettingsError, match="Foo") as caught:
        reflecta_settings.parse({"CompanyCode": "RFL01", "Foo": "bar"})
    assert "not a setting" in str(caught.value)


@pytest.mark.parametrize("name", ["Password", "Address", "Username", "UseTLS", "UseSSL", "FtpActiveConnection"])
def test_transport_setting_refused_it_belongs_in_the_airflow_connection(name: str) -> None:
    with pytest.raises(SettingsError) as caught:
        reflecta_settings.parse({"CompanyCode": "RFL01", name: "secret"})
    message = str(caught.value)
    assert name in message
    assert "Airflow connection" in message
    assert "secret" not in message


# ===== Known Limitations: no discounts, surcharges, attachments or payments ======================================

def test_no_discounts_surcharges_attachments_or_payments() -> None:
    lines = [f.line(0, price="90.00", original_price=Decimal("100.00"), discount_percentage=Decimal(10)),
             f.line(1, price="5.00")]
    plain = f.order(lines=lines)
    loaded = f.order(
        lines=lines,
        shipping_costs_excl_vat=Decimal("6.95"), shipping_costs_incl_vat=Decimal("8.41"),
        webshop_discount_percentage=Decimal("2.5"),
        total_excl_vat=Decimal("101.95"), total_vat=Decimal("21.41"), total_incl_vat=Decimal("123.36"),
        is_paid=True, payment=f.payment(payment_id="tr_WxYz", amount=Decimal("123.36")),
        attachments=(f.attachment(file_name="signature.png", content=b"\x89PNG"),),
    )
    root = build(loaded)
    assert to_bytes(root) == to_bytes(build(plain))
    allowed = {"Orders", "OrderHeader", "WebOrderNr", "CompanyCode", "OrderDate", "CustomerCode", "CurrencyCode",
               "OrderLines", "OrderLine", *LINE_ELEMENTS}
    assert {node.tag for node in root.iter()} <= allowed
    body = to_bytes(root).decode()
    for value in ("6.95", "8.41", "2.5", "123.36", "tr_WxYz", "signature.png", "100.00", "10"):
        assert f">{value}<" not in body


# ===== XSD =======================================================================================================

def test_xsd_refuses_a_document_without_CustomerCode() -> None:
    root = build(f.order())
    header = root.find("OrderHeader")
    assert header is not None
    customer_code = header.find("CustomerCode")
    assert customer_code is not None
    header.remove(customer_code)
    with pytest.raises(OrderDataError) as caught:
        validate(root, XSD)
    # the element the schema expected next in place of the missing CustomerCode
    assert "CustomerCode" in str(caught.value)


@pytest.mark.parametrize(
    ("path", "value"),
    [("OrderHeader/OrderDate", "15-03-2024"), ("OrderHeader/OrderLines/OrderLine/OrderedQty", "-1"),
     ("OrderHeader/OrderLines/OrderLine/WebOrderLineSeq", "0"), ("OrderHeader/CompanyCode", "")],
)
def test_xsd_refuses_bad_values(path: str, value: str) -> None:
    root = build(f.order())
    node = root.find(path)
    assert node is not None
    node.text = value
    with pytest.raises(OrderDataError):
        validate(root, XSD)


def test_lowercase_currency_is_refused_by_the_xsd() -> None:
    order = f.order(customer_=f.customer(price_list_currency="gbp"))
    with pytest.raises(OrderDataError):
        build(order)
