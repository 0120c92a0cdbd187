"""Loading orders from the order database: every field a connector may read, with its type, on
SQLite and PostgreSQL; a chunk loaded a slice at a time sees what a whole load sees."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa

from backoffice_export import repository
from backoffice_export.db import schema as s
from backoffice_export.document import load_document
from backoffice_export.model import (
    Address,
    Attachment,
    Contact,
    Customer,
    Item,
    OrderLine,
    PaymentDetails,
    SalesRep,
)

FULL_ORDER = {
    "internal_order_nr": "A-1", "guid": "0b9f7c2e-0000-4000-8000-000000000001", "order_nr": "WEB-1",
    "order_type": "Default", "customer": "C1", "sales_rep": "R1",
    "order_date": "2026-11-20T10:15:00", "created_at": "2026-11-20T10:16:00", "delivery_date": "2026-12-01",
    "your_reference": "PO-7", "reference": "REF-7", "notes": "Ring twice", "description1": "d1",
    "description2": "d2", "description3": "d3", "signature": "sig", "delivery_method_code": "POST",
    "consumer_name": "Eva", "consumer_email": "eva@example.test", "consumer_phone": "+31 6 1234 5678",
    "is_dropshipment": True, "is_paid": True, "prices_include_vat": True,
    "shipping_costs_excl_vat": "6.95", "shipping_costs_incl_vat": "8.41", "total_excl_vat": "36.25",
    "total_vat": "7.61", "total_incl_vat": "43.86", "webshop_discount_percentage": "2.5",
    "alternate_address": {"name": "Depot", "contact": "Jan", "address1": "Kerkstraat 42-f3", "address2": "Achter",
                          "postal_code": "1017 GM", "city": "Amsterdam", "state": "NH", "country_iso2": "NL",
                          "phone": "020-1", "email": "depot@example.test"},
    "payment": {"payment_id": "tr_1", "method": "ideal", "status": "paid", "amount": "43.86"},
    "attachments": [{"kind": "order_pdf", "file_name": "a-1.pdf", "description": "Order",
                     "content_base64": "JVBERg=="}],
    "lines": [
        {"item": "I1", "quantity": "2", "quantity_delivered": "1", "price": "12.10", "price_excl_vat": "10.00",
         "original_price": "15.00", "discount_percentage": "19.333", "vat_percentage": "21", "instruction": "gift",
         "description": "Shirt", "delivery_date": "2026-12-02"},
        {"item": "I2", "quantity": "1.5", "price": "0.10"},
    ],
}


def _document(orders: list[dict]) -> dict:
    return {"administrations": [{
        "code": "ADM", "application_name": "Demo", "connector": "reflecta", "connection_id": "c",
        "default_currency": "EUR", "settings": {"CompanyCode": "01"},
        "price_lists": [{"code": "GBP-LIST", "currency_iso": "GBP"}],
        "sales_reps": [{"code": "R1", "user_id": 7, "user_name": "rep", "full_name": "Rep One",
                        "email": "rep@example.test", "warehouse": "MAIN"}],
        "customers": [{"code": "C1", "guid": "g-c1", "name": "Boutique", "email": "c1@example.test", "phone": "1",
                       "address1": "Hoofdstraat 1", "address2": "b", "postal_code": "1011 AA", "city": "Amsterdam",
                       "state": "NH", "country_iso2": "NL", "price_list_code": "GBP-LIST", "vat_liable": False,
                       "extra_data": "x", "delivery_method": "Post", "default_discount": "5",
                       "contacts": [{"first_name": "Eva", "last_name": "Jansen", "email": "e@example.test",
                                     "phone": "2", "is_main": False},
                                    {"first_name": "Piet", "is_main": True}]}],
        "items": [{"code": "I1", "description": "Shirt", "model_description": "T", "ean": "871", "vat_percentage": "21",
                   "sales_price": "24.95", "stock": "12.345", "extra_data": {"BackofficeItemCode": "BO1"},
                   "matrix_child": {"color_description": "Red", "style_number": "ST1", "color_sorting": 2}},
                  {"code": "I2"}],
        "orders": orders,
    }]}


def _ids(engine: sa.Engine) -> list[int]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(s.orders.c.id).order_by(s.orders.c.id)).scalars())


def test_every_field_is_loaded_with_its_type(any_engine: sa.Engine) -> None:
    load_document(any_engine, _document([FULL_ORDER]))
    [order] = repository.load_orders(any_engine, _ids(any_engine))

    assert (order.internal_order_nr, order.guid, order.order_nr, order.order_type) == (
        "A-1", FULL_ORDER["guid"], "WEB-1", "Default")
    assert (order.order_date, order.created_at, order.delivery_date) == (
        datetime(2026, 11, 20, 10, 15), datetime(2026, 11, 20, 10, 16), date(2026, 12, 1))
    assert (order.your_reference, order.reference, order.notes, order.description1, order.description2,
            order.description3, order.signature, order.delivery_method_code, order.consumer_name,
            order.consumer_email, order.consumer_phone) == (
        "PO-7", "REF-7", "Ring twice", "d1", "d2", "d3", "sig", "POST", "Eva", "eva@example.test", "+31 6 1234 5678")
    assert (order.is_dropshipment, order.is_paid, order.prices_include_vat) == (True, True, True)
    amounts = (order.shipping_costs_excl_vat, order.shipping_costs_incl_vat, order.total_excl_vat, order.total_vat,
               order.total_incl_vat, order.webshop_discount_percentage)
    assert amounts == tuple(map(Decimal, ("6.95", "8.41", "36.25", "7.61", "43.86", "2.5")))
    assert all(type(a) is Decimal for a in amounts)
    assert order.export_attempts == 1
    assert (order.administration.code, order.administration.settings) == ("ADM", {"CompanyCode": "01"})

    assert order.customer == Customer(
        id=order.customer.id, code="C1", name="Boutique", guid="g-c1", email="c1@example.test", phone="1",
        address1="Hoofdstraat 1", address2="b", postal_code="1011 AA", city="Amsterdam", state="NH",
        country_iso2="NL", price_list_code="GBP-LIST", price_list_currency="GBP", vat_liable=False, extra_data="x",
        delivery_method="Post", default_discount=Decimal(5),
        contacts=(Contact("Eva", "Jansen", "e@example.test", "2", False), Contact("Piet", is_main=True)))
    assert order.customer.main_contact == Contact("Piet", is_main=True)
    assert order.sales_rep == SalesRep(id=order.sales_rep.id, code="R1", user_id=7, user_name="rep",
                                       full_name="Rep One", email="rep@example.test", warehouse="MAIN")
    assert order.alternate_address == Address(
        id=order.alternate_address.id, name="Depot", contact="Jan", address1="Kerkstraat 42-f3", address2="Achter",
        postal_code="1017 GM", city="Amsterdam", state="NH", country_iso2="NL", phone="020-1",
        email="depot@example.test")
    assert order.payment == PaymentDetails("tr_1", "ideal", "paid", Decimal("43.86"))
    assert order.attachments == (Attachment("order_pdf", "a-1.pdf", b"%PDF", "Order"),)

    first, second = order.lines
    assert first == OrderLine(
        line_index=0, item=first.item, quantity=Decimal(2), price=Decimal("12.10"), price_excl_vat=Decimal(10),
        original_price=Decimal(15), discount_percentage=Decimal("19.333"), vat_percentage=Decimal(21),
        quantity_delivered=Decimal(1), instruction="gift", description="Shirt", delivery_date=date(2026, 12, 2))
    assert first.item == Item(
        id=first.item.id, code="I1", description="Shirt", model_description="T", ean="871",
        vat_percentage=Decimal(21), sales_price=Decimal("24.95"), stock=Decimal("12.345"),
        extra_data={"BackofficeItemCode": "BO1"}, is_matrix_child=True, matrix_color_description="Red",
        matrix_style_number="ST1", matrix_color_sorting=2)
    assert (second.line_index, second.quantity, second.price, second.price_excl_vat, second.item.code,
            second.item.extra_data) == (1, Decimal("1.5"), Decimal("0.10"), None, "I2", None)


def test_a_chunk_loaded_a_slice_at_a_time_sees_what_a_whole_load_sees(sqlite_engine: sa.Engine) -> None:
    orders = [{**FULL_ORDER, "internal_order_nr": f"A-{i}", "guid": None,
               "customer": "C1" if i % 2 else None, "sales_rep": "R1" if i % 3 else None,
               "alternate_address": FULL_ORDER["alternate_address"] if i % 2 else None,
               "payment": FULL_ORDER["payment"] if i % 2 else None,
               "attachments": FULL_ORDER["attachments"] if i % 3 else []} for i in range(7)]
    load_document(sqlite_engine, _document(orders))
    ids = _ids(sqlite_engine)
    whole = repository.load_orders(sqlite_engine, ids)
    known = repository.Known()
    sliced = [o for start in range(0, len(ids), 3)
              for o in repository.load_orders(sqlite_engine, ids[start:start + 3], known=known)]
    assert sliced == whole
    assert [o.internal_order_nr for o in whole] == [f"A-{i}" for i in range(7)]
    assert [o.customer is None for o in whole] == [i % 2 == 0 for i in range(7)]
    assert [len(o.attachments) for o in whole] == [1 if i % 3 else 0 for i in range(7)]
