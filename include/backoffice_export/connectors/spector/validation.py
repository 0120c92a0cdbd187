"""The checks Spector's DTOs declare (``[Required]``, ``[MaxLength]``, types), run before sending.

The seed validates ``SpecterOrderPost`` and ``SpecterOrderLinePost`` before the POST, so an order
that Spector would refuse never leaves: it fails on its own with an error naming the App4Sales
field to fix, and the rest of the chunk goes on. The rules are one table per DTO. The loopback
emulator (``erp_sandbox/spector_api.py``) checks the seed's rules with code of its own, so a
mistake here shows as an order the emulator refuses.

Types are those of the .NET DTO: text, 32-bit ``int``, ``decimal``, ``bool``, a ``yyyy-MM-dd``
date, and an ISO 4217 currency code. Text may not hold control characters other than tab and
newline (``mapping.text.checked_text``). ``[MaxLength]`` counts UTF-16 code units, as .NET's
``string.Length`` does (an emoji is two). An order is refused with every problem it has, at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from backoffice_export.connectors.spector.settings import INT32_MAX, INT32_MIN
from backoffice_export.errors import OrderDataError
from backoffice_export.mapping.text import checked_text

_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class Rule:
    name: str  # the JSON field
    source: str  # the App4Sales field or setting it comes from: what an error tells the user to fix
    kind: str  # text | int | decimal | bool | date | currency
    required: bool = False
    max_length: int | None = None


HEADER_RULES: tuple[Rule, ...] = (
    # Our key (``mapping.external_order_no``). The seed gives ExternalOrderNo no MaxLength; 50, as the
    # DTO's other order reference (customerOrderReference), is assumed until Spector says otherwise.
    Rule("externalOrderNo", "Administration.Code / Order.InternalOrderNr", "text", required=True,
         max_length=50),
    Rule("customerId", "Customer.Code", "text", required=True),
    Rule("orderDate", "Order.OrderDate", "date", required=True),
    Rule("deliveryDate", "Order.OrderDate", "date"),
    Rule("customerReference", "Order.YourReference", "text", max_length=70),
    Rule("customerOrderReference", "Order.Reference", "text", max_length=50),
    Rule("currency", "Customer.PriceList.CurrencyIso", "currency"),
    Rule("internalComment", "Customer.ExtraData / Order.Notes", "text"),
    Rule("externalDeliveryMethod", "Customer.DeliveryMethod", "text", max_length=100),
    Rule("publishedComment", "setting PublishedCommentOnOrder", "text"),
    Rule("requirements", "setting RequirementsOnOrder", "text"),
    Rule("stockSiteId", "setting StockSiteID", "int"),
    Rule("ourReferenceUserId", "SalesRep.UserId", "int"),
)

LINE_RULES: tuple[Rule, ...] = (
    Rule("lineNumber", "OrderLine", "int", required=True),
    Rule("articleNumber", "Item.Code", "text", required=True, max_length=50),
    Rule("articleName", "Item.Description", "text", required=True, max_length=130),
    Rule("articleComment", "OrderLine.Instruction", "text", max_length=200),
    Rule("addArticleComment", "OrderLine.Instruction", "bool"),
    Rule("priceExclVAT", "OrderLine.Price", "decimal", required=True),
    Rule("numberOfItems", "OrderLine.Quantity", "int", required=True),
    Rule("vatPercentage", "Item.VatPercentage", "decimal", required=True),
    Rule("discount", "OrderLine.DiscountPercentage", "decimal"),
)
LINES, LINES_SOURCE = "lines", "Order.OrderLines"


@dataclass(frozen=True)
class Problem:
    path: str  # JSON path: ``customerReference``, ``lines[2].articleName``
    source: str
    message: str  # starts with the JSON field name
    line: int | None = None
    article: str | None = None

    def as_order_error(self) -> OrderDataError:
        where = ""
        if self.line is not None:
            where = f"line {self.line} (item {self.article}): " if self.article else f"line {self.line}: "
        return OrderDataError(self.source, where + self.message)


def check_value(rule: Rule, value: Any) -> str | None:
    """Why ``value`` is not acceptable for ``rule``, or ``None`` when it is."""
    if value is None:
        return f"{rule.name} is required but missing" if rule.required else None
    if rule.kind == "text":
        if not isinstance(value, str):
            return f"{rule.name} must be text, not {type(value).__name__}"
        try:
            checked_text(value, rule.source, required=rule.required)
        except OrderDataError as exc:
            return f"{rule.name} {exc.message}"
        units = len(value.encode("utf-16-le")) // 2
        if rule.max_length is not None and units > rule.max_length:
            return f"{rule.name} is {units} characters long, at most {rule.max_length} allowed"
        return None
    if rule.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{rule.name} must be a whole number, not {value!r}"
        return None if INT32_MIN <= value <= INT32_MAX else f"{rule.name} {value} is outside the 32-bit range"
    if rule.kind == "decimal":
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            return f"{rule.name} must be a number, not {value!r}"
        return None if Decimal(value).is_finite() else f"{rule.name} must be a finite number"
    if rule.kind == "bool":
        return None if isinstance(value, bool) else f"{rule.name} must be true or false, not {value!r}"
    if rule.kind == "date":
        if isinstance(value, str) and _DATE.match(value):
            try:
                date.fromisoformat(value)
                return None
            except ValueError:
                pass
        return f"{rule.name} must be a date as yyyy-MM-dd, not {value!r}"
    if rule.kind == "currency":
        ok = isinstance(value, str) and _CURRENCY.match(value)
        return None if ok else f"{rule.name} must be a three-letter ISO currency code, not {value!r}"
    raise ValueError(f"unknown rule kind {rule.kind!r}")


def _check(rules: tuple[Rule, ...], values: Mapping[str, Any], prefix: str = "", line: int | None = None,
           article: str | None = None) -> Iterator[Problem]:
    known = {rule.name for rule in rules}
    for rule in rules:
        message = check_value(rule, values.get(rule.name))
        if message:
            yield Problem(prefix + rule.name, rule.source, message, line, article)
    for name in values:
        if name not in known:
            yield Problem(prefix + name, prefix + name, f"{name} is not a field of the Spector order", line, article)


def problems(payload: Any) -> list[Problem]:
    """Every reason Spector would refuse ``payload``, header first, then line by line."""
    if not isinstance(payload, Mapping):
        return [Problem("", "Order", "the order must be a JSON object")]
    header = {k: v for k, v in payload.items() if k != LINES}
    found = list(_check(HEADER_RULES, header))
    lines = payload.get(LINES)
    if not isinstance(lines, list) or not lines:
        found.append(Problem(LINES, LINES_SOURCE, f"{LINES} is required: at least one order line"))
        return found
    for index, line in enumerate(lines, start=1):
        if not isinstance(line, Mapping):
            found.append(Problem(f"{LINES}[{index}]", LINES_SOURCE, "an order line must be a JSON object", index))
            continue
        article = line.get("articleNumber") if isinstance(line.get("articleNumber"), str) else None
        found.extend(_check(LINE_RULES, line, f"{LINES}[{index}].", index, article))
    return found


def validate(payload: Mapping[str, Any]) -> None:
    """Refuse the order with all its problems in one error, naming each App4Sales field (and line) to fix."""
    found = [problem.as_order_error() for problem in problems(payload)]
    if len(found) == 1:
        raise found[0]
    if found:
        fields = ", ".join(dict.fromkeys(error.field for error in found))
        raise OrderDataError(fields, "; ".join(str(error) for error in found))
