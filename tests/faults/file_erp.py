"""How the fault suite reads a file ERP's folder and judges it against the export state."""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from lxml import etree

from backoffice_export import export_state
from tests.helpers import reflecta_admin
from tests.unit.ezxml_documents import ezxml_admin


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
    number: str | None = None  # the number the order was loaded with, which it must keep


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
    this order's content, or under another number than the one it was loaded with.
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
            renumbered = want.number is not None and row.backoffice_order_nr != want.number
            if renumbered or not (len(under_name) == 1 and under_name == under_number and under_name[0] in holding):
                verdict.misattributed += 1
    return verdict


def _orders(prefix: str, numbers: list[str | None], item: str) -> tuple[list[dict], list[dict]]:
    """Orders ``<prefix>1..n`` with a customer each (``<prefix>C1..``) and an own order number or none."""
    customers = [{"code": f"{prefix}C{i}", "name": f"Customer {prefix}{i}"} for i in range(1, len(numbers) + 1)]
    orders = []
    for i, number in enumerate(numbers, start=1):
        doc = {"internal_order_nr": f"{prefix}{i}", "customer": f"{prefix}C{i}", "order_date": "2026-11-20T10:00:00",
               "lines": [{"item": item, "quantity": str(i), "price": "10.00"}]}
        if number is not None:
            doc["order_nr"] = number
        orders.append(doc)
    return customers, orders


def reflecta_doc(code: str, conn_id: str, prefix: str, numbers: list[str | None]) -> dict:
    admin = reflecta_admin(code, conn_id)
    admin["customers"], admin["orders"] = _orders(prefix, numbers, "ITEM")
    admin["items"] = [{"code": "ITEM", "vat_percentage": "21", "extra_data": {"BackofficeItemCode": "IT100"}}]
    return admin


def ezxml_doc(code: str, conn_id: str, prefix: str, numbers: list[str | None], **settings) -> dict:
    admin = ezxml_admin(code, conn_id, settings=settings)
    admin["customers"], admin["orders"] = _orders(prefix, numbers, "IT100")
    admin["items"] = [{"code": "IT100", "description": "Item", "vat_percentage": "21"}]
    return admin


def expected(*admins: dict) -> dict[tuple[str, str], Expected]:
    return {(a["code"], o["internal_order_nr"]):
            Expected(o["customer"], (("IT100", Decimal(o["lines"][0]["quantity"])),), o.get("order_nr"))
            for a in admins for o in a["orders"]}


def settle(dag, engine, max_runs: int = 4) -> int:
    for runs in range(1, max_runs + 1):
        dag.test()
        if not export_state.unsent_order_ids(engine):
            return runs
    return max_runs


def consume(sandboxes, kind: str, folder: str, subfolder: str) -> dict[str, bytes]:
    """The ERP imports the folder's order files and deletes them; return what it imported."""
    prefix = f"{folder}/{subfolder}/"
    taken = {k: v for k, v in sandboxes.received_files(kind).items() if k.startswith(prefix)}
    home = sandboxes.ftp.user_root(sandboxes.user) if kind == "ftps" else sandboxes.sftp.user_root(sandboxes.user)
    for path in taken:
        Path(home, path).unlink()
    return taken


@contextlib.contextmanager
def cut_after_uploads(monkeypatch, sandboxes, kind: str, uploads: int) -> Iterator[None]:
    """The server cuts the connection on every upload after the next ``uploads`` (a cut mid-chunk)."""
    from backoffice_export.transport import file_drop

    box, drop = (sandboxes.ftp, file_drop._FtpDrop) if kind == "ftps" else (sandboxes.sftp, file_drop._SftpDrop)
    real_put, start = drop.put, box.uploads_completed

    def put_then_cut(self, name, data):
        box.faults.cut_after_bytes = None if box.uploads_completed - start < uploads else 1
        return real_put(self, name, data)

    monkeypatch.setattr(drop, "put", put_then_cut)
    try:
        yield
    finally:
        box.faults.reset()
        monkeypatch.setattr(drop, "put", real_put)
