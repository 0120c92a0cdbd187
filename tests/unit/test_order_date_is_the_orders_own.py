"""Issue 23: an order's date is its own calendar date in its own time zone, in every connector."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa

from backoffice_export import repository
from backoffice_export.connectors.ezxml import default_xml, reflecta_xml
from backoffice_export.connectors.ezxml import settings as ezxml_settings
from backoffice_export.connectors.ezxml.common import OrderNumbers
from backoffice_export.connectors.reflecta import mapping as reflecta_mapping
from backoffice_export.connectors.reflecta import settings as reflecta_settings
from backoffice_export.connectors.spector import mapping as spector_mapping
from backoffice_export.connectors.spector import settings as spector_settings
from backoffice_export.connectors.styleman import mapping as styleman_mapping
from backoffice_export.connectors.styleman import settings as styleman_settings
from backoffice_export.db import schema as s
from backoffice_export.document import load_document
from backoffice_export.mapping.xml import parse_reply

DOCUMENT = {"administrations": [{
    "code": "TZ", "application_name": "Tz", "connector": "spector", "connection_id": "c", "default_currency": "EUR",
    "customers": [{"code": "C1", "name": "Boutique", "guid": "0b9f7c2e-0000-4000-8000-00000000000c"}],
    "items": [{"code": "I1", "description": "Shirt", "vat_percentage": "21",
               "extra_data": {"BackofficeItemCode": "BO1"}}],
    "orders": [{"internal_order_nr": "T-1", "guid": "0b9f7c2e-0000-4000-8000-000000000001", "customer": "C1",
                "order_date": "2026-11-21T00:30:00+01:00", "created_at": "2026-11-21T00:30:00+01:00",
                "lines": [{"item": "I1", "quantity": "1", "price": "10.00"}]}],
}]}


def test_an_order_taken_just_after_midnight_keeps_its_own_date(sqlite_engine: sa.Engine) -> None:
    load_document(sqlite_engine, DOCUMENT)
    with sqlite_engine.connect() as conn:
        ids = list(conn.execute(sa.select(s.orders.c.id)).scalars())
    [order] = repository.load_orders(sqlite_engine, ids)
    assert order.order_date == datetime(2026, 11, 21, 0, 30)

    spector = spector_mapping.build_order(order, spector_settings.parse({}), date(2026, 12, 1))
    assert spector["orderDate"] == spector["deliveryDate"] == "2026-11-21"
    reflecta = reflecta_mapping.build_order(order, reflecta_settings.parse({"CompanyCode": "01"}), "1")
    assert reflecta.findtext("OrderHeader/OrderDate") == "2026-11-21"
    numbers = OrderNumbers(order_nr="Default1", generated="Default1")
    assert parse_reply(default_xml.render(order, numbers)).findtext("OrderHeader/OrderDate") == "2026-11-21T00:30:00"
    ez = ezxml_settings.parse({"OrderFormat": "Reflecta", "ReflectaProviderCode": "P", "ReflectaCompanyCode": "01"})
    assert parse_reply(reflecta_xml.render(order, ez, numbers)).findtext("OrderHeader/OrderDate") == "21-11-2026"
    styleman = styleman_mapping.build_sales_order(order, styleman_settings.parse({}), created=datetime(2026, 12, 1))
    assert styleman["OrderDate"] == "2026-11-21T00:30:00"
