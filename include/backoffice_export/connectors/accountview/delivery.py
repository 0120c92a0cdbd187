"""AccountView delivery: the order in batches, exactly once, resumable where it stopped.

The first request (``POST``) creates the order and returns its ``ORD_NR``; later ones (``PUT``)
add the next ``OrderLinesBatchCount`` lines. Progress (batches accepted, the order's key in
``comment2``, the batch in flight) is committed on ``export_state.progress`` around every request,
so a retry resumes at the failed batch and looks up a lost reply instead of sending twice.
docs/accountview.md says how and why.
"""

from __future__ import annotations

import contextlib
import logging
import math
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from backoffice_export import export_state, identity
from backoffice_export.connectors import remarks
from backoffice_export.connectors.accountview import envelope, mapping
from backoffice_export.connectors.accountview import settings as accountview_settings
from backoffice_export.connectors.accountview.auth import CONSUMED_EXTRAS, AccountViewAuth
from backoffice_export.connectors.accountview.envelope import DATA_PATH, HEADER_TABLE, LINE_TABLE, ORDER_KEY, Table
from backoffice_export.connectors.base import BuildThenDeliver, Sent
from backoffice_export.errors import ConnectionLost, DeliveryError
from backoffice_export.mapping import exact_json
from backoffice_export.model import Administration, Order
from backoffice_export.transport.http_api import ApiReply, ApiSession, TransientHttpError, create_once, session_for

log = logging.getLogger(__name__)
NO_NUMBER = "AccountView returned no order number for the order; the rest of the order was not sent"
LOCAL_TIME = ZoneInfo("Europe/Amsterdam")
BACKOFF_SECONDS = 0.5  # first wait between attempts at one request; doubles per attempt (create_once)
KEY_FIELD = "comment2"  # the memo AccountView keeps with the order; the key is its last line
KEY_PREFIX = "App4Sales key "


def dutch_now() -> datetime:
    """Now, as a naive Dutch wall-clock time (what AccountView shows as the order date)."""
    return datetime.now(LOCAL_TIME).replace(tzinfo=None, microsecond=0)


@dataclass(frozen=True)
class Progress:
    """How far one order's delivery got; stored as JSON on its export state."""

    order_nr: str | None = None
    batches: int = 0
    batch_size: int | None = None
    lines: int | None = None
    ord_date: str | None = None
    key: str | None = None
    in_flight: int | None = None
    complete: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The stored form (every field is a plain value, so a shallow copy does)."""
        return dict(vars(self))

    @classmethod
    def of(cls, value: Mapping[str, Any] | None) -> Progress:
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in (value or {}).items() if k in known})


@dataclass(frozen=True)
class FirstRequest:
    """Batch 1's POST body, and the progress (in flight, with its key) saved before it."""

    progress: Progress
    body: bytes


@dataclass(frozen=True)
class BuiltOrder:
    """The order's tables, its stored progress and, for a fresh order, batch 1's request."""

    tables: mapping.OrderTables
    line_count: int
    stored_progress: dict[str, Any] | None
    customer_code: str
    first: FirstRequest | None = None


