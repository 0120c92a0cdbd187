"""How the fault suite reads a file ERP's folder and judges it against the export state."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from lxml import etree

from backoffice_export import export_state


def _orders_in_folder(files: dict[str, bytes], prefix: str, number_tag: str) -> dict[str, list[str]]:
    """Customer code (one customer per order in these tests) -> the order number of each XML file."""
    found: dict[str, list[str]] = defaultdict(list)
    for path, data in files.items():
        if path.startswith(prefix) and path.endswith(".xml"):
            header = etree.fromstring(data).find("OrderHeader")
            found[header.findtext("CustomerCode")].append(header.findtext(number_tag))
    return found


def reflecta_orders_in_folder(files: dict[str, bytes], folder: str) -> dict[str, list[str]]:
    return _orders_in_folder(files, f"{folder}/orders/", "WebOrderNr")


def ezxml_orders_in_folder(files: dict[str, bytes], folder: str) -> dict[str, list[str]]:
    """EzXml default XML, in the export folder."""
    return _orders_in_folder(files, f"{folder}/export/", "OrderNr")


def judge(engine, administration: str, erp: dict[str, list[str]], customer_of: dict[str, str]) -> tuple[int, int, int]:
    """(lost, duplicated, inconsistent) once the runs have settled.

    lost: an order not sent. duplicated: an order the ERP holds more than once.
    inconsistent: the state says sent but the ERP holds another number (or none), or the ERP
    holds an order the state does not call sent.
    """
    lost = duplicated = inconsistent = 0
    for row in export_state.states(engine, administration=administration):
        numbers = erp.get(customer_of[row.internal_order_nr], [])
        duplicated += max(0, len(numbers) - 1)
        if row.state != export_state.SENT:
            lost += 1
            inconsistent += bool(numbers)
        elif numbers != [row.backoffice_order_nr] or row.order_nr != row.backoffice_order_nr:
            inconsistent += 1
    return lost, duplicated, inconsistent



@dataclass(frozen=True)
class FileOrder:
    """One order file as the ERP reads it: its name, the number inside, the customer and the lines."""

    name: str
    number: str
    customer: str
    lines: tuple[tuple[str, Decimal], ...]  # (item code, quantity)


@dataclass(frozen=True)
class Expected:
    """What an order document says the ERP must receive for one order."""

    customer: str
    lines: tuple[tuple[str, Decimal], ...]


@dataclass
class Verdict:
    lost: int = 0
    duplicated: int = 0
    inconsistent: int = 0
    misattributed: int = 0
    for_review: list[str] = field(default_factory=list)  # errors of orders held back for review

    @property
    def zeros(self) -> tuple[int, int, int, int]:
        return self.lost, self.duplicated, self.inconsistent, self.misattributed


def read_folder(files: dict[str, bytes], prefix: str, number_tag: str,
                quantity_tag: str = "OrderedQty") -> list[FileOrder]:
    """Parse every order file in the folder ``prefix`` the way the ERP would (XML files only)."""
    found = []
    for path, data in files.items():
        name = path[len(prefix):]
        if not path.startswith(prefix) or "/" in name or not name.endswith(".xml"):
            continue
        root = etree.fromstring(data)
        header = root.find("OrderHeader")
        lines = tuple((line.findtext("ItemCode"), Decimal(line.findtext(quantity_tag)))
                      for line in root.iter("OrderLine"))
        found.append(FileOrder(name, header.findtext(number_tag), header.findtext("CustomerCode"), lines))
    return found


def judge_content(engine, administrations: list[str], folder: list[FileOrder],
                  expected: dict[tuple[str, str], Expected]) -> Verdict:
    """Compare the ERP's folder with the export state, by content.

    ``expected`` maps (administration, internal order number) to the customer and lines the
    order document gave it (customers are unique across the scenario, so content identifies an
    order). lost: neither sent nor failed for good with a stored reason (orders held back for
    review are listed in ``for_review``). duplicated: an order's content in more than one file.
    inconsistent: the ERP holds an order the state does not call sent. misattributed: stored as
    sent, but the folder does not hold exactly one file under the stored name and number with
    this order's content.
    """
    verdict = Verdict()
    waiting = {order_id for _, _, order_id in export_state.unsent_order_ids(engine)}
    for admin in administrations:
        for row in export_state.states(engine, administration=admin):
            want = expected[(admin, row.internal_order_nr)]
            holding = [f for f in folder if (f.customer, f.lines) == (want.customer, want.lines)]
            verdict.duplicated += max(0, len(holding) - 1)
            if row.state != export_state.SENT:
                if row.state == export_state.FAILED and row.order_id not in waiting and row.error:
                    verdict.for_review.append(row.error)
                else:
                    verdict.lost += 1
                verdict.inconsistent += bool(holding)
                continue
            name = (row.destination or "").rsplit("/", 1)[-1]
            under_name = [f for f in folder if f.name == name]
            under_number = [f for f in folder if f.number == row.backoffice_order_nr]
            if not (len(under_name) == 1 and under_name == under_number and under_name[0] in holding):
                verdict.misattributed += 1
    return verdict
