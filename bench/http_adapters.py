"""Mapping-only calls and bare floors for the connectors other than Reflecta.

Filled in per connector as each one is built; a connector without an entry here is reported
without that figure rather than guessed at.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any


def _ezxml_mapper(settings: Any) -> Callable[[Any], bytes]:
    from backoffice_export.connectors.ezxml.delivery import EzXmlSession

    def build(order: Any) -> bytes:
        session = EzXmlSession(order.administration, settings, engine=None, drop=None)  # type: ignore[arg-type]
        return session.render(order, session.stand_in_numbers(order))

    return build


MAPPERS: dict[str, Callable[[Any], Callable[[Any], Any]]] = {"ezxml": _ezxml_mapper}


def mapper(connector: str, settings: Any) -> Callable[[Any], Any] | None:
    make = MAPPERS.get(connector)
    return make(settings) if make else None


def floor(connector: str, sandboxes: Any, root: Path) -> tuple[float, int] | None:
    return None
