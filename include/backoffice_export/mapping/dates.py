"""The .NET date formats the seeds name, spelled once."""

from __future__ import annotations

from datetime import date, datetime


def iso_date(value: date | datetime) -> str:
    """``yyyy-MM-dd``."""
    return value.strftime("%Y-%m-%d")


def dutch_date(value: date | datetime) -> str:
    """``dd-MM-yyyy``."""
    return value.strftime("%d-%m-%Y")


def compact_datetime(value: datetime) -> str:
    """``yyyyMMdd HH:mm``."""
    return value.strftime("%Y%m%d %H:%M")
