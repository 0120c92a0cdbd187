"""How the fault suite reads a file ERP's folder and judges it against the export state."""

from __future__ import annotations

from collections import defaultdict

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

