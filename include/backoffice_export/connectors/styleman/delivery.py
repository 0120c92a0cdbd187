"""StyleMan delivery: POST the SalesOrder to ``{base}/api/{version}/Orders``, write the number back.

One chunk is one ``ApiSession`` (one keep-alive ``requests`` session through ``HttpHook``) and,
with client credentials, one bearer token.

Exactly one StyleMan order per App4Sales order. StyleMan creates a second order when the same
SalesOrder is POSTed twice, so every POST that might repeat an earlier one is preceded by a
look-up by ``OrderID`` (``GET .../Orders?$filter=OrderID eq '<guid>'``):

- ``ValidateOrderBeforeSending`` on: the seed's check, before the first POST; when StyleMan
  already has the order its number is written back and nothing is sent;
- a POST whose reply was lost or that met a 5xx is retried with backoff (``create_once``), and
  each retry looks first;
- an order that an earlier run already tried (``export_attempts > 1``) looks first, even with
  the setting off, because that run may have reached StyleMan before it lost the reply.

An order StyleMan holds is never POSTed again, even when it holds it without a number. A reply
without a number fails the order with the seed's "No order number retrieved from backoffice";
it is left for a retry, which looks the order up first and takes the number StyleMan shows.

A look-up hit counts only once it is proven to be *this* order: the OrderID is App4Sales' GUID,
which a copied order (another administration loaded from the same export, sharing this
StyleMan) can carry too. The order StyleMan holds must have this order's number, customer,
lines and totals (``PROOF_FIELDS``, ``PROOF_LINE_FIELDS``); otherwise the order fails for
review, naming the OrderID, StyleMan's number and what differs, and nothing is marked sent.
``OrderNumber`` (App4Sales' number, unique per administration only) is never used as a key.

Replies. Success: the created SalesOrder, bare or inside ``Results`` wrappers; StyleMan's own
order number is its ``Number``, else its ``OrderNumber`` (the seed names both).
Look-up replies: a list of SalesOrders, bare, in ``Results`` or in OData's ``value``; only
orders whose ``OrderID`` matches count, so a server ignoring ``$filter`` cannot mislead it.
Errors (ASP.NET Web API shape): ``{"Message": ..., "ModelState": {field: [messages]}}``.

Every failure the seed lists is stored prefixed ``ERROR: ``: REST errors with StyleMan's message
(HTTP 4xx: not retried, the order must change), request errors (network, bad URL), the missing
order number, and anything unexpected (the runner's ``ERROR_Unhandled: ...``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import requests
import sqlalchemy as sa
from urllib3.exceptions import LocationValueError

from backoffice_export import identity
from backoffice_export.connectors import remarks
from backoffice_export.connectors.base import BuildThenDeliver, Sent
from backoffice_export.connectors.styleman import mapping
from backoffice_export.connectors.styleman import settings as styleman_settings
from backoffice_export.connectors.styleman.auth import CONSUMED_EXTRAS, StyleManAuth
from backoffice_export.errors import DeliveryError, SettingsError
from backoffice_export.mapping import exact_json
from backoffice_export.model import Administration, Order
from backoffice_export.transport.http_api import ApiReply, ApiSession, create_once, session_for

log = logging.getLogger(__name__)
ERROR = "ERROR: "  # the seed's Constants.Error.ERROR: how App4Sales recognises a failed send
NO_NUMBER = "No order number retrieved from backoffice"


# What must match before an order StyleMan holds under this OrderID counts as this order.
PROOF_FIELDS = ("OrderNumber", "CustomerGUID", "CustomerCode", "SubTotal", "Total", "VatTotal")
PROOF_LINE_FIELDS = ("ItemCode", "Quantity", "PriceExcl", "Discount", "VatPercentage")


@dataclass(frozen=True)
class StyleManRequest:
    order_id: str  # the OrderID GUID, for the look-up before any repeated POST
    body: bytes
    sales_order: dict[str, Any]  # what a look-up hit is compared with


class StyleManSession(BuildThenDeliver):
    def __init__(self, administration: Administration, settings: styleman_settings.StyleManSettings,
                 engine: sa.Engine, api: ApiSession, auth: StyleManAuth) -> None:
        self.administration, self.settings, self.engine, self.api, self.auth = (
            administration, settings, engine, api, auth)
        self.orders_path = f"api/{settings.ApiVersion}/Orders"

    def build(self, order: Order) -> StyleManRequest:
        sales_order = mapping.build_sales_order(order, self.settings, created=datetime.now())
        body = exact_json.dumps(mapping.request_body(sales_order, self.settings))
        return StyleManRequest(sales_order["OrderID"], body, sales_order)

    def deliver(self, order: Order, built: StyleManRequest) -> Sent:
        try:
            number, found = self._deliver(order, built)
        except DeliveryError as exc:
            raise _with_error_prefix(exc) from exc
        except (requests.RequestException, LocationValueError) as exc:  # one the session could not even prepare
            raise DeliveryError(f"{ERROR}request to StyleMan failed: {exc}", retryable=False) from exc
        return Sent(backoffice_order_nr=number, destination=self.api.describe(self.orders_path),
                    write_back_order_nr=number, remark=remarks.already_at_erp("StyleMan", number) if found else None)

    def _deliver(self, order: Order, built: StyleManRequest) -> tuple[str, bool]:
        """StyleMan's number for the order, and whether StyleMan had it already (nothing sent)."""
        sales_order, found = create_once(
            lookup=lambda: self.lookup(built),
            create=lambda: self.create(built.body),
            label=order.label,
            lookup_first=self.settings.ValidateOrderBeforeSending or order.export_attempts > 1,
        )
        if found:
            log.info("%s: StyleMan already has OrderID %s (same number, customer, lines and totals); its number "
                     "is written back, nothing sent", order.label, built.order_id)
        return _number(sales_order, already_there=found, sent=order.internal_order_nr), found

    def lookup(self, built: StyleManRequest) -> dict[str, Any] | None:
        """The StyleMan order with this ``OrderID``, proven to be this order; ``None`` when StyleMan has none."""
        order_id = built.order_id
        reply = self._request("GET", self.orders_path, params={"$filter": f"OrderID eq '{order_id}'"})
        if reply.status == 404:
            return None
        if not 200 <= reply.status < 300:
            raise DeliveryError(f"looking up OrderID {order_id} failed: {erp_message(reply)}", retryable=False)
        matches = [o for o in sales_orders_in(reply.body)
                   if mapping.guid(str(o.get("OrderID") or ""), "OrderID") == order_id]
        if not matches:
            return None
        if len(matches) > 1:
            log.warning("StyleMan holds %d orders with OrderID %s (sent before this connector looked first, or "
                        "copied orders of another administration)", len(matches), order_id)
        found = [identity.differences(built.sales_order, o, fields=PROOF_FIELDS, lines="Lines",
                                      line_fields=PROOF_LINE_FIELDS) for o in matches]
        proven = [o for o, differs in zip(matches, found, strict=True) if not differs]
        if not proven:
            numbers = ", ".join(_number_of(o) or "without a number" for o in matches)
            raise DeliveryError(
                f"StyleMan already holds an order with OrderID {order_id} (StyleMan order {numbers}), but it is "
                f"not this order: {identity.describe(found[0])}. Not marked sent: check the App4Sales order's GUID "
                "(a copied order keeps it); give this order a GUID of its own and resend it",
                retryable=False, delivered_unknown=True)
        return next((o for o in proven if _number_of(o)), proven[0])

    def create(self, body: bytes) -> dict[str, Any]:
        reply = self._request("POST", self.orders_path, data=body,
                              headers={"Content-Type": exact_json.CONTENT_TYPE})
        if not 200 <= reply.status < 300:
            raise DeliveryError(erp_message(reply), retryable=False)
        created = sales_orders_in(reply.body)
        return created[0] if created else {}

    def _request(self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any) -> ApiReply:
        reply = self.api.request(method, path, headers={**(headers or {}), **self.auth.headers()}, **kwargs)
        if reply.status == 401 and self.auth.can_refresh:
            self.auth.forget_token()  # expired mid-chunk: one new token, one more try (401 stored nothing)
            reply = self.api.request(method, path, headers={**(headers or {}), **self.auth.headers()}, **kwargs)
        if reply.status == 401:
            raise self.auth.refused(reply)
        return reply


