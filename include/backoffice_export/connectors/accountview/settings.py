"""Visma AccountView connector settings, named as in the seed; effects: docs/accountview.md.

The API address, OAuth2 client, refresh token and company are the Airflow connection, never settings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pydantic

from backoffice_export.connectors.base import SettingsModel, parse_settings

# An AccountView field name becomes a key of the request's field definition: a FoxPro-style
# identifier, never free text.
_FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,29}$")


class AccountViewSettings(SettingsModel):
    OrderLinesBatchCount: int = pydantic.Field(default=0, ge=0, description="Number of orderlines per request")
    FixedEmployeeCode: str | None = pydantic.Field(default=None,
                                                   description="Fixed value on orders as employee code")
    OrderNoteLabel: str = pydantic.Field(default="", description="Label for order note")
    MapOrderReferenceToCustomField: str | None = pydantic.Field(
        default=None, description="Map order reference to custom field (leave empty to use comment3/INTERNAL_NOTE)")
    SelectionCodeForOrders: str | None = pydantic.Field(default=None, description="Selection code for orders")
    UnitModule: bool = pydantic.Field(default=False, description="Unit module active")
    UseSbaItems: bool = pydantic.Field(
        default=False, description="Use SBA table from Accountview to retrieve the matrix items")
    DontSendDiscountToBackoffice: bool = pydantic.Field(default=False,
                                                        description="Don't send discount to AccountView")
    DontSendPriceToBackoffice: bool = pydantic.Field(default=False, description="Don't send price to AccountView")
    AddOrderLineInstructionToItemDescription: bool = pydantic.Field(
        default=False, description="Add orderline instruction to item description")
    UsePriceFromApp: bool = pydantic.Field(default=False,
                                           description="Use price from app when discount isn't filled")

    @pydantic.field_validator("OrderLinesBatchCount", mode="before")
    @classmethod
    def _empty_count_is_no_batching(cls, value: Any) -> Any:
        return 0 if value is None or (isinstance(value, str) and not value.strip()) else value

    @pydantic.field_validator("OrderNoteLabel", mode="before")
    @classmethod
    def _no_label(cls, value: Any) -> Any:
        return "" if value is None else value

    @pydantic.field_validator("FixedEmployeeCode", "SelectionCodeForOrders", "MapOrderReferenceToCustomField")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @pydantic.field_validator("MapOrderReferenceToCustomField")
    @classmethod
    def _a_field_name(cls, value: str | None) -> str | None:
        from backoffice_export.connectors.accountview.envelope import HEADER_FIELDS

        if value is None:
            return None
        if not _FIELD_NAME.match(value):
            raise ValueError("must be an AccountView field name (a letter, then letters, digits or '_', "
                             "at most 30)")
        if value.upper() in {name.upper() for name in HEADER_FIELDS}:
            raise ValueError(f"names the standard field {value}; give the custom field the reference goes to")
        return value


def parse(raw: Mapping[str, Any]) -> AccountViewSettings:
    return parse_settings(AccountViewSettings, raw, "accountview")
