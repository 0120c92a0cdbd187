"""Reflecta connector settings: only ``CompanyCode``; the seed's address and credentials are the Airflow connection."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pydantic

from backoffice_export.connectors.base import SettingsModel, parse_settings


class ReflectaSettings(SettingsModel):
    CompanyCode: str = pydantic.Field(min_length=1, description="Identifies the administration in Reflecta")


def parse(raw: Mapping[str, Any]) -> ReflectaSettings:
    if not str(raw.get("CompanyCode") or "").strip():
        # The seed calls it mandatory: say so in words, not in pydantic's.
        from backoffice_export.errors import SettingsError

        raise SettingsError("reflecta settings invalid: setting CompanyCode is mandatory and not configured")
    return parse_settings(ReflectaSettings, raw, "reflecta")
