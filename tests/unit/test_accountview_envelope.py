"""The SO1 envelope: AccountView's request shape, positional values, FieldTypes, look-ups and replies."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from backoffice_export.connectors.accountview import envelope
from backoffice_export.connectors.accountview.envelope import Field, FieldType, Table
from backoffice_export.mapping import exact_json

C, L, N, D, T = FieldType.TEXT, FieldType.LOGICAL, FieldType.NUMERIC, FieldType.DATE, FieldType.DATETIME
HEADER = envelope.table("SO_HDR", [(Field("RowId", C), "000001"), (Field("rpl_inv", C), "20010"),
                                   (Field("ord_date", T), "2024-03-20T14:05:09"), (Field("ORDER_TYPE", L), True)])
LINES = Table("SO_LINE", (Field("RowId", C), Field("HeaderId", C), Field("art_code", C), Field("ord_qty", N),
                          Field("art_px", N)),
              tuple((envelope.row_id(i), "000001", f"ART{i}", Decimal(i), Decimal("12.50")) for i in range(1, 6)))


def test_insert_body_is_the_SO1_envelope_with_positional_values() -> None:
    body = envelope.insert_body("2024-03-20T14:05:09", HEADER, LINES.slice(0, 2))
    assert body == {
        "BookDate": "2024-03-20T14:05:09",
        "BusinessObject": "SO1",
        "Table": {
            "Definition": {"Name": "SO_HDR", "Fields": [
                {"Name": "RowId", "FieldType": "C"}, {"Name": "rpl_inv", "FieldType": "C"},
                {"Name": "ord_date", "FieldType": "T"}, {"Name": "ORDER_TYPE", "FieldType": "L"}]},
            "DetailDefinitions": [{"Name": "SO_LINE", "Fields": [
                {"Name": "RowId", "FieldType": "C"}, {"Name": "HeaderId", "FieldType": "C"},
                {"Name": "art_code", "FieldType": "C"}, {"Name": "ord_qty", "FieldType": "N"},
                {"Name": "art_px", "FieldType": "N"}]}],
        },
        "TableData": {
            "Data": {"Rows": [{"Values": ["000001", "20010", "2024-03-20T14:05:09", True]}]},
            "DetailData": [{"Rows": [
                {"Values": ["000001", "000001", "ART1", Decimal(1), Decimal("12.50")]},
                {"Values": ["000002", "000001", "ART2", Decimal(2), Decimal("12.50")]}]}],
        },
    }


def test_update_body_names_the_order_key_and_carries_only_further_lines() -> None:
    body = envelope.update_body("2024-03-20T14:05:09", "10001", LINES.slice(2, 5))
    assert body["Table"]["Definition"] == {"Name": "SO_HDR", "Fields": [{"Name": "RowId", "FieldType": "C"},
                                                                        {"Name": "ORD_NR", "FieldType": "C"}]}
    assert body["TableData"]["Data"] == {"Rows": [{"Values": ["000001", "10001"]}]}
    rows = body["TableData"]["DetailData"][0]["Rows"]
    assert [r["Values"][0] for r in rows] == ["000003", "000004", "000005"]


def test_amounts_go_out_as_exact_json_numbers() -> None:
    text = exact_json.dumps(envelope.insert_body("2024-03-20T14:05:09", HEADER, LINES.slice(0, 1))).decode()
    assert '"Values": ["000001", "000001", "ART1", 1, 12.50]' in text
    assert json.loads(text, parse_float=Decimal)["TableData"]["DetailData"][0]["Rows"][0]["Values"][4] == \
        Decimal("12.50")


@pytest.mark.parametrize(("field_type", "good", "bad"), [
    (FieldType.TEXT, ["", "x"], [1, None, True]),
    (FieldType.MEMO, ["long\ntext"], [Decimal(1)]),
    (FieldType.LOGICAL, [True, False], ["true", 1, None]),
    (FieldType.NUMERIC, [Decimal("1.5"), 3], [1.5, "1.5", True, None]),
    (FieldType.CURRENCY, [Decimal("9.95")], [9.95]),
    (FieldType.DOUBLE, [Decimal("0.1")], ["0.1"]),
    (FieldType.INTEGER, [3], [Decimal(3), True, 3.0]),
    (FieldType.DATE, ["2024-04-02"], ["02-04-2024", "2024-04-02T00:00:00", date(2024, 4, 2)]),
    (FieldType.DATETIME, ["2024-04-02T09:30:00"], ["2024-04-02", "2024-04-02 09:30:00", datetime(2024, 4, 2)]),
])
def test_values_must_fit_their_FieldType(field_type: FieldType, good: list[Any], bad: list[Any]) -> None:
    for value in good:
        assert envelope.fits(field_type, value), value
    for value in bad:
        assert not envelope.fits(field_type, value), value


def test_a_table_refuses_a_value_of_the_wrong_type_or_a_missing_value() -> None:
    with pytest.raises(ValueError, match=r"SO_LINE\.ord_qty"):
        Table("SO_LINE", (Field("RowId", C), Field("ord_qty", N)), (("000001", 2.0),))
    with pytest.raises(ValueError, match="1 values for 2 fields"):
        Table("SO_LINE", (Field("RowId", C), Field("ord_qty", N)), (("000001",),))
    with pytest.raises(ValueError, match="defined twice"):
        Table("SO_HDR", (Field("RowId", C), Field("ROWID", C)), (("a", "b"),))


def test_dates_and_datetimes_in_AccountViews_formats() -> None:
    assert envelope.date_value(date(2024, 4, 2)) == "2024-04-02"
    assert envelope.datetime_value(datetime(2024, 4, 2, 9, 5, 7, 999)) == "2024-04-02T09:05:07"
    assert envelope.row_id(1) == "000001" and envelope.row_id(123) == "000123"


def test_lookup_params_use_AccountViews_numbered_filters() -> None:
    params = envelope.lookup_params([("rpl_inv", C, "20010"), ("ord_date", T, "2024-03-20T14:05:09")])
    assert params == {
        "BusinessObject": "SO1", "PageSize": "10",
        "FilterControlSource1": "rpl_inv", "FilterOperator1": "Equal", "FilterValueType1": "C",
        "FilterValue1": "20010",
        "FilterControlSource2": "ord_date", "FilterOperator2": "Equal", "FilterValueType2": "T",
        "FilterValue2": "2024-03-20T14:05:09",
    }


def test_lookup_params_can_ask_for_a_field_that_contains_a_value() -> None:
    params = envelope.lookup_params([("rpl_inv", C, "20010"), ("comment2", envelope.FieldType.MEMO, "9f86d081")],
                                    operator="Contains")
    assert (params["FilterOperator1"], params["FilterOperator2"]) == ("Equal", "Contains")
    assert (params["FilterControlSource2"], params["FilterValueType2"], params["FilterValue2"]) == (
        "comment2", "M", "9f86d081")


def test_replies_are_read_whatever_the_case_of_table_and_field_names() -> None:
    body = {"so_hdr": [{"RowId": "000001", "ord_nr": 10001}], "SO_LINE": [{"ORD_NR": "10001"}, "junk"]}
    headers = envelope.rows_of(body, "SO_HDR")
    assert [envelope.order_number(h) for h in headers] == ["10001"]
    assert len(envelope.rows_of(body, "SO_LINE")) == 1
    assert envelope.rows_of(None, "SO_HDR") == [] and envelope.rows_of({"SO_HDR": "x"}, "SO_HDR") == []
    assert envelope.order_number({"ORD_NR": "  "}) is None and envelope.order_number({"ORD_NR": True}) is None


def test_the_error_shape_gives_its_ErrorMessage() -> None:
    body = {"ErrorType": "AccountViewError", "ErrorNumbers": None, "ErrorMessage": "Debiteur 9 bestaat niet"}
    assert envelope.error_message(body) == "Debiteur 9 bestaat niet"
    assert envelope.error_message({"ErrorMessage": ""}) is None
    assert envelope.error_message("oops") is None
