"""AccountView settings: the seed's names and labels, their defaults, and what is refused."""

from __future__ import annotations

from typing import Any

import pytest

from backoffice_export.connectors.accountview import settings as av_settings
from backoffice_export.errors import SettingsError

BOOLEANS = ["UnitModule", "UseSbaItems", "DontSendDiscountToBackoffice", "DontSendPriceToBackoffice",
            "AddOrderLineInstructionToItemDescription", "UsePriceFromApp"]


def test_defaults_send_everything_in_one_request_with_comment3() -> None:
    settings = av_settings.parse({})
    assert settings.OrderLinesBatchCount == 0
    assert settings.FixedEmployeeCode is None
    assert settings.OrderNoteLabel == ""
    assert settings.MapOrderReferenceToCustomField is None
    assert settings.SelectionCodeForOrders is None
    for name in BOOLEANS:
        assert getattr(settings, name) is False


def test_every_seed_setting_is_accepted_by_its_name() -> None:
    raw = {"OrderLinesBatchCount": 50, "FixedEmployeeCode": "EMP01", "OrderNoteLabel": "Note:",
           "MapOrderReferenceToCustomField": "X11_A4S_REF", "SelectionCodeForOrders": "APP",
           **{name: True for name in BOOLEANS}}
    settings = av_settings.parse(raw)
    assert settings.model_dump() == raw


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("True", True), ("1", True), ("false", False),
                                               ("False", False), ("0", False), (True, True)])
def test_boolean_settings_accept_app4sales_spellings(raw: Any, expected: bool) -> None:
    for name in BOOLEANS:
        assert getattr(av_settings.parse({name: raw}), name) is expected


@pytest.mark.parametrize(("raw", "expected"), [(None, 0), ("", 0), ("  ", 0), ("25", 25), (1, 1), (0, 0)])
def test_order_lines_batch_count_empty_means_no_batching(raw: Any, expected: int) -> None:
    assert av_settings.parse({"OrderLinesBatchCount": raw}).OrderLinesBatchCount == expected


@pytest.mark.parametrize("raw", [-1, "ten", "2.5"])
def test_order_lines_batch_count_must_be_a_whole_number_not_below_zero(raw: Any) -> None:
    with pytest.raises(SettingsError, match="OrderLinesBatchCount"):
        av_settings.parse({"OrderLinesBatchCount": raw})


@pytest.mark.parametrize("name", ["FixedEmployeeCode", "SelectionCodeForOrders", "MapOrderReferenceToCustomField"])
def test_blank_text_settings_are_unset(name: str) -> None:
    assert getattr(av_settings.parse({name: "   "}), name) is None
    assert getattr(av_settings.parse({name: ""}), name) is None


def test_order_note_label_is_trimmed_and_none_is_no_label() -> None:
    assert av_settings.parse({"OrderNoteLabel": "  Opmerking: "}).OrderNoteLabel == "Opmerking:"
    assert av_settings.parse({"OrderNoteLabel": None}).OrderNoteLabel == ""


@pytest.mark.parametrize("value", ["X11 REF", "1FIELD", "ref;drop", "A" * 31, "comment3", "RPL_INV", "ord_nr"])
def test_custom_field_must_be_a_field_name_and_not_a_standard_field(value: str) -> None:
    with pytest.raises(SettingsError, match="MapOrderReferenceToCustomField"):
        av_settings.parse({"MapOrderReferenceToCustomField": value})


def test_unknown_setting_refused() -> None:
    with pytest.raises(SettingsError, match=r"OrderLinesBatchSize.*not a setting"):
        av_settings.parse({"OrderLinesBatchSize": 5})


@pytest.mark.parametrize("name", ["ClientId", "ClientSecret", "Token", "BaseUrl", "Password"])
def test_credentials_are_refused_as_settings_they_belong_in_the_airflow_connection(name: str) -> None:
    with pytest.raises(SettingsError) as caught:
        av_settings.parse({name: "s3cr3t-value"})
    assert "Airflow connection" in str(caught.value)
    assert "s3cr3t-value" not in str(caught.value)
