"""The bad-input catalog: malformed orders in one chunk among good ones, through a real run.

Each malformed order ends in one of three ways, all of them stated here per case:
- ``failed``: stored on the order with a message naming the order and the field;
- ``rejected``: refused at load with a message naming the order and the field (it cannot even
  be stored: a date that does not exist, an amount that is not a number);
- ``sent``: the value is legitimate and must arrive intact (XML special characters, text
  outside ISO-8859-1 in UTF-8 XML, formula-like text in XML).
The good orders of the same chunk are sent; the run itself succeeds.
"""

from __future__ import annotations

import copy

from lxml import etree

from backoffice_export import export_state
from backoffice_export.document import load_document
from tests.e2e.conftest import task_states
from tests.helpers import bind_connection, reflecta_admin

GOOD = {"customer": "C1", "order_date": "2026-11-20T10:00:00",
        "lines": [{"item": "TS-M", "quantity": "2", "price": "12.50"}]}
ADDRESS = {"name": "Shop", "address1": "Kerkstraat 42-f3", "postal_code": "1017 GC", "city": "Amsterdam",
           "country_iso2": "NL"}


def _with(**changes):
    order = copy.deepcopy(GOOD)
    order.update(changes)
    return order


def _line(**changes):
    line = dict(GOOD["lines"][0])
    line.update(changes)
    return _with(lines=[line])


# case -> (order, expected outcome, field named in the message, or a check of the sent file)
CATALOG = {
    "no customer": (_with(customer=None), "failed", "Order.Customer"),
    "unknown customer code": (_with(customer="NOBODY"), "failed", "Order.Customer"),
    "no lines": (_with(lines=[]), "failed", "Order.OrderLines"),
    "unknown item": (_line(item="GHOST"), "failed", "OrderLine.Item"),
    "item without ExtraData": (_line(item="NO-EXTRA"), "failed", "Item.ExtraData"),
    "ExtraData without backoffice item code": (_line(item="EMPTY-EXTRA"), "failed",
                                               "Item.ExtraData.BackofficeItemCode"),
    "negative quantity": (_line(quantity="-1"), "failed", "OrderLine.Quantity"),
    "zero quantity": (_line(quantity="0"), "failed", "OrderLine.Quantity"),
    "price missing": (_line(price=None), "failed", "OrderLine.Price"),
    "negative price": (_line(price="-3.00"), "failed", "OrderLine.Price"),
    "customer code too long": (_with(customer="X" * 51), "failed", "CustomerCode"),
    "control character in customer name": (_with(customer="CTRL", alternate_address=ADDRESS), "failed",
                                           "Customer.Name"),
    "lone surrogate in address": (_with(alternate_address={**ADDRESS, "city": "Amster\ud800dam"}), "rejected",
                                  "alternate_address/city"),
    "NUL character in notes": (_with(notes="a\x00b"), "rejected", "notes"),
    "vertical tab in postal code": (_with(alternate_address={**ADDRESS, "postal_code": "1017\x0bGC"}), "failed",
                                    "AlternateAddress.PostalCode"),
    "order number with ../": (_with(order_nr="../../etc/passwd"), "failed", "Order.OrderNr"),
    "order number with a slash": (_with(order_nr="a/b"), "failed", "Order.OrderNr"),
    "order number with a backslash": (_with(order_nr="a\\b"), "failed", "Order.OrderNr"),
    "absolute order number": (_with(order_nr="/etc/x"), "failed", "Order.OrderNr"),
    "hidden-file order number": (_with(order_nr=".profile"), "failed", "Order.OrderNr"),
    "country not ISO-2": (_with(alternate_address={**ADDRESS, "country_iso2": "NLD"}), "failed",
                          "AlternateAddress.CountryIso2"),
    "address line over 255 characters": (_with(alternate_address={**ADDRESS, "address1": "Straat " * 40 + "1"}),
                                         "failed", "Street"),
    "date that does not exist": (_with(order_date="2026-02-30T10:00:00"), "rejected", "order_date"),
    "date in the wrong format": (_with(order_date="20-11-2026"), "rejected", "order_date"),
    "delivery date that does not exist": (_with(delivery_date="2026-13-01"), "rejected", "delivery_date"),
    "amount with a decimal comma": (_line(price="12,50"), "rejected", "lines/0/price"),
    "quantity as words": (_line(quantity="two"), "rejected", "lines/0/quantity"),
    "line without an item": ({**GOOD, "lines": [{"quantity": "1", "price": "1"}]}, "rejected", "lines/0"),
    "unknown order field": (_with(colour="red"), "rejected", "colour"),
    "XML special characters in the customer code": (_with(customer="A&B<1>"), "sent", "A&B<1>"),
    "text outside ISO-8859-1 in the name": (_with(customer="UNICODE", alternate_address=ADDRESS), "sent",
                                            "Zoë Ünïcødé ☃"),
    "formula-like text": (_with(customer="=SUM(A1)", alternate_address=ADDRESS), "sent", "=SUM(A1)"),
    "CSV separators and quotes in text": (_with(customer="SEMI", alternate_address=ADDRESS), "sent",
                                          'A;B,"C"\nD'),
}
SETTINGS_CATALOG = {
    "CompanyCode missing": ({}, "CompanyCode"),
    "unknown connector setting": ({"CompanyCode": "01", "Colour": "red"}, "Colour"),
    "password among the settings": ({"CompanyCode": "01", "Password": "x"}, "Password"),
}