class StyleManConnector:
    name = "styleman"

    def parse_settings(self, raw: Mapping[str, Any]) -> styleman_settings.StyleManSettings:
        return styleman_settings.parse(raw)

    @contextlib.contextmanager
    def open_session(self, administration: Administration, settings: styleman_settings.StyleManSettings,
                     engine: sa.Engine) -> Iterator[StyleManSession]:
        api = session_for(administration, "StyleMan", consumed_extras=CONSUMED_EXTRAS)
        conn_id = api.conn_id
        try:
            _check_base_url(api, conn_id)
            yield StyleManSession(administration, settings, engine, api, StyleManAuth.for_session(api))
        finally:
            api.close()


def _check_base_url(api: ApiSession, conn_id: str) -> None:
    """A base URL no request can be made to fails every order once, not each with a stack trace."""
    try:
        requests.Request("GET", api.describe("api")).prepare()
        (urlsplit(api.base_url).hostname or "").encode("idna")  # what urllib3 refuses only when connecting
    except (requests.RequestException, ValueError) as exc:
        raise SettingsError(f"{ERROR}Airflow connection {conn_id}: the StyleMan base URL {api.base_url!r} "
                            f"cannot be used: {exc}") from None


def sales_orders_in(body: Any) -> list[dict[str, Any]]:
    """The SalesOrder objects of a reply, whatever wrapping (``Results``, OData ``value``) it uses."""
    if isinstance(body, list):
        return [found for item in body for found in sales_orders_in(item)]
    if isinstance(body, dict):
        for key in ("Results", "value"):
            if key in body:
                return sales_orders_in(body[key])
        return [body]
    return []


