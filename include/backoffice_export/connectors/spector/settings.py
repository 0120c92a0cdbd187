"""Spector connector settings, named as in the seed; effects: docs/spector.md.

Credentials live in the administration's Airflow connection, never in settings.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

import pydantic

from backoffice_export.connectors.base import SettingsModel, parse_settings
from backoffice_export.errors import OrderDataError
from backoffice_export.mapping.text import checked_text

log = logging.getLogger(__name__)

# int.TryParse(s, NumberStyles.Integer, InvariantCulture): optional white space around an
# optional sign and ASCII digits, inside the range of a 32-bit int.
_INT32_TEXT = re.compile(r"^[ \t\n\v\f\r]*[+-]?[0-9]+[ \t\n\v\f\r]*$")
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def try_parse_int32(value: object) -> int | None:
    """``int.TryParse`` on the setting's text: the integer, or ``None`` when it is not one."""
    if value is None or isinstance(value, bool):
        return None
    text = str(value)
    if not _INT32_TEXT.match(text):
        return None
    number = int(text)
    return number if INT32_MIN <= number <= INT32_MAX else None


class SpectorSettings(SettingsModel):
    SetOrderDateAsDeliveryDate: bool = pydantic.Field(
        False, description="Send today as the order date and no delivery date")
    PublishedCommentOnOrder: str | None = pydantic.Field(
        None, description="Comment shown on the Spector order (publishedComment)")
    RequirementsOnOrder: str | None = pydantic.Field(
        None, description="Special requirements sent with every order (requirements)")
    StockSiteID: str | None = pydantic.Field(
        None, description="Spector stock site id; sent only when it is a valid integer")
    OnlySendDiscount: bool = pydantic.Field(
        False, description="Send the item's sales price plus a separate discount instead of the net price")

    @pydantic.field_validator("StockSiteID", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> str | None:
        # The seed's setting is text that must parse as an integer: keep what was configured
        # (a JSON number included) and decide validity in ``stock_site_id``.
        return None if value is None else str(value)

    @pydantic.field_validator("PublishedCommentOnOrder", "RequirementsOnOrder", "StockSiteID")
    @classmethod
    def _clean_text(cls, value: str | None, info: pydantic.ValidationInfo) -> str | None:
        if value is None or not value.strip():
            return None  # blank means "not configured"
        try:
            return checked_text(value, info.field_name or "setting")
        except OrderDataError as exc:
            raise ValueError(exc.message) from None

    @property
    def stock_site_id(self) -> int | None:
        return try_parse_int32(self.StockSiteID)


def parse(raw: Mapping[str, Any]) -> SpectorSettings:
    settings: SpectorSettings = parse_settings(SpectorSettings, raw, "spector")
    if settings.StockSiteID is not None and settings.stock_site_id is None:
        log.warning("spector setting StockSiteID %r is not a valid integer; orders are sent without a stock site "
                    "(Spector's default applies)", settings.StockSiteID)
    return settings
