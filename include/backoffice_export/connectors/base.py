"""The contract between the export runner and a connector."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

import pydantic
import sqlalchemy as sa

from backoffice_export.errors import SettingsError
from backoffice_export.model import Administration, Order


@dataclass(frozen=True)
class Sent:
    """What the ERP now knows the order as, and where it went (shown in the ledger).

    ``write_back_order_nr``: the number to store on the order itself (``orders.order_nr``), in
    the same transaction as the sent state, where the seed writes the ERP's number back;
    ``progress`` likewise for a connector that tracks its delivery in steps.
    """

    backoffice_order_nr: str | None
    destination: str
    write_back_order_nr: str | None = None
    # A connector's delivery progress (``export_state.progress``) to store with the sent state.
    progress: Mapping[str, Any] | None = None
    # What the ERP remarked on storing it (e.g. articles it took as text rows), or that it already
    # had the order: stored with the sent state and shown in the ledger.
    remark: str | None = None


class Session(Protocol):
    """One chunk's connection to the ERP. ``build`` makes everything the ERP will receive and
    raises ``OrderDataError`` for bad data, without touching the transport; ``deliver`` hands it
    over and raises ``DeliveryError`` / ``ConnectionLost`` when it did not go. Kept apart so a
    data problem and a transport problem are told apart."""

    def build(self, order: Order) -> Any: ...

    def deliver(self, order: Order, built: Any) -> Sent: ...


class BuildThenDeliver(abc.ABC):
    """Base of every connector's session: ``send`` is ``build`` then ``deliver``."""

    @abc.abstractmethod
    def build(self, order: Order) -> Any:
        """Everything the ERP will receive for ``order``; no transport."""

    @abc.abstractmethod
    def deliver(self, order: Order, built: Any) -> Sent:
        """Hand ``built`` to the ERP."""

    def send(self, order: Order) -> Sent:
        return self.deliver(order, self.build(order))


class Connector(Protocol):
    """What the runner needs of a connector package."""

    name: str

    def parse_settings(self, raw: Mapping[str, Any]) -> Any: ...

    def open_session(self, administration: Administration, settings: Any,
                     engine: sa.Engine) -> AbstractContextManager[Session]:
        """Open the chunk's one transport connection; raise ConnectionLost when it cannot."""


class SettingsModel(pydantic.BaseModel):
    """Base for connector settings: seed names, unknown names refused, values validated."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


# Transport settings of the original connectors. Credentials live only in Airflow connections,
# so these are refused as settings with a pointer to where they belong.
CONNECTION_FIELDS = frozenset({"Address", "Username", "Password", "UseTLS", "UseSSL", "FtpActiveConnection",
                               "BaseUrl", "ClientId", "ClientSecret", "ApiKey", "Token"})


def parse_settings(model: type[pydantic.BaseModel], raw: Mapping[str, Any], connector: str) -> Any:
    """Validate settings, turning pydantic's report into one line per offending setting."""
    misplaced = sorted(CONNECTION_FIELDS & set(raw))
    if misplaced:
        raise SettingsError(
            f"{connector} settings invalid: setting {', '.join(misplaced)} belongs in the administration's "
            "Airflow connection (host, login, password, extras), not in its connector settings"
        )
    try:
        return model.model_validate(dict(raw))
    except pydantic.ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = ".".join(str(p) for p in error["loc"]) or "settings"
            reason = "is not a setting of this connector" if error["type"] == "extra_forbidden" else error["msg"]
            problems.append(f"setting {name} {reason}")
        raise SettingsError(f"{connector} settings invalid: " + "; ".join(problems)) from None