def erp_message(reply: ApiReply) -> str:
    """StyleMan's own explanation of a refused request (the seed's ``GetErrorMessage()``)."""
    body = reply.body
    parts: list[str] = []
    if isinstance(body, dict):
        for key in ("Message", "message", "ExceptionMessage", "error_description", "error"):
            value = body.get(key)
            if isinstance(value, str) and value.strip() and value.strip() not in parts:
                parts.append(value.strip())
        state = body.get("ModelState")
        if isinstance(state, dict):
            for field, problems in state.items():
                listed = problems if isinstance(problems, list) else [problems]
                parts.append(f"{field}: {'; '.join(str(p) for p in listed)}")
    if not parts and reply.text.strip():
        parts.append(reply.text.strip()[:300])
    return f"StyleMan answered HTTP {reply.status}: {' '.join(parts) or '(no message)'}"


def _number_of(sales_order: Mapping[str, Any], sent: str | None = None) -> str | None:
    """StyleMan's number: ``Number``, else ``OrderNumber`` (the seed names both) unless that only
    echoes the App4Sales number that was sent."""
    for key in ("Number", "OrderNumber"):
        value = sales_order.get(key)
        text = "" if value is None or isinstance(value, bool) else str(value).strip()
        if text and not (key == "OrderNumber" and text == sent):
            return text
    return None


def _number(sales_order: Mapping[str, Any], *, already_there: bool, sent: str | None = None) -> str:
    number = _number_of(sales_order, sent)
    if number is None:
        detail = f" (StyleMan holds OrderID {sales_order.get('OrderID')} without one)" if already_there else ""
        # StyleMan has (or may have) the order: the retry looks it up first and never POSTs it again,
        # and picks the number up once StyleMan shows one.
        raise DeliveryError(NO_NUMBER + detail, retryable=True, delivered_unknown=True)
    return number


def _with_error_prefix(exc: DeliveryError) -> DeliveryError:
    """The same failure, worded as the seed stores it (``ERROR: ...``), kind and flags unchanged."""
    if str(exc).startswith(ERROR):
        return exc
    return type(exc)(f"{ERROR}{exc}", retryable=exc.retryable, delivered_unknown=exc.delivered_unknown)
