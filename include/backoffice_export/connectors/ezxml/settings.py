"""EzXml connector settings, named as in the seed; an unknown ``OrderFormat`` is refused.

The FTP address and credentials are the Airflow connection; see docs/formats/ezxml.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import pydantic

from backoffice_export.connectors.base import SettingsModel, parse_settings
from backoffice_export.errors import SettingsError

DEFAULT_EXPORT_FOLDER = "export"


class Format(StrEnum):
    DEFAULT = "Default"
    CSV = "CSV"
    REFLECTA = "Reflecta"


_FORMAT_NAMES = {"": Format.DEFAULT, "default": Format.DEFAULT, "xml": Format.DEFAULT,
                 "csv": Format.CSV, "reflecta": Format.REFLECTA}


class EzXmlSettings(SettingsModel):
    OrderFormat: Format = Format.DEFAULT
    UseInternalOrdersAsWebOrderNr: bool = False
    FtpOrderExportFolder: str = DEFAULT_EXPORT_FOLDER
    ReflectaProviderCode: str | None = None
    ReflectaContextCode: str | None = None
    ReflectaCompanyCode: str | None = None
    ReflectaWarehouseGroupCode: str | None = None
    ReflectaOrderOriginCode: str | None = None
    ReflectaSeasonCode: str | None = None
    ReflectaSalesDepartmentCode: str | None = None
    ReflectaDeliveryTermCode: str | None = None
    ReflectaDeliveryTermCodeWhenTheOrderHasNoShippingCosts: str | None = None

    @pydantic.field_validator("OrderFormat", mode="before")
    @classmethod
    def _format(cls, value: Any) -> Format:
        name = "" if value is None else str(value).strip().lower()
        if name not in _FORMAT_NAMES:
            raise ValueError(f"is {value!r}; expected CSV, Reflecta, or Default (XML)")
        return _FORMAT_NAMES[name]

    @pydantic.field_validator("UseInternalOrdersAsWebOrderNr", mode="before")
    @classmethod
    def _flag(cls, value: Any) -> Any:
        return False if value is None or (isinstance(value, str) and not value.strip()) else value

    @pydantic.field_validator("FtpOrderExportFolder", mode="before")
    @classmethod
    def _folder(cls, value: Any) -> str:
        text = "" if value is None else str(value).strip().replace("\\", "/")
        parts = [part for part in text.split("/") if part not in {"", "."}]
        if any(part == ".." for part in parts):
            raise ValueError(f"is {value!r}; '..' would leave the connection's folder")
        if any(ord(ch) < 32 for ch in text):
            raise ValueError("contains a control character")
        return "/".join(parts) or DEFAULT_EXPORT_FOLDER

    @pydantic.field_validator(
        "ReflectaProviderCode", "ReflectaContextCode", "ReflectaCompanyCode", "ReflectaWarehouseGroupCode",
        "ReflectaOrderOriginCode", "ReflectaSeasonCode", "ReflectaSalesDepartmentCode", "ReflectaDeliveryTermCode",
        "ReflectaDeliveryTermCodeWhenTheOrderHasNoShippingCosts", mode="before",
    )
    @classmethod
    def _code(cls, value: Any) -> str | None:
        text = "" if value is None else str(value).strip()
        return text or None


REQUIRED_FOR_REFLECTA = ("ReflectaProviderCode", "ReflectaCompanyCode")


def parse(raw: Mapping[str, Any]) -> EzXmlSettings:
    settings: EzXmlSettings = parse_settings(EzXmlSettings, raw, "ezxml")
    if settings.OrderFormat is Format.REFLECTA:
        missing = [name for name in REQUIRED_FOR_REFLECTA if not getattr(settings, name)]
        if missing:
            raise SettingsError(
                "ezxml settings invalid: OrderFormat Reflecta needs "
                + " and ".join(f"setting {name}" for name in missing) + ", which is not configured"
            )
    return settings
