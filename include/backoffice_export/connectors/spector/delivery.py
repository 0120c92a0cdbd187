"""Spector delivery: validate, POST the order once, write Spector's order number back.

One ``ApiSession`` (``HttpHook`` underneath, one keep-alive connection) per chunk, built from
the administration's Airflow connection; the contract (path, credentials, replies, result
codes) is in ``api.py``. Per order:

1. map (``mapping.build_order``) and validate (``validation.validate``): a bad order fails on
   its own with the App4Sales field to fix, nothing is sent for it;
2. ``create_once``: POST; on a transient failure (connection refused, timeout, reply lost,
   5xx) wait with backoff, look the order up by ``externalOrderNo`` (our key: administration
   code and App4Sales number, ``mapping.external_order_no``) and POST again only when Spector
   answered that it does not have it. An order claimed before (``export_attempts > 1``) is
   looked up before its first POST too, since an earlier run may have created it;
3. result 1 or the non-fatal code 2: Spector's number is written back to the order, in the
   same transaction as its sent state (``Sent.write_back_order_nr``). Result 10 ("exists")
   and a look-up hit count only once the order Spector holds is read back and proven to be
   this one (``prove``: customer and lines); otherwise the order fails for review. Any other
   code fails the order for good with Spector's code and message (the seed's
   ``GetResponseResult``); resending it would not help until the data is fixed.

Failures that are not about one order end the chunk (``ConnectionLost``): refused credentials
(HTTP 401/403), an unknown endpoint (404), a Spector still unreachable after the attempts, a
look-up answered with an error. The order in flight stays retryable, the rest is handed back unsent, and Airflow's
retry (or the next run) sends them once the cause is gone, looking each up first.

Secrets: login, password and the integration token travel only in headers; error texts carry
the URL without credentials and Spector's own message, never a request header.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from backoffice_export import identity
from backoffice_export.connectors import remarks
from backoffice_export.connectors.base import BuildThenDeliver, Sent
from backoffice_export.connectors.spector import api, mapping, validation
from backoffice_export.connectors.spector import settings as spector_settings
from backoffice_export.errors import ConnectionLost, DeliveryError, SettingsError
from backoffice_export.mapping import exact_json
from backoffice_export.model import Administration, Order
from backoffice_export.transport.http_api import ApiReply, ApiSession, create_once, session_for

log = logging.getLogger(__name__)
GENERIC_ERROR = "Spector did not accept the order"


@dataclass(frozen=True)
class SpectorRequest:
    """What ``build`` makes: the key, the order as a mapping (to compare) and the POST body."""

    key: str
    payload: dict[str, Any]
    body: bytes


class SpectorSession(BuildThenDeliver):
    def __init__(self, administration: Administration, settings: spector_settings.SpectorSettings,
                 engine: sa.Engine, http: ApiSession, *, today: date | None = None) -> None:
        self.administration, self.settings, self.engine, self.http = administration, settings, engine, http
        self.today = today

    def build(self, order: Order) -> SpectorRequest:
        payload = mapping.build_order(order, self.settings, self.today or date.today())
        validation.validate(payload)
        return SpectorRequest(payload["externalOrderNo"], payload, exact_json.dumps(payload))

    def deliver(self, order: Order, built: SpectorRequest) -> Sent:
        (order_no, remark), found = create_once(
            lookup=lambda: _no_remark(self.find(built)),
            create=lambda: self.create(built),
            lookup_first=order.export_attempts > 1,
            label=order.label,
        )
        if found:
            log.info("%s: Spector already has it as order %s (externalOrderNo %s, same customer and lines)",
                     order.label, order_no, built.key)
            remark = remarks.already_at_erp("Spector", order_no)
        return Sent(backoffice_order_nr=order_no, destination=self.http.describe(api.order_path(order_no)),
                    write_back_order_nr=order_no, remark=remark)

    def create(self, built: SpectorRequest) -> tuple[str, str | None]:
        """POST the order: Spector's number, and its remark when it stored the order with one
        (result 2: articles it does not know became text rows) or already had it (result 10)."""
        reply = self.http.request("POST", api.ORDERS_PATH, data=built.body,
                                  headers={"Content-Type": exact_json.CONTENT_TYPE})
        self._refuse_unusable_endpoint(reply, "POST")
        answer = api.read_reply(reply.body, reply.text)
        if reply.status < 300 and answer.result == api.EXISTS and answer.order_no is not None:
            return self.prove(answer.order_no, built), remarks.already_at_erp("Spector", answer.order_no)
        if reply.status < 300 and api.is_success(answer.result):
            if answer.order_no is None:
                raise DeliveryError(f"{GENERIC_ERROR}: Spector answered {answer.describe()} without an order "
                                    "number; check Spector before sending it again", retryable=False,
                                    delivered_unknown=True)
            if answer.result == api.Result.OK:
                return answer.order_no, None
            log.warning("Spector stored order %s with remark %s", answer.order_no, answer.describe())
            return answer.order_no, f"Spector {answer.describe()}"
        raise DeliveryError(f"{GENERIC_ERROR} (HTTP {reply.status}): {answer.describe()}", retryable=False)

    def find(self, built: SpectorRequest) -> str | None:
        """Spector's number for this order if it holds it under our key (proven), ``None`` if it holds none."""
        reply = self.http.request("GET", api.ORDERS_PATH, params={api.LOOKUP_PARAM: built.key})
        self._refuse_unusable_endpoint(reply, "GET")
        if reply.status >= 300:
            answer = api.read_reply(reply.body, reply.text)
            raise ConnectionLost(f"looking up externalOrderNo {built.key} failed (HTTP {reply.status}): "
                                 f"{answer.describe()}", delivered_unknown=True)
        try:
            numbers = api.found_order_nos(reply.body, built.key)
        except ValueError as exc:
            raise ConnectionLost(f"looking up externalOrderNo {built.key}: {exc}", delivered_unknown=True) from exc
        if not numbers:
            return None
        if len(numbers) > 1:
            log.warning("Spector holds %d orders with externalOrderNo %s: %s", len(numbers), built.key,
                        ", ".join(numbers))
        why = {number: self.why_not_this_order(number, built) for number in numbers}
        proven = [number for number, reason in why.items() if reason is None]
        if proven:
            return proven[0]
        raise self._for_review(built, numbers[0], why[numbers[0]] or "")

    def prove(self, order_no: str, built: SpectorRequest) -> str:
        """``order_no`` when Spector's order ``order_no`` is this order (customer, lines); else fail for review.

        Spector matched it by our key only. Taking it without comparing would store another
        order's number on this one and never send it, so any difference, or an order that
        cannot be read back, leaves the order failed for a person to check.
        """
        why = self.why_not_this_order(order_no, built)
        if why is not None:
            raise self._for_review(built, order_no, why)
        return order_no

    def why_not_this_order(self, order_no: str, built: SpectorRequest) -> str | None:
        """Read Spector's order ``order_no`` back: ``None`` when it is this order, else why it is not."""
        reply = self.http.request("GET", api.order_path(order_no))
        if reply.status in (401, 403):
            self._refuse_unusable_endpoint(reply, "GET")
        held = api.read_order(reply.body) if reply.status < 300 else None
        if held is None:
            answer = api.read_reply(reply.body, reply.text)
            return f"it could not be read back to compare (HTTP {reply.status}: {answer.describe()})"
        found = identity.differences(built.payload, held, fields=api.PROOF_FIELDS, lines=validation.LINES,
                                     line_fields=api.PROOF_LINE_FIELDS)
        return f"it is not this order: {identity.describe(found)}" if found else None

    @staticmethod
    def _for_review(built: SpectorRequest, order_no: str, why: str) -> DeliveryError:
        return DeliveryError(
            f"Spector already holds an order with externalOrderNo {built.key} (Spector order {order_no}), but {why}. "
            f"Not marked sent: check Spector order {order_no} against this order; if it is another order, remove "
            "or renumber it in Spector and resend this one",
            retryable=False, delivered_unknown=True)

    def _refuse_unusable_endpoint(self, reply: ApiReply, method: str) -> None:
        """Problems of the connection, not of the order: every order would meet them."""
        if reply.status in (401, 403):
            answer = api.read_reply(reply.body, reply.text)
            raise ConnectionLost(
                f"{method} {self.http.describe(api.ORDERS_PATH)}: Spector refused the credentials of connection "
                f"{self.http.conn_id} (HTTP {reply.status}: {answer.message or 'no message'}); check its login "
                f"(API user id), password (API key), extra {api.SBM_EXTRA} and extra {api.INTEGRATION_HEADER}"
            )
        if reply.status in (404, 405):
            raise ConnectionLost(f"{method} {self.http.describe(api.ORDERS_PATH)}: HTTP {reply.status}: no Spector "
                                 f"order API there; check the host of connection {self.http.conn_id}")


