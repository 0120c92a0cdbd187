"""The Spector v2 order API as this project speaks it: paths, credentials, replies, result codes.

Public material fixes only v1 (``putInfo.asp?action=newOrderSubmit``, an XML ``<result>1</result>``
meaning success) and that v2 is JSON with an SBM id, an API user id and key, and an
integration key. The v2 path and reply shape are not public, so they are chosen here, kept in
this one module, and described in ``docs/spector.md``; the loopback emulator
(``erp_sandbox/spector_api.py``) implements exactly this contract.

Requests
    ``POST {base}/api/v2/orders`` with the order as JSON (``mapping.build_order``).
    ``GET  {base}/api/v2/orders?externalOrderNo=<key>`` looks an order up by our key
    (``mapping.external_order_no``: administration code, ``/``, App4Sales order number).
    ``GET  {base}/api/v2/orders/<orderNo>`` reads one order back, to prove it is ours.

Authentication (every request)
    HTTP Basic: connection ``login`` = API user id, ``password`` = API key.
    Header ``X-SBM-Id``: the SBM (company) id, from the connection extra ``sbm_id`` (not a
    secret; consumed, so ``HttpHook`` does not also send it as a header of its own name).
    Header ``X-Integration-Token``: the integration key, a connection extra of that exact
    name that ``HttpHook`` sends as a header. Its name contains "token", so Airflow masks its
    value in logs like a password.

Replies (JSON, HTTP 200 unless noted)
    ``{"result": 1, "message": "Order created", "orderNo": "100001"}`` after a POST;
    ``{"result": 1, "message": "...", "orders": [{"orderNo": ..., "externalOrderNo": ...}]}``
    after a look-up (an empty list when there is none);
    ``{"result": 1, "message": "...", "order": {"externalOrderNo": ..., "customerId": ..., "lines": [...]}}``
    after reading one order (the order as Spector holds it, in the POST's field names); HTTP 404
    when there is no such order;
    HTTP 400 ``{"result": 30, "message": "...", "errors": [{"field": ..., "message": ...}]}``
    when the order fails validation; HTTP 401 when a credential is wrong.

Result codes (``Result``): 1 is success. Code 2 is *non-fatal* (``NON_FATAL``): the order was
stored and ``orderNo`` names it, so the connector treats it as success, as the seed's
``GetResponseResult`` does. Code 10 (``EXISTS``) says an order with our key exists, not that it
is this one: the connector reads it back and compares before it counts as sent. Every other
code fails the order with Spector's code and message.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

ORDERS_PATH = "api/v2/orders"
LOOKUP_PARAM = "externalOrderNo"
SBM_EXTRA = "sbm_id"
SBM_HEADER = "X-SBM-Id"
INTEGRATION_HEADER = "X-Integration-Token"
# Connection extras that configure the connector and must not travel as headers of their own.
CONSUMED_EXTRAS = (SBM_EXTRA,)


class Result(IntEnum):
    OK = 1
    # Non-fatal: stored, with a remark.
    ARTICLES_ADDED_AS_TEXT = 2  # an article number unknown to Spector became a text row
    DUPLICATE_EXTERNAL_ORDER_NO = 10  # an order with this externalOrderNo exists: its orderNo is returned
    # (not success by itself: the order it names is read back and compared first)
    # Fatal: nothing stored.
    CUSTOMER_NOT_FOUND = 20
    STOCK_SITE_NOT_FOUND = 22
    VALIDATION_FAILED = 30
    AUTHENTICATION_FAILED = 40
    NOT_FOUND = 44
    INTERNAL_ERROR = 50


NON_FATAL = frozenset({Result.ARTICLES_ADDED_AS_TEXT})
EXISTS = Result.DUPLICATE_EXTERNAL_ORDER_NO
# What must match before an order Spector holds under our key counts as this order.
PROOF_FIELDS = ("externalOrderNo", "customerId")
PROOF_LINE_FIELDS = ("articleNumber", "numberOfItems", "priceExclVAT", "discount", "vatPercentage")


def is_success(result: int | None) -> bool:
    return result == Result.OK or result in NON_FATAL


@dataclass(frozen=True)
class Reply:
    """What a Spector JSON reply says, whatever shape it arrived in."""

    result: int | None
    message: str
    order_no: str | None = None
    errors: tuple[str, ...] = ()

    def describe(self) -> str:
        """``result 20: Customer 'X' not found (lines[1].articleName: ...)`` for a stored error."""
        code = "no result code" if self.result is None else f"result {self.result}"
        text = f"{code}: {self.message}" if self.message else code
        return f"{text} ({'; '.join(self.errors)})" if self.errors else text


def read_reply(body: Any, fallback_text: str = "") -> Reply:
    """Read a POST reply; a body that is not the documented object keeps its text as the message."""
    if not isinstance(body, dict):
        return Reply(None, fallback_text.strip()[:300])
    result = body.get("result")
    if isinstance(result, bool) or not isinstance(result, int):
        result = None
    order_no = body.get("orderNo")
    if isinstance(order_no, bool) or not isinstance(order_no, (str, int)) or str(order_no).strip() == "":
        order_no = None
    errors = tuple(
        f"{e.get('field')}: {e.get('message')}" for e in body.get("errors") or () if isinstance(e, dict)
    )
    return Reply(result, str(body.get("message") or "").strip()[:500],
                 None if order_no is None else str(order_no).strip(), errors)


def order_path(order_no: str) -> str:
    return f"{ORDERS_PATH}/{order_no}"


def found_order_nos(body: Any, external_order_no: str) -> list[str]:
    """The Spector numbers of the orders carrying ``external_order_no`` in a look-up reply."""
    orders = body.get("orders") if isinstance(body, dict) else None
    if not isinstance(orders, list):
        raise ValueError("the look-up reply has no 'orders' list")
    found = []
    for order in orders:
        if isinstance(order, dict) and str(order.get("externalOrderNo")) == external_order_no:
            number = order.get("orderNo")
            if number is not None and str(number).strip():
                found.append(str(number).strip())
    return found


def read_order(body: Any) -> dict[str, Any] | None:
    """The order of a read reply (``GET orders/<orderNo>``), or ``None`` when the reply has none."""
    order = body.get("order") if isinstance(body, dict) else None
    return order if isinstance(order, dict) else None
