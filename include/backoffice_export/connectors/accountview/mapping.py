"""Order -> AccountView ``SO1`` tables (``SO_HDR`` header, ``SO_LINE`` lines). Pure: no I/O.

Seed row -> field (FieldType); choices where the seed lost a cell, the unit price and rounding
rules: docs/formats/accountview.md.

Header (``SO_HDR``)
  App4Sales Internal ID -> ``RowId`` (C): ``"000001"``
  Customer Code -> ``rpl_inv``, ``rpl_del`` (C): Customer.Code
  Employee Number -> ``emp_nr`` (C): setting FixedEmployeeCode, else SalesRep.UserName
  Order Date -> ``ord_date`` (T): the moment of sending, Europe/Amsterdam time
  Delivery Date -> ``del_date`` (D): Order.DeliveryDate
  Your Reference -> ``comment1`` (C): Order.YourReference, else ``App4Sales Order``
  Order Notes -> ``comment2`` (M): setting OrderNoteLabel, a space, Order.Notes
  Internal Reference -> ``comment3`` (C): Order.Reference, unless MapOrderReferenceToCustomField
  Alternate Delivery Address -> ``address1``, ``post_code``, ``city``, ``cnt_code`` (C)
  Selection Code -> ``ord_expn`` (C): setting SelectionCodeForOrders
  Order Type (Kubussports) -> ``ORDER_TYPE`` (L): preorder / ps / Presale orders
  Dropshipment (Kubussports) -> ``X11_CHK_DS`` (L): Order.IsDropshipment
  Consumer Name (Kubussports) -> ``ACCT_NAME`` (C): Order.ConsumerName of a dropshipment
  Shipping Method -> ``SHIP_MTH`` (C): Order.DeliveryMethodCode
  Order Reference to Custom Field -> the field named by MapOrderReferenceToCustomField (C)
  Order PDF -> ``link_file`` (C), ``doc_desc`` (C), ``file_data`` (M): first ``order_pdf`` attachment
Lines (``SO_LINE``)
  App4Sales Internal Line ID -> ``RowId`` (C): ``000001``, ``000002`` ... across batches
  Header ID -> ``HeaderId`` (C): ``"000001"``
  Item Code -> ``art_code`` (C): Item.Code, or ExtraData ``SbaItemCode`` with UseSbaItems
  Quantity -> ``ord_qtyu`` (UnitModule) or ``ord_qty`` (N): OrderLine.Quantity, positive
  Size (SBA Items) -> ``size`` (C): ExtraData ``Size``, with UseSbaItems
  Discount Percentage -> ``disc_pct`` (N): unless DontSendDiscountToBackoffice
  Unit Price -> ``art_px`` (N): the price before discount, excl. VAT; unless DontSendPriceToBackoffice
  Item Description with Instruction -> ``art_desc1`` (C): with AddOrderLineInstructionToItemDescription
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from backoffice_export.connectors.accountview import envelope
from backoffice_export.connectors.accountview.envelope import HEADER_FIELDS, LINE_FIELDS, Field, Table
from backoffice_export.connectors.accountview.settings import AccountViewSettings
from backoffice_export.errors import OrderDataError
from backoffice_export.mapping.money import HUNDRED, invariant, net_round, unit_price_excl_vat, vat_rate
from backoffice_export.mapping.text import checked_text, safe_file_name, transliterated
from backoffice_export.model import Attachment, Order, OrderLine

DEFAULT_COMMENT1 = "App4Sales Order"
KUBUSSPORTS = "kubussports"
KUBUSSPORTS_PRESALE_TYPES = frozenset({"preorder", "ps", "presale"})
ORDER_PDF_KIND = "order_pdf"
EXTRA_SBA_ITEM_CODE, EXTRA_SIZE = "SbaItemCode", "Size"
REFERENCE_FIELD = "comment3"
DEFAULT_PDF_NAME = "order.pdf"
CENT = Decimal("0.01")


@dataclass(frozen=True)
class OrderTables:
    header: Table
    lines: Table


CHARSET = "cp1252"  # AccountView's text fields are Windows-1252


def _text(value: object, field: str) -> str:
    """Free text as AccountView can store it (``transliterated`` to Windows-1252)."""
    return transliterated(checked_text(value, field), CHARSET)


def _code(value: object, field: str) -> str:
    """A code AccountView matches on: refused, not changed, when Windows-1252 cannot hold it."""
    text = checked_text(value, field)
    if transliterated(text, CHARSET) != text:
        raise OrderDataError(field, f"{text!r} holds characters AccountView cannot store (Windows-1252)")
    return text


def _field(name: str) -> Field:
    return Field(name, HEADER_FIELDS[name])


def _line_field(name: str) -> Field:
    return Field(name, LINE_FIELDS[name])


def is_kubussports(order: Order) -> bool:
    return order.administration.application_name.strip().lower() == KUBUSSPORTS


def reference_field(settings: AccountViewSettings) -> Field:
    """Where the order reference goes: the configured custom field, else ``comment3``."""
    custom = settings.MapOrderReferenceToCustomField
    return Field(custom, envelope.CUSTOM_FIELD_TYPE) if custom else _field(REFERENCE_FIELD)


def order_reference(order: Order) -> str | None:
    reference = _text(order.reference, "Order.Reference").strip()
    return reference or None


def employee_code(order: Order, settings: AccountViewSettings) -> str | None:
    if settings.FixedEmployeeCode:
        return _code(settings.FixedEmployeeCode, "setting FixedEmployeeCode")
    user_name = order.sales_rep.user_name if order.sales_rep else None
    return _code(user_name, "SalesRep.UserName").strip() or None


def order_note(order: Order, settings: AccountViewSettings) -> str | None:
    notes = _text(order.notes, "Order.Notes").strip()
    if not notes:
        return None
    label = _text(settings.OrderNoteLabel, "setting OrderNoteLabel").strip()
    return f"{label} {notes}" if label else notes


def order_pdf(order: Order) -> Attachment | None:
    """The order PDF the seed attaches to sales orders: the first attachment of kind ``order_pdf``."""
    return next((a for a in order.attachments if a.kind.strip().lower() == ORDER_PDF_KIND), None)


def customer_code(order: Order) -> str:
    if order.customer is None:
        raise OrderDataError("Order.Customer", "the order has no customer")
    code = _code(order.customer.code, "Customer.Code").strip()
    if not code:
        raise OrderDataError("Customer.Code", "the order's customer has no code")
    return code


def header(order: Order, settings: AccountViewSettings, ord_date: datetime) -> Table:
    customer = customer_code(order)
    pairs: list[tuple[Field, Any]] = [
        (_field("RowId"), envelope.HEADER_ROW_ID),
        (_field("rpl_inv"), customer),
        (_field("rpl_del"), customer),
    ]
    employee = employee_code(order, settings)
    if employee:
        pairs.append((_field("emp_nr"), employee))
    pairs.append((_field("ord_date"), envelope.datetime_value(ord_date)))
    if order.delivery_date is not None:
        pairs.append((_field("del_date"), envelope.date_value(order.delivery_date)))
    your_reference = _text(order.your_reference, "Order.YourReference").strip()
    pairs.append((_field("comment1"), your_reference or DEFAULT_COMMENT1))
    note = order_note(order, settings)
    if note:
        pairs.append((_field("comment2"), note))
    reference = order_reference(order)
    target = reference_field(settings)
    if reference and target.name == REFERENCE_FIELD:
        pairs.append((target, reference))
    address = order.alternate_address
    if address is not None:
        pairs += [
            (_field("address1"), _text(address.address1, "AlternateAddress.Address1")),
            (_field("post_code"), _text(address.postal_code, "AlternateAddress.PostalCode")),
            (_field("city"), _text(address.city, "AlternateAddress.City")),
            (_field("cnt_code"), _code(address.country_iso2, "AlternateAddress.CountryIso2")),
        ]
    if settings.SelectionCodeForOrders:
        pairs.append((_field("ord_expn"), _code(settings.SelectionCodeForOrders, "setting SelectionCodeForOrders")))
    pairs += _kubussports(order)
    if order.delivery_method_code:
        pairs.append((_field("SHIP_MTH"), _code(order.delivery_method_code, "Order.DeliveryMethodCode")))
    if reference and target.name != REFERENCE_FIELD:
        pairs.append((target, reference))
    pdf = order_pdf(order)
    if pdf is not None:
        pairs += _pdf_fields(pdf)
    return envelope.table(envelope.HEADER_TABLE, pairs)


def _kubussports(order: Order) -> list[tuple[Field, Any]]:
    if not is_kubussports(order):
        return []
    pairs: list[tuple[Field, Any]] = []
    if (order.order_type or "").strip().lower() in KUBUSSPORTS_PRESALE_TYPES:
        pairs.append((_field("ORDER_TYPE"), True))
    if order.is_dropshipment:
        pairs.append((_field("X11_CHK_DS"), True))
        consumer = _text(order.consumer_name, "Order.ConsumerName").strip()
        if consumer:
            pairs.append((_field("ACCT_NAME"), consumer))
    return pairs


def _pdf_fields(pdf: Attachment) -> list[tuple[Field, Any]]:
    given = _text(pdf.file_name, "Attachment.FileName").strip()
    if not given:
        raise OrderDataError("Attachment.FileName", "the order PDF has no file name")
    name = safe_file_name(given, DEFAULT_PDF_NAME)  # link_file: never a path, whatever the number held
    check_pdf(pdf.content, given)
    description = _text(pdf.description, "Attachment.Description").strip() or name
    return [(_field("link_file"), name), (_field("doc_desc"), description),
            (_field("file_data"), base64.b64encode(pdf.content).decode("ascii"))]


def check_pdf(content: bytes, name: str) -> None:
    """Refuse an order PDF pypdf cannot read or that has no page: AccountView must not store it."""
    import io

    import pypdf

    try:
        # The page count the document's catalog gives, as viewers show it (the page tree itself is not walked).
        pages = int(pypdf.PdfReader(io.BytesIO(content)).root_object["/Pages"]["/Count"])
    except Exception as exc:  # pypdf raises many kinds on garbage
        raise OrderDataError("Attachment.Content", f"the order PDF {name} is not a readable PDF: {exc}") from None
    if pages < 1:
        raise OrderDataError("Attachment.Content", f"the order PDF {name} has no pages")


def line_fields(settings: AccountViewSettings) -> tuple[Field, ...]:
    names = ["RowId", "HeaderId", "art_code", "ord_qtyu" if settings.UnitModule else "ord_qty"]
    if settings.UseSbaItems:
        names.append("size")
    if not settings.DontSendDiscountToBackoffice:
        names.append("disc_pct")
    if not settings.DontSendPriceToBackoffice:
        names.append("art_px")
    if settings.AddOrderLineInstructionToItemDescription:
        names.append("art_desc1")
    return tuple(_line_field(n) for n in names)


def lines(order: Order, settings: AccountViewSettings) -> Table:
    if not order.lines:
        raise OrderDataError("Order.OrderLines", "the order has no lines")
    fields = line_fields(settings)
    rows = tuple(_line_values(order, line, position, fields, settings)
                 for position, line in enumerate(order.lines, start=1))
    return Table(envelope.LINE_TABLE, fields, rows)


def _line_values(order: Order, line: OrderLine, position: int, fields: tuple[Field, ...],
                 settings: AccountViewSettings) -> tuple[Any, ...]:
    where = f"line {position}"
    if line.item is None:
        raise OrderDataError("OrderLine.Item", f"{where} names an item that is not in the order database")
    if line.quantity <= 0:
        raise OrderDataError("OrderLine.Quantity", f"{where} has quantity {invariant(line.quantity)}; "
                                                   "must be positive")
    extra = line.item.extra_data or {}
    values: dict[str, Any] = {"RowId": envelope.row_id(position), "HeaderId": envelope.HEADER_ROW_ID,
                              "ord_qty": line.quantity, "ord_qtyu": line.quantity}
    if settings.UseSbaItems:
        sba_code = str(extra.get(EXTRA_SBA_ITEM_CODE) or "").strip()
        if not sba_code:
            raise OrderDataError(f"Item.ExtraData.{EXTRA_SBA_ITEM_CODE}",
                                 f"item {line.item.code} on {where} has no {EXTRA_SBA_ITEM_CODE}, so its "
                                 "AccountView SBA item is unknown (setting UseSbaItems is on)")
        values["art_code"] = _code(sba_code, f"Item.ExtraData.{EXTRA_SBA_ITEM_CODE}")
        values["size"] = _code(str(extra.get(EXTRA_SIZE) or "").strip(), f"Item.ExtraData.{EXTRA_SIZE}")
    else:
        code = _code(line.item.code, "Item.Code").strip()
        if not code:
            raise OrderDataError("Item.Code", f"the item on {where} has a blank code")
        values["art_code"] = code
    discount = line.discount_percentage
    if discount is not None and not -HUNDRED <= discount <= HUNDRED:
        raise OrderDataError("OrderLine.DiscountPercentage",
                             f"{where} has discount {invariant(discount)} %; must be between -100 and 100")
    values["disc_pct"] = discount if discount is not None else Decimal(0)
    if not settings.DontSendPriceToBackoffice:
        values["art_px"] = unit_price(order, line, settings, where)
    if settings.AddOrderLineInstructionToItemDescription:
        values["art_desc1"] = item_description(line)
    return tuple(values[f.name] for f in fields)


def item_description(line: OrderLine) -> str:
    """The item's description with the line's instruction after it (either may be missing)."""
    assert line.item is not None
    description = _text(line.item.description or line.description, "Item.Description").strip()
    instruction = _text(line.instruction, "OrderLine.Instruction").strip()
    return " ".join(part for part in (description, instruction) if part)


def unit_price(order: Order, line: OrderLine, settings: AccountViewSettings, where: str) -> Decimal:
    """``art_px``: the price before discount, excl. VAT (rules: docs/formats/accountview.md)."""
    discount = line.discount_percentage
    list_price = _list_price(order, line)
    if discount is not None and discount != 0 and not settings.DontSendDiscountToBackoffice:
        if discount == HUNDRED:
            if list_price is None:
                raise OrderDataError("OrderLine.OriginalPrice",
                                     f"{where} has a 100 % discount and no original price, so its price "
                                     "before discount is unknown")
            return list_price
        net = _net_price(order, line)
        if list_price is not None and _agrees(list_price * (HUNDRED - discount) / HUNDRED, net):
            return list_price
        return net_round(net * HUNDRED / (HUNDRED - discount))
    net = _net_price(order, line)
    undiscounted = discount is None or discount == 0
    if undiscounted and not settings.UsePriceFromApp and list_price is not None and not _agrees(list_price, net):
        raise OrderDataError("OrderLine.Price",
                             f"{where} costs {invariant(net)} in App4Sales without a discount, but its list price "
                             f"is {invariant(list_price)}; switch on UsePriceFromApp to send App4Sales' price")
    return net


def _agrees(amount: Decimal, net: Decimal) -> bool:
    """Whether ``amount`` gives App4Sales' net price to the cent (either may be rounded)."""
    return abs(net_round(amount) - net_round(net)) <= CENT


def _net_price(order: Order, line: OrderLine) -> Decimal:
    price = unit_price_excl_vat(line, order, field="OrderLine.Price")
    calculated = line.price_excl_vat is None and order.prices_include_vat
    return net_round(price) if calculated else price


def _list_price(order: Order, line: OrderLine) -> Decimal | None:
    if line.original_price is None:
        return None
    if order.prices_include_vat:
        return net_round(line.original_price * HUNDRED / (HUNDRED + vat_rate(line)))
    return line.original_price


def stamped(header_table: Table, ord_date: datetime) -> Table:
    """The header with another order date: the moment a (new) first request is made."""
    index = next(i for i, f in enumerate(header_table.fields) if f.name == "ord_date")
    (row,) = header_table.rows
    value = envelope.datetime_value(ord_date)
    return replace(header_table, rows=((*row[:index], value, *row[index + 1:]),))


def build_order(order: Order, settings: AccountViewSettings, ord_date: datetime) -> OrderTables:
    """The whole order, checked: nothing of an order with bad data is ever sent."""
    return OrderTables(header(order, settings, ord_date), lines(order, settings))
