"""StyleMan connector settings: the seed's four switches, plus ``ApiVersion`` and ``OrderType``.

Effects: docs/styleman.md. Base URL and credentials are the Airflow connection (``auth.py``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pydantic

from backoffice_export.connectors.base import SettingsModel, parse_settings

# The version becomes one URL path segment: letters, digits, '.', '_' and '-' only.
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$")


class StyleManSettings(SettingsModel):
    ValidateOrderBeforeSending: bool = False
    UseResultsTagForRequest: bool = False
    DontSendAlternativeAddressOnOrder: bool = False
    FilterNonIso88591Characters: bool = False
    ApiVersion: str = pydantic.Field(default="v1", description="The {Version} part of the StyleMan API path")
    OrderType: str | None = pydantic.Field(default=None, max_length=50,
                                           description="Order type sent with every order; none when empty")

    @pydantic.field_validator("ApiVersion")
    @classmethod
    def _version_is_one_path_segment(cls, value: str) -> str:
        if not _VERSION.match(value):
            raise ValueError("must be one URL path segment such as v1 (letters, digits, '.', '_', '-')")
        return value

    @pydantic.field_validator("OrderType")
    @classmethod
    def _blank_order_type_is_none(cls, value: str | None) -> str | None:
        return value or None


def parse(raw: Mapping[str, Any]) -> StyleManSettings:
    return parse_settings(StyleManSettings, raw, "styleman")