class AccountViewSession(BuildThenDeliver):
    def __init__(self, administration: Administration, settings: accountview_settings.AccountViewSettings,
                 engine: sa.Engine, api: ApiSession, auth: AccountViewAuth, *,
                 clock: Callable[[], datetime] = dutch_now, backoff: float | None = None) -> None:
        self.administration, self.settings, self.engine, self.api, self.auth = (
            administration, settings, engine, api, auth)
        self.clock = clock
        self.backoff = BACKOFF_SECONDS if backoff is None else backoff

    # -- one order ----------------------------------------------------------------------
    def build(self, order: Order) -> BuiltOrder:
        built = self._built(order, order.export_progress)
        if built.first is not None:
            self._save(order, built.first.progress)
        return built

    def _built(self, order: Order, stored: dict[str, Any] | None) -> BuiltOrder:
        """The order's tables; for a fresh order also its first request, marked in flight by the caller."""
        tables = mapping.build_order(order, self.settings, self.clock())  # bad data fails before any request
        customer = mapping.customer_code(order)
        kept = (tables, len(tables.lines.rows))
        if stored:
            return BuiltOrder(*kept, stored, customer)
        size = self.settings.OrderLinesBatchCount or len(tables.lines.rows)
        first = self._first_request(tables, size)
        return BuiltOrder(*kept, first.progress.as_dict(), customer, first)

    def deliver(self, order: Order, built: BuiltOrder) -> Sent:
        progress = self._progress(order, built.stored_progress)
        if progress.complete:
            log.info("%s: already in AccountView as order %s; not sending it again", order.label, progress.order_nr)
            return replace(self._sent(progress),
                           remark=remarks.already_at_erp("AccountView", progress.order_nr))
        line_count = built.line_count
        size = progress.batch_size or self.settings.OrderLinesBatchCount or line_count
        if progress.lines is not None and progress.lines != line_count:
            where = (f"{progress.batches} batch(es) of this order are in AccountView order {progress.order_nr}"
                     if progress.order_nr else
                     f"an earlier attempt may have created this order in AccountView (ord_date {progress.ord_date})")
            raise DeliveryError(
                f"{where}, cut from {progress.lines} lines; the order now has {line_count} lines, so the rest "
                "cannot be added safely: complete the order in AccountView", retryable=False)
        total = math.ceil(line_count / size)
        try:
            if progress.order_nr is None:
                progress = self._first_batch(order, progress, built, size, total)
            for batch in range(progress.batches + 1, total + 1):
                progress = self._later_batch(order, progress, built.tables.lines, size, batch, total)
        except TransientHttpError as exc:
            raise ConnectionLost(f"AccountView is not answering: {exc}", delivered_unknown=True) from exc
        if total > 1:
            progress = replace(progress, complete=True)
            self._save(order, progress)
            return self._sent(progress)
        # One batch: "complete" is recorded with the sent state. Until then the stored progress
        # says the POST was in flight, so a task killed now looks the order up instead of resending.
        return replace(self._sent(progress), progress=replace(progress, complete=True).as_dict())

    def _progress(self, order: Order, stored: Mapping[str, Any] | None) -> Progress:
        progress = Progress.of(stored)
        if progress.complete:
            recorded = export_state.states(self.engine, order_ids=[order.id])
            if recorded and recorded[0].backoffice_order_nr == progress.order_nr:
                # Stored as sent under this number and claimed again: a deliberate resend, a new order.
                log.info("%s: sent before as AccountView order %s; sending it again as a new order",
                         order.label, progress.order_nr)
                self._save(order, None)
                return Progress()
        return progress

    def _save(self, order: Order, progress: Progress | None) -> None:
        export_state.save_progress(self.engine, order.id, None if progress is None else progress.as_dict())

    def _sent(self, progress: Progress) -> Sent:
        # The number is on the order since batch 1 came in; written again with the sent state, atomically.
        return Sent(backoffice_order_nr=progress.order_nr,
                    destination=f"{self.api.describe(DATA_PATH)} ({envelope.BUSINESS_OBJECT} {progress.order_nr})",
                    write_back_order_nr=progress.order_nr)

    # -- batch 1: POST ------------------------------------------------------------------
    def _first_batch(self, order: Order, progress: Progress, built: BuiltOrder, size: int,
                     total: int) -> Progress:
        prepared = built.first
        if prepared is None or progress != prepared.progress:  # not the request built with this turn
            if progress.in_flight == 1:
                if not progress.key:
                    raise DeliveryError(_unkeyed(progress), retryable=False)
                found = self._find_order(built, progress.key, size)
                if found is not None:
                    log.info("%s: an earlier attempt created AccountView order %s; going on from there",
                             order.label, found)
                    return self._first_accepted(order, progress, found, total)
            prepared = self._first_request(built.tables, size, key=progress.key if progress.in_flight else None)
            self._save(order, prepared.progress)  # in flight (committed) before it is posted
        key, body = prepared.progress.key or "", prepared.body
        what = "the order" if total == 1 else f"batch 1 of {total} (the header and {_lines(0, size)})"
        number, _ = create_once(lookup=lambda: self._find_order(built, key, size),
                                create=lambda: self._post(order, body, what),
                                label=f"{order.label} batch 1 of {total}", backoff=self.backoff)
        return self._first_accepted(order, prepared.progress, number, total)

    def _first_request(self, tables: mapping.OrderTables, size: int, *, key: str | None = None) -> FirstRequest:
        """Batch 1's POST body stamped with now and the order's key, and the in-flight progress."""
        stamp = self.clock().replace(microsecond=0)
        stamp_text = envelope.datetime_value(stamp)
        key = key or uuid.uuid4().hex
        lines = tables.lines
        progress = Progress(batch_size=size, lines=len(lines.rows), ord_date=stamp_text, key=key, in_flight=1)
        header = keyed(mapping.stamped(tables.header, stamp), key)
        return FirstRequest(progress, exact_json.dumps(envelope.insert_body(stamp_text, header, lines.slice(0, size))))

    def _first_accepted(self, order: Order, progress: Progress, number: str, total: int) -> Progress:
        progress = replace(progress, order_nr=number, batches=1, in_flight=None)
        if total > 1:  # later batches follow: the number must be kept before the first PUT
            export_state.save_progress(self.engine, order.id, progress.as_dict(), order_nr=number)
        log.info("%s: batch 1 accepted, AccountView order %s", order.label, number)
        return progress

    def _post(self, order: Order, body: bytes, what: str) -> str:
        reply = self._request("POST", data=body)
        if not 200 <= reply.status < 300:
            self._save(order, None)  # refused: AccountView stored nothing
            raise DeliveryError(_refusal(reply, what), retryable=False)
        headers = envelope.rows_of(reply.body, HEADER_TABLE)
        number = envelope.order_number(headers[0]) if headers else None
        if number is None:
            raise DeliveryError(NO_NUMBER, retryable=False)
        return number

    def _find_order(self, built: BuiltOrder, key: str, size: int) -> str | None:
        """The number of the order an earlier POST created (found by key, proven by batch 1's lines), or ``None``."""
        filters = [("rpl_inv", envelope.FieldType.TEXT, built.customer_code),
                   (KEY_FIELD, envelope.FieldType.MEMO, key)]
        reply = self._request("GET", params=envelope.lookup_params(filters, operator="Contains"))
        if not 200 <= reply.status < 300:
            raise DeliveryError(_refusal(reply, "the look-up of an earlier attempt"), retryable=False)
        # A row that shows comment2 without the key is not a hit (the filter was not applied); one
        # that leaves comment2 out is judged by its lines below.
        headers = [row for row in envelope.rows_of(reply.body, HEADER_TABLE)
                   if envelope.field_value(row, KEY_FIELD) is None or key in str(envelope.field_value(row, KEY_FIELD))]
        numbers = sorted({n for n in map(envelope.order_number, headers) if n})
        if not numbers:
            return None
        if len(numbers) > 1:
            raise DeliveryError(f"AccountView holds {len(numbers)} orders ({', '.join(numbers)}) carrying this "
                                f"order's key {key}; check which one it is, nothing more was sent", retryable=False)
        number = numbers[0]
        header = next(row for row in headers if envelope.order_number(row) == number)
        held = [row for row in envelope.rows_of(reply.body, LINE_TABLE) if envelope.order_number(row) == number]
        sent = built.tables.lines.slice(0, size)
        names = [f.name for f in sent.fields]
        compared = [name.upper() for name in names if name in _COMPARED]
        found = identity.differences(
            {"RPL_INV": built.customer_code, "lines": [_upper(dict(zip(names, row, strict=True)))
                                                       for row in sent.rows]},
            {**_upper(header), "lines": [_upper(row) for row in held]},
            fields=["RPL_INV"], lines="lines", line_fields=compared)
        if found:
            raise DeliveryError(f"AccountView order {number} carries this order's key {key} but does not hold the "
                                f"first batch as sent ({_lines(0, len(sent.rows))}): {identity.describe(found)}; "
                                "nothing more was sent: check the order in AccountView", retryable=False)
        return number

    # -- batches 2..n: PUT --------------------------------------------------------------
    def _later_batch(self, order: Order, progress: Progress, lines: Table, size: int, batch: int,
                     total: int) -> Progress:
        assert progress.order_nr is not None
        number, start, stop = progress.order_nr, (batch - 1) * size, min(batch * size, len(lines.rows))
        reply_lost_before = progress.in_flight == batch
        progress = replace(progress, in_flight=batch)
        self._save(order, progress)
        body = exact_json.dumps(envelope.update_body(progress.ord_date or envelope.datetime_value(self.clock()),
                                                     number, lines.slice(start, stop)))
        what = f"batch {batch} of {total} ({_lines(start, stop)}) of AccountView order {number}"
        create_once(lookup=lambda: self._batch_arrived(number, start, stop),
                    create=lambda: self._put(order, progress, body, what, start),
                    label=f"{order.label} {what}", backoff=self.backoff, lookup_first=reply_lost_before)
        progress = replace(progress, batches=batch, in_flight=None)
        self._save(order, progress)
        log.info("%s: %s accepted", order.label, what)
        return progress

    def _put(self, order: Order, progress: Progress, body: bytes, what: str, start: int) -> bool:
        reply = self._request("PUT", data=body)
        if not 200 <= reply.status < 300:
            self._save(order, replace(progress, in_flight=None))
            assert progress.order_nr is not None
            if not self._exists(progress.order_nr):
                raise DeliveryError(
                    f"{_refusal(reply, what)}; AccountView order {progress.order_nr} no longer exists (removed in "
                    f"AccountView?), and with it {_lines(0, start)} sent earlier. To send the whole order again as "
                    "a new AccountView order, resend it (resend_orders)", retryable=False)
            raise DeliveryError(f"{_refusal(reply, what)}; {_lines(0, start)} are in AccountView order "
                                f"{progress.order_nr}, a retry sends from line {start + 1}", retryable=False)
        return True

    def _exists(self, number: str) -> bool:
        """Whether AccountView holds sales order ``number`` (asked after a refused PUT)."""
        reply = self._request("GET", params=envelope.lookup_params([(ORDER_KEY, envelope.FieldType.TEXT, number)]))
        if not 200 <= reply.status < 300:
            return True  # cannot tell: say what the refusal said
        return any(envelope.order_number(row) == number for row in envelope.rows_of(reply.body, HEADER_TABLE))

    def _batch_arrived(self, number: str, start: int, stop: int) -> bool | None:
        """Whether AccountView holds lines ``start+1..stop`` of order ``number`` (``None``: it holds none)."""
        # A page large enough for every line up to ``stop``, should AccountView page detail rows too.
        params = envelope.lookup_params([(ORDER_KEY, envelope.FieldType.TEXT, number)], page_size=max(10, stop))
        reply = self._request("GET", params=params)
        if not 200 <= reply.status < 300:
            raise DeliveryError(_refusal(reply, f"reading back the lines of AccountView order {number}"),
                                retryable=False)
        held = [row for row in envelope.rows_of(reply.body, LINE_TABLE)
                if envelope.order_number(row) in (None, number)]
        if len(held) >= stop:
            return True
        if len(held) <= start:
            return None
        raise DeliveryError(f"AccountView order {number} holds {len(held)} lines, part of {_lines(start, stop)}; "
                            "complete it in AccountView", retryable=False)

    # -- transport ----------------------------------------------------------------------
    def _request(self, method: str, **kwargs: Any) -> ApiReply:
        headers = {"Content-Type": exact_json.CONTENT_TYPE} if "data" in kwargs else {}
        reply = self.api.request(method, DATA_PATH, headers={**headers, **self.auth.headers()}, **kwargs)
        if reply.status == 401:
            self.auth.forget_token()  # expired mid-chunk: a 401 stored nothing, so one more try is safe
            reply = self.api.request(method, DATA_PATH, headers={**headers, **self.auth.headers()}, **kwargs)
            if reply.status == 401:
                raise self.auth.refused(reply)
        if reply.status == 403:
            raise ConnectionLost(_refusal(reply, f"access to the company of Airflow connection {self.api.conn_id}"))
        return reply


