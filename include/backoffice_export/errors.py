"""Errors that decide what happens to an order.

Two kinds matter to operations: an order whose *data* is wrong fails for good (stored on the
order, the rest of the chunk goes on, a rerun will not help until someone fixes the order);
an order that met a *transient* fault (ERP down, connection cut) is retried by Airflow and by
later runs.
"""

from __future__ import annotations


class OrderDataError(Exception):
    """The order cannot be mapped as it is; ``field`` names what to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class SettingsError(Exception):
    """The administration's connector settings are invalid; every order of it fails."""


class DeliveryError(Exception):
    """The ERP or its transport refused or lost the hand-off.

    ``retryable`` says whether sending again later may succeed; ``delivered_unknown`` is set
    when the hand-off may have completed (a reply lost after the final rename or POST), so a
    retry must first look at the ERP instead of assuming nothing arrived.
    """

    def __init__(self, message: str, *, retryable: bool = True, delivered_unknown: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.delivered_unknown = delivered_unknown


class ConnectionLost(DeliveryError):
    """The transport connection itself is gone: the rest of the chunk waits for a retry."""
