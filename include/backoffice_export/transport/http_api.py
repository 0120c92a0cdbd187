"""JSON APIs of ERPs, reached through the http provider's ``HttpHook``.

One ``ApiSession`` is one chunk's ``requests`` session (keep-alive, so a chunk reuses its TCP
connection), built by ``HttpHook.get_conn`` from the Airflow connection: base URL from host /
schema / port, basic auth from login / password, timeouts and TLS options from the extras.
Requests go through ``HttpHook.run_and_check``.

The hook sends every connection extra it does not know as a request header. Extras that
configure a connector (``auth_type``, ``token_endpoint`` ...) are taken off the session here,
so they never travel as headers, and secrets belong in login / password, never in extras.

Failures are sorted as the export needs them:

- connection refused, timeout, reply lost, HTTP 5xx / 429: transient (``TransientHttpError``),
  retried with backoff by ``create_once``, which looks the order up before every new POST so
  a POST whose reply was lost never creates a second order;
- HTTP 4xx: the ERP refused the order, a ``DeliveryError`` carrying the ERP's own message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

import requests

from backoffice_export.errors import ConnectionLost, DeliveryError

log = logging.getLogger(__name__)
T = TypeVar("T")
DEFAULT_TIMEOUT = (10.0, 30.0)  # connect, read: the same bounds the file transports use


class TransientHttpError(DeliveryError):
    """The ERP may accept the same request later (down, slow, overloaded, reply lost).

    ``in_flight``: the request was sent and no answer came before the timeout, so the ERP may
    still be working on it; a look-up now could miss an order that is about to exist.
    """

    def __init__(self, message: str, *, delivered_unknown: bool = True, in_flight: bool = False) -> None:
        super().__init__(message, retryable=True, delivered_unknown=delivered_unknown)
        self.in_flight = in_flight


@dataclass
class ApiReply:
    status: int
    body: Any
    text: str


class ApiSession:
    def __init__(self, conn_id: str, *, consumed_extras: Iterable[str] = (), headers: dict[str, str] | None = None,
                 use_basic_auth: bool = True) -> None:
        from airflow.providers.http.hooks.http import HttpHook

        self.conn_id = conn_id
        self.hook = HttpHook(method="POST", http_conn_id=conn_id)
        self.connection = self.hook.get_connection(conn_id)
        extra = self.connection.extra_dejson
        self.session: requests.Session = self.hook.get_conn(headers={"Accept": "application/json", **(headers or {})})
        for key in consumed_extras:
            self.session.headers.pop(key, None)
        if not use_basic_auth:
            self.session.auth = None
        timeout = extra.get("timeout")
        self.timeout = tuple(timeout) if isinstance(timeout, list) else (float(timeout), float(timeout)) \
            if timeout is not None else DEFAULT_TIMEOUT
        self.base_url = self.hook.base_url.rstrip("/")

    @property
    def extra(self) -> dict[str, Any]:
        return self.connection.extra_dejson

    def describe(self, path: str = "") -> str:
        """Where requests go, for the ledger: the URL without credentials or query."""
        return f"{self.base_url}/{path.lstrip('/')}" if path else self.base_url

    def request(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
                headers: dict[str, str] | None = None, data: Any = None) -> ApiReply:
        url = f"{self.base_url}/{path.lstrip('/')}"
        prepared = self.session.prepare_request(
            requests.Request(method, url, json=json, params=params, headers=headers, data=data)
        )
        try:
            response = self.hook.run_and_check(
                self.session, prepared, {"check_response": False, "timeout": self.timeout}
            )
        except requests.exceptions.ConnectTimeout as exc:  # before ConnectionError: it is both
            raise TransientHttpError(f"{method} {self.describe(path)}: no connection within {self.timeout[0]:g} s",
                                     delivered_unknown=False) from exc
        except requests.exceptions.ConnectionError as exc:
            raise TransientHttpError(f"{method} {self.describe(path)}: no reply ({_short(exc)})",
                                     delivered_unknown=method != "GET") from exc
        except requests.exceptions.Timeout as exc:
            raise TransientHttpError(f"{method} {self.describe(path)}: timed out after {self.timeout[1]:g} s",
                                     delivered_unknown=method != "GET", in_flight=method != "GET") from exc
        except requests.exceptions.RequestException as exc:
            raise DeliveryError(f"{method} {self.describe(path)}: request failed: {_short(exc)}",
                                retryable=False) from exc
        try:
            body = response.json(parse_float=Decimal) if response.content else None
        except ValueError:
            body = None
        reply = ApiReply(response.status_code, body, response.text[:2000])
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientHttpError(f"{method} {self.describe(path)}: HTTP {response.status_code} "
                                     f"{response.reason}: {reply.text[:300]}", delivered_unknown=method != "GET")
        return reply

    def close(self) -> None:
        self.session.close()


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) < 300 else text[:297] + "..."


def create_once(
    *,
    lookup: Callable[[], T | None],
    create: Callable[[], T],
    attempts: int = 3,
    backoff: float = 0.5,
    label: str = "order",
    lookup_first: bool = False,
) -> tuple[T, bool]:
    """Create something at most once, even when replies get lost.

    Before every POST after the first, ``lookup`` asks the ERP whether an earlier attempt
    arrived after all; only when it did not is the POST repeated. Returns the result and
    whether it was found (already there) rather than created. Once the attempts are used up
    the order is left for a later run, which again looks before it sends: pass
    ``lookup_first=order.export_attempts > 1`` so a rerun looks before its first POST too.
    A look-up that fails transiently (the ERP is still down) uses up an attempt like a failed
    POST and is retried with the same backoff; no POST is repeated until a look-up has answered.
    A POST that timed out waiting for its answer is never repeated in the same attempt loop:
    the ERP may still be storing it, so the order waits for the task's retry, which looks first.
    """
    last: TransientHttpError | None = None
    for attempt in range(1, attempts + 1):
        try:
            if attempt > 1 or lookup_first:
                found = lookup()
                if found is not None:
                    log.info("%s: an earlier attempt reached the ERP; not sending again", label)
                    return found, True
            return create(), False
        except TransientHttpError as exc:
            last = exc
            log.warning("%s: attempt %d of %d failed: %s", label, attempt, attempts, exc)
            if exc.in_flight:
                # The ERP may still be storing that POST: a look-up now could miss it and a second
                # POST would duplicate the order. Leave it to the task's retry (seconds to minutes
                # later), which looks the order up before anything else.
                raise ConnectionLost(f"{exc} (not sent again now: the ERP may still be processing it; "
                                     "the retry looks the order up first)", delivered_unknown=True) from exc
            if attempt < attempts:
                time.sleep(backoff * 2 ** (attempt - 1))
    assert last is not None
    raise ConnectionLost(f"{last} (gave up after {attempts} attempts; the next run looks the order up first)",
                         delivered_unknown=True) from last


def session_for(administration: Any, erp: str, **options: Any) -> ApiSession:
    """The chunk's session to an administration's ERP API (``options`` go to ``ApiSession``).

    An administration that names no connection is its data: every order fails for good, naming
    it. A named connection that Airflow does not know is fixed in Airflow, not in the orders: the
    chunk is handed back (the task fails, naming the connection) and goes once it is defined.
    """
    from airflow.exceptions import AirflowNotFoundException

    conn_id = administration.connection_for(erp)
    try:
        return ApiSession(conn_id, **options)
    except AirflowNotFoundException:
        raise ConnectionLost(f"Airflow connection {conn_id} of administration {administration.code} "
                             f"is not defined ({erp})") from None