class AccountViewConnector:
    name = "accountview"

    def parse_settings(self, raw: Mapping[str, Any]) -> accountview_settings.AccountViewSettings:
        return accountview_settings.parse(raw)

    @contextlib.contextmanager
    def open_session(self, administration: Administration, settings: accountview_settings.AccountViewSettings,
                     engine: sa.Engine) -> Iterator[AccountViewSession]:
        api = session_for(administration, "AccountView", consumed_extras=CONSUMED_EXTRAS, use_basic_auth=False)
        try:
            yield AccountViewSession(administration, settings, engine, api, AccountViewAuth.for_session(api))
        finally:
            api.close()


def _refusal(reply: ApiReply, what: str) -> str:
    """AccountView's own ``ErrorMessage`` for a refused request, else its status and text."""
    message = envelope.error_message(reply.body)
    if message is None:
        message = f"HTTP {reply.status}" + (f": {reply.text.strip()[:300]}" if reply.text.strip() else "")
    return f"AccountView refused {what}: {message}"


def keyed(header: Table, key: str) -> Table:
    """The header with the order's key as the last line of ``comment2`` (the field added when the
    order has no notes)."""
    line = KEY_PREFIX + key
    names = [f.name for f in header.fields]
    (row,) = header.rows
    if KEY_FIELD in names:
        index = names.index(KEY_FIELD)
        return replace(header, rows=((*row[:index], f"{row[index]}\n{line}", *row[index + 1:]),))
    return replace(header, fields=(*header.fields, envelope.Field(KEY_FIELD, envelope.HEADER_FIELDS[KEY_FIELD])),
                   rows=((*row, line),))


_COMPARED = ("art_code", "ord_qty", "ord_qtyu", "size", "art_px", "disc_pct")  # what a line is


def _upper(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row with AccountView's field names in upper case (it ignores their case; replies use upper)."""
    return {str(name).upper(): value for name, value in row.items()}


def _unkeyed(progress: Progress) -> str:
    return (f"an earlier attempt may have created this order in AccountView (ord_date {progress.ord_date}), and it "
            "carries no key to find it by (sent by an older version): check this customer's orders of that moment "
            "in AccountView; if the order is not there, resend it (resend_orders)")


def _lines(start: int, stop: int) -> str:
    """Lines ``start+1..stop`` in words: ``line 5``, ``lines 1-50``."""
    return f"line {stop}" if stop == start + 1 else f"lines {start + 1}-{stop}"
