"""Spector connector settings, by the seed's names ("Related Settings & Prerequisites")."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from backoffice_export.connectors.spector import settings as spector_settings
from backoffice_export.errors import SettingsError


def test_defaults_are_all_off() -> None:
    settings = spector_settings.parse({})
    assert (settings.SetOrderDateAsDeliveryDate, settings.OnlySendDiscount) == (False, False)
    assert settings.PublishedCommentOnOrder is settings.RequirementsOnOrder is settings.stock_site_id is None


@pytest.mark.parametrize(("raw", "expected"), [(True, True), ("true", True), ("True", True), ("1", True),
                                               (False, False), ("false", False), ("0", False)])
def test_set_order_date_as_delivery_date_and_only_send_discount_are_booleans(raw: Any, expected: bool) -> None:
    settings = spector_settings.parse({"SetOrderDateAsDeliveryDate": raw, "OnlySendDiscount": raw})
    assert (settings.SetOrderDateAsDeliveryDate, settings.OnlySendDiscount) == (expected, expected)


def test_a_boolean_setting_that_is_not_a_boolean_is_refused() -> None:
    with pytest.raises(SettingsError, match="setting OnlySendDiscount"):
        spector_settings.parse({"OnlySendDiscount": "sometimes"})


def test_text_settings_are_trimmed_and_blank_means_not_configured() -> None:
    settings = spector_settings.parse({"PublishedCommentOnOrder": "  Thanks!  ", "RequirementsOnOrder": "   "})
    assert (settings.PublishedCommentOnOrder, settings.RequirementsOnOrder) == ("Thanks!", None)


def test_a_control_character_in_a_text_setting_is_refused_naming_it() -> None:
    with pytest.raises(SettingsError, match=r"setting RequirementsOnOrder.*U\+0007"):
        spector_settings.parse({"RequirementsOnOrder": "ring\x07"})


def test_stock_site_id_that_is_not_an_integer_is_not_sent_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        settings = spector_settings.parse({"StockSiteID": "Main warehouse"})
    assert settings.stock_site_id is None
    assert "StockSiteID 'Main warehouse' is not a valid integer" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert spector_settings.parse({"StockSiteID": 4}).stock_site_id == 4
    assert caplog.text == ""


@pytest.mark.parametrize(("text", "expected"),
                         [("0", 0), ("-2147483648", -2147483648), ("-2147483649", None), ("\t42\n", 42),
                          ("4_2", None), ("0x1A", None), ("", None)])
def test_try_parse_int32_is_dotnet_int_tryparse(text: str, expected: int | None) -> None:
    assert spector_settings.try_parse_int32(text) == expected


def test_unknown_setting_refused() -> None:
    with pytest.raises(SettingsError, match="setting StockSiteId is not a setting of this connector"):
        spector_settings.parse({"StockSiteId": "3"})


@pytest.mark.parametrize("name", ["BaseUrl", "ApiKey", "Token", "Username", "Password", "ClientSecret"])
def test_credentials_are_refused_as_settings(name: str) -> None:
    with pytest.raises(SettingsError) as caught:
        spector_settings.parse({name: "s3cr3t-value"})
    assert name in str(caught.value) and "Airflow connection" in str(caught.value)
    assert "s3cr3t-value" not in str(caught.value)