def _no_remark(order_no: str | None) -> tuple[str, None] | None:
    return None if order_no is None else (order_no, None)


class SpectorConnector:
    name = "spector"

    def parse_settings(self, raw: Mapping[str, Any]) -> spector_settings.SpectorSettings:
        return spector_settings.parse(raw)

    @contextlib.contextmanager
    def open_session(self, administration: Administration, settings: spector_settings.SpectorSettings,
                     engine: sa.Engine) -> Iterator[SpectorSession]:
        if mapping.KEY_SEPARATOR in administration.code:
            raise SettingsError(f"administration code {administration.code!r} contains {mapping.KEY_SEPARATOR!r}, "
                                "which separates it from the order number in the Spector key (externalOrderNo); "
                                "give the administration a code without it")
        http = open_api_session(administration)
        try:
            yield SpectorSession(administration, settings, engine, http)
        finally:
            http.close()


def open_api_session(administration: Administration) -> ApiSession:
    """The chunk's HTTP session, with the SBM id header; a missing or incomplete connection ends the chunk."""
    http = session_for(administration, "Spector", consumed_extras=api.CONSUMED_EXTRAS)
    conn_id = http.conn_id
    sbm_id = str(http.extra.get(api.SBM_EXTRA) or "").strip()
    missing = [name for name, value in (("login", http.connection.login), ("password", http.connection.password),
                                        (f"extra {api.SBM_EXTRA}", sbm_id),
                                        (f"extra {api.INTEGRATION_HEADER}", http.extra.get(api.INTEGRATION_HEADER)))
               if not value]
    if missing:
        http.close()
        raise ConnectionLost(f"Airflow connection {conn_id} for Spector lacks {', '.join(missing)}")
    http.session.headers[api.SBM_HEADER] = sbm_id
    return http
