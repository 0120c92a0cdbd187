"""The contract between the export runner and a connector."""

from __future__ import annotations

import abc
import pickle
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import pydantic
import sqlalchemy as sa

from backoffice_export.errors import SettingsError
from backoffice_export.model import Administration, Order, OrderRef


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
    """One chunk's connection to the ERP, in two steps per order.

    ``build`` makes everything the ERP will receive (mapping, validation, serialisation, the
    numbers it needs) and must not touch the transport; it raises ``OrderDataError`` for bad
    data. ``deliver`` hands what ``build`` made to the ERP and says how it went, raising
    ``DeliveryError`` / ``ConnectionLost`` when it did not go. Kept apart so the data's problems
    and the transport's are told apart, and so building can run ahead of the transport in a
    process of its own (``order_turns``). ``deliver`` reads only the order's head (``OrderRef``:
    id, numbers, attempts) besides what ``build`` made, so the order itself never has to cross
    from the builder's process to the transport's.
    """

    def build(self, order: Order) -> Any: ...

    def deliver(self, order: OrderRef, built: Any) -> Sent: ...

    def send(self, order: Order) -> Sent:
        """Both steps for one order (what the runner does, without building ahead)."""

    # Optional: ``stage(order, built)`` starts handing ``built`` to the ERP before the order's
    # turn where that is invisible to the ERP (a file under its temporary name), so the
    # transport overlaps its waiting. ``deliver`` then finishes it, or does it over when what
    # was staged did not go; it alone decides the order's outcome (``export._ahead``).


class BuildThenDeliver(abc.ABC):
    """``send`` for sessions that implement ``build`` and ``deliver``."""

    @abc.abstractmethod
    def build(self, order: Order) -> Any:
        """Everything the ERP will receive for ``order``; no transport."""

    @abc.abstractmethod
    def deliver(self, order: OrderRef, built: Any) -> Sent:
        """Hand ``built`` to the ERP."""

    def send(self, order: Order) -> Sent:
        return self.deliver(order, self.build(order))


T = TypeVar("T")


class Later(Generic[T]):
    """A part of what ``build`` made that ``deliver`` seldom reads, unpickled only if it does.

    What was built crosses from the builder to the task's process pickled, and the task's
    process delivers: every microsecond it spends unpickling is one the transport waits. An
    AccountView order's tables (some hundred small objects, Decimals among them) took 0.1 s
    per 1,000 orders to unpickle there, while delivering a fresh order reads only their line
    count. Pickled, this holds its value as bytes, which cost a copy to cross.
    """

    __slots__ = ("_pickled", "_value")

    def __init__(self, value: T) -> None:
        self._value: T | None = value
        self._pickled: bytes | None = None

    def get(self) -> T:
        if self._pickled is not None:
            self._value, self._pickled = pickle.loads(self._pickled), None  # noqa: S301 (this task's own builder made it)
        return self._value  # type: ignore[return-value]

    def __getstate__(self) -> bytes:
        return self._pickled if self._pickled is not None else pickle.dumps(self._value, pickle.HIGHEST_PROTOCOL)

    def __setstate__(self, state: bytes) -> None:
        self._value, self._pickled = None, state


class PreparedAhead:
    """What a session's ``prepare_slice`` made for each order of a slice, until that order's
    ``build`` takes it. A failure is kept too, and raised at the order's own turn, so the
    order's outcome is the one building it alone would give."""

    def __init__(self) -> None:
        self._ready: dict[int, Any] = {}

    def keep(self, order_id: int, make: Callable[[], T]) -> T | None:
        """``make()``, kept for the order; ``None`` when it failed (the failure is kept)."""
        try:
            self._ready[order_id] = value = make()
        except Exception as exc:
            self._ready[order_id] = _Failed(exc)
            return None
        return value

    def take(self, order_id: int) -> Any | None:
        """What was kept for the order (``None``: nothing, build it alone); raises a kept failure."""
        value = self._ready.pop(order_id, None)
        if isinstance(value, _Failed):
            raise value.error
        return value


@dataclass(frozen=True)
class _Failed:
    error: Exception


class Connector(Protocol):
    name: str

    def parse_settings(self, raw: Mapping[str, Any]) -> Any: ...

    def builder(self, administration: Administration, settings: Any, engine: sa.Engine) -> Session:
        """A session that only builds (its transport is ``NO_TRANSPORT``): the runner starts
        building with it while the delivering session is still connecting."""

    def open_session(self, administration: Administration, settings: Any,
                     engine: sa.Engine) -> AbstractContextManager[Session]:
        """Open the chunk's one transport connection; raise ConnectionLost when it cannot."""


class _NoTransport:
    """The transport of a session that only builds. ``build`` never touches the transport, so
    reaching for this one is a bug, and says so."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"a session that only builds has no transport (it was asked for {name!r})")


NO_TRANSPORT: Any = _NoTransport()


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
