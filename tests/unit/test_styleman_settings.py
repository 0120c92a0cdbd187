"""StyleMan settings (seed "Related Settings & Prerequisites", plus ApiVersion and OrderType) and the
exact JSON body every setting ends up in."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from backoffice_export.connectors import get_connector
from backoffice_export.connectors.styleman import settings as styleman_settings
from backoffice_export.errors import SettingsError
from backoffice_export.mapping import exact_json

SWITCHES = ["ValidateOrderBeforeSending", "UseResultsTagForRequest", "DontSendAlternativeAddressOnOrder",
            "FilterNonIso88591Characters"]


def test_defaults_every_switch_off_version_v1_no_order_type() -> None:
    parsed = styleman_settings.parse({})
    assert [getattr(parsed, name) for name in SWITCHES] == [False] * 4
    assert parsed.ApiVersion == "v1"
    assert parsed.OrderType is None


@pytest.mark.parametrize("name", SWITCHES)
@pytest.mark.parametrize(("raw", "expected"), [(True, True), ("true", True), ("True", True), ("1", True),
                                               (False, False), ("false", False), ("0", False)])
def test_switches_accept_booleans_as_app4sales_stores_them(name: str, raw: object, expected: bool) -> None:
    assert getattr(styleman_settings.parse({name: raw}), name) is expected


@pytest.mark.parametrize("name", SWITCHES)
def test_a_switch_that_is_not_a_boolean_is_refused_by_name(name: str) -> None:
    with pytest.raises(SettingsError, match=name):
        styleman_settings.parse({name: "sometimes"})


@pytest.mark.parametrize("version", ["v1", "v2", "2.0", "V3_beta"])
def test_api_version_is_one_path_segment(version: str) -> None:
    assert styleman_settings.parse({"ApiVersion": version}).ApiVersion == version


@pytest.mark.parametrize("version", ["", "v1/../admin", "v1?x=1", "../v1", "v 1", None])
def test_api_version_that_would_change_the_url_is_refused(version: str | None) -> None:
    with pytest.raises(SettingsError, match="ApiVersion"):
        styleman_settings.parse({"ApiVersion": version})


def test_order_type_trimmed_and_blank_means_none() -> None:
    assert styleman_settings.parse({"OrderType": "  VO "}).OrderType == "VO"
    assert styleman_settings.parse({"OrderType": ""}).OrderType is None
    assert styleman_settings.parse({"OrderType": None}).OrderType is None


def test_unknown_setting_refused() -> None:
    with pytest.raises(SettingsError, match="ValidateOrderBeforeSend ") as caught:
        styleman_settings.parse({"ValidateOrderBeforeSend ": True})
    assert "not a setting" in str(caught.value)


@pytest.mark.parametrize("name", ["ClientId", "ClientSecret", "BaseUrl", "Username", "Password", "Token"])
def test_credentials_are_refused_as_settings_they_belong_in_the_airflow_connection(name: str) -> None:
    with pytest.raises(SettingsError) as caught:
        styleman_settings.parse({name: "s3cr3t-value"})
    assert name in str(caught.value) and "Airflow connection" in str(caught.value)
    assert "s3cr3t-value" not in str(caught.value)


def test_the_registry_finds_the_styleman_connector() -> None:
    connector = get_connector("styleman")
    assert connector is not None and connector.name == "styleman"
    assert connector.parse_settings({"OrderType": "VO"}).OrderType == "VO"


# ===== exact JSON (the body every setting ends up in) ============================================================

def test_exact_json_keeps_decimal_amounts_as_written() -> None:
    body = exact_json.dumps({"a": Decimal("12.50"), "b": Decimal("0.1"), "c": [Decimal("-3"), Decimal("1E+2")],
                             "d": None, "e": True, "f": 7, "g": "Café € \"quoted\""})
    assert body == ('{"a": 12.50, "b": 0.1, "c": [-3, 100], "d": null, "e": true, "f": 7, '
                    '"g": "Café € \\"quoted\\""}').encode()
    assert json.loads(body, parse_float=Decimal)["a"] == Decimal("12.50")


def test_exact_json_refuses_floats_and_non_finite_decimals() -> None:
    with pytest.raises(TypeError, match="float"):
        exact_json.dumps({"price": 12.5})
    with pytest.raises(ValueError, match="NaN"):
        exact_json.dumps([Decimal("NaN")])
