"""The local copy of every exported file: ``[App4SalesFiles]/ExportedOrders/<App>/<file>``.

The seeds write each file here before upload; it stays as the record of exactly what was
handed to the ERP. Both path parts are allow-listed, so neither an order number nor an
application name can point outside the files root.
"""

from __future__ import annotations

import os
from pathlib import Path

from backoffice_export import config
from backoffice_export.mapping.text import safe_path_part


def write_export_copy(application_name: str, file_name: str, data: bytes) -> Path:
    folder = config.files_root() / "ExportedOrders" / safe_path_part(application_name, "Administration.ApplicationName")
    target = folder / safe_path_part(file_name, "Order.OrderNr")
    if target.resolve().parent != folder.resolve():
        raise ValueError(f"{target} leaves {folder}")
    folder.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.part")
    temp.write_bytes(data)
    os.replace(temp, target)
    return target