def test_the_catalog_has_at_least_thirty_cases():
    assert len(CATALOG) + len(SETTINGS_CATALOG) >= 30


def test_each_malformed_order_gets_its_own_outcome_and_the_good_ones_go(
    export_dag, sqlite_engine, sandboxes, monkeypatch
):
    conn_id, folder = bind_connection(monkeypatch, sandboxes, "sftp")
    admin = reflecta_admin("catalog", conn_id)
    admin["items"].append({"code": "EMPTY-EXTRA", "extra_data": {"ItemDimension": "RED"}})
    admin["customers"] += [
        {"code": "A&B<1>", "name": "Ampersand & <Angle>"},
        {"code": "X" * 51, "name": "Too long"},
        {"code": "CTRL", "name": "Bell\x07Name"},
        {"code": "UNICODE", "name": "Zoë Ünïcødé ☃"},
        {"code": "=SUM(A1)", "name": "=SUM(A1)"},
        {"code": "SEMI", "name": 'A;B,"C"\nD'},
    ]
    cases = CATALOG
    numbers = {}
    orders = []
    for i, (name, (order, _, _)) in enumerate(cases.items()):
        numbers[name] = f"bad{i}"
        orders.append({"internal_order_nr": f"bad{i}", **order})
    orders += [{"internal_order_nr": f"good{i}", **GOOD} for i in range(3)]
    admin["orders"] = orders

    loaded = load_document(sqlite_engine, {"administrations": [admin]})
    run = export_dag.test()
    assert run.state == "success"
    assert task_states(run)["reflecta.send_chunk"] == ["success"]

    states = {r.internal_order_nr: r for r in export_state.states(sqlite_engine, administration="catalog")}
    received = {path: data for path, data in sandboxes.received_files("sftp").items() if path.startswith(folder)}
    for i in range(3):
        assert states[f"good{i}"].state == "sent"
    for name, (_, outcome, detail) in cases.items():
        number = numbers[name]
        if outcome == "failed":
            row = states[number]
            assert row.state == "failed", name
            assert row.error.startswith(f"order {number} (catalog): "), (name, row.error)
            assert detail in row.error, (name, row.error)
        elif outcome == "rejected":
            assert number not in states, name
            message = next(m for m in loaded["rejected"] if m.startswith(f"order {number} (catalog)"))
            assert detail in message, (name, message)
        else:
            row = states[number]
            assert row.state == "sent", (name, row.error)
            document = etree.fromstring(received[f"{folder}/orders/{row.backoffice_order_nr}.xml"])
            texts = [e.text for e in document.iter()]
            assert detail in texts, (name, texts)


def test_bad_settings_fail_every_order_of_the_administration(export_dag, sqlite_engine, sandboxes, monkeypatch):
    conn_id, _ = bind_connection(monkeypatch, sandboxes, "sftp")
    admins = [reflecta_admin(f"settings{i}", conn_id, settings=settings,
                             orders=[{"internal_order_nr": "1", **GOOD}])
              for i, (settings, _) in enumerate(SETTINGS_CATALOG.values())]
    load_document(sqlite_engine, {"administrations": admins})
    assert export_dag.test().state == "success"
    for i, (name, (_, field)) in enumerate(SETTINGS_CATALOG.items()):
        row = export_state.states(sqlite_engine, administration=f"settings{i}")[0]
        assert row.state == "failed", name
        assert row.error.startswith(f"order 1 (settings{i}): ") and field in row.error, (name, row.error)


def test_an_application_name_cannot_leave_the_files_root(export_dag, sqlite_engine, sandboxes, monkeypatch,
                                                         files_root):
    conn_id, _ = bind_connection(monkeypatch, sandboxes, "sftp")
    admin = reflecta_admin("escape", conn_id, application_name="../../outside",
                           orders=[{"internal_order_nr": "1", **GOOD}])
    load_document(sqlite_engine, {"administrations": [admin]})
    export_dag.test()
    row = export_state.states(sqlite_engine, administration="escape")[0]
    assert row.state == "failed" and "Administration.ApplicationName" in row.error
    assert not (files_root.parent / "outside").exists()
