"""Remarks a connector stores with a sent order (``Sent.remark``), shown in the ledger and by resend."""

from __future__ import annotations

ALREADY_AT_ERP = "already at the ERP"


def already_at_erp(erp: str, number: str | None) -> str:
    """The remark for an order the ERP turned out to hold already: nothing was sent again."""
    return f"{ALREADY_AT_ERP}: {erp} had it as order {number}; nothing was sent again"


def is_already_at_erp(remark: str | None) -> bool:
    return bool(remark) and remark.startswith(ALREADY_AT_ERP)  # type: ignore[union-attr]
