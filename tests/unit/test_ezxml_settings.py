"""EzXml connector settings (seed "Related Settings & Prerequisites")."""

from __future__ import annotations

from typing import Any

import pytest

from backoffice_export.connectors.ezxml import settings as ezxml_settings
from backoffice_export.connectors.ezxml.settings import Format
from backoffice_export.errors import SettingsError

REFLECTA = {"OrderFormat": "Reflecta", "ReflectaProviderCode": "P", "ReflectaCompanyCode": "01"}


@pytest.mark.parametrize(("value", "expected"), [
    (None, Format.DEFAULT), ("", Format.DEFAULT), ("Default", Format.DEFAULT), ("XML", Format.DEFAULT),
    ("CSV", Format.CSV), ("csv", Format.CSV), (" Reflecta ", Format.REFLECTA), ("REFLECTA", Format.REFLECTA),
])
def test_OrderFormat_chooses_the_format(value: str | None, expected: Format) -> None:
    raw: dict[str, Any] = {"ReflectaProviderCode": "P", "ReflectaCompanyCode": "01"}
    if value is not None:
        raw["OrderFormat"] = value
    assert ezxml_settings.parse(raw).OrderFormat is expected


def test_no_settings_means_default_xml_export_folder_and_generated_numbers() -> None:
    settings = ezxml_settings.parse({})
    assert settings.OrderFormat is Format.DEFAULT
    assert settings.FtpOrderExportFolder == "export"
    assert settings.UseInternalOrdersAsWebOrderNr is False


def test_an_unknown_OrderFormat_is_refused_not_silently_defaulted() -> None:
    with pytest.raises(SettingsError, match="OrderFormat") as caught:
        ezxml_settings.parse({"OrderFormat": "Reflekta"})
    assert "Reflekta" in str(caught.value)


@pytest.mark.parametrize(("value", "expected"), [
    (True, True), ("true", True), ("1", True), (False, False), ("false", False), ("", False), (None, False)])
def test_UseInternalOrdersAsWebOrderNr_is_a_boolean(value: Any, expected: bool) -> None:
    assert ezxml_settings.parse({"UseInternalOrdersAsWebOrderNr": value}).UseInternalOrdersAsWebOrderNr is expected


def test_UseInternalOrdersAsWebOrderNr_refuses_a_non_boolean() -> None:
    with pytest.raises(SettingsError, match="UseInternalOrdersAsWebOrderNr"):
        ezxml_settings.parse({"UseInternalOrdersAsWebOrderNr": "sometimes"})


@pytest.mark.parametrize(("value", "expected"), [
    (None, "export"), ("", "export"), ("  ", "export"), ("orders", "orders"), ("/in/orders/", "in/orders"),
    ("in\\orders", "in/orders"), ("./in", "in")])
def test_FtpOrderExportFolder_defaults_to_export_and_stays_inside_the_connection_folder(
        value: str | None, expected: str) -> None:
    assert ezxml_settings.parse({"FtpOrderExportFolder": value}).FtpOrderExportFolder == expected


@pytest.mark.parametrize("value", ["../etc", "in/../../x", "a\x00b"])
def test_FtpOrderExportFolder_that_would_escape_is_refused(value: str) -> None:
    with pytest.raises(SettingsError, match="FtpOrderExportFolder"):
        ezxml_settings.parse({"FtpOrderExportFolder": value})


def test_all_Reflecta_settings_are_read_and_trimmed() -> None:
    names = ["ReflectaProviderCode", "ReflectaContextCode", "ReflectaCompanyCode", "ReflectaWarehouseGroupCode",
             "ReflectaOrderOriginCode", "ReflectaSeasonCode", "ReflectaSalesDepartmentCode",
             "ReflectaDeliveryTermCode", "ReflectaDeliveryTermCodeWhenTheOrderHasNoShippingCosts"]
    settings = ezxml_settings.parse({"OrderFormat": "Reflecta", **{name: f" {name[8:]} " for name in names}})
    assert {name: getattr(settings, name) for name in names} == {name: name[8:] for name in names}


@pytest.mark.parametrize("missing", ["ReflectaProviderCode", "ReflectaCompanyCode"])
def test_Reflecta_format_needs_provider_and_company_code(missing: str) -> None:
    with pytest.raises(SettingsError, match=missing):
        ezxml_settings.parse({**REFLECTA, missing: " "})


def test_Reflecta_settings_are_not_needed_by_the_other_formats() -> None:
    assert ezxml_settings.parse({"OrderFormat": "CSV"}).ReflectaCompanyCode is None


def test_unknown_setting_refused() -> None:
    with pytest.raises(SettingsError, match="FtpFolder") as caught:
        ezxml_settings.parse({"FtpFolder": "x"})
    assert "not a setting" in str(caught.value)


@pytest.mark.parametrize("name", ["Password", "Address", "Username", "UseTLS", "UseSSL", "FtpActiveConnection"])
def test_transport_setting_refused_it_belongs_in_the_airflow_connection(name: str) -> None:
    with pytest.raises(SettingsError) as caught:
        ezxml_settings.parse({name: "s3cr3t-value"})
    assert name in str(caught.value) and "Airflow connection" in str(caught.value)
    assert "s3cr3t-value" not in str(caught.value)
