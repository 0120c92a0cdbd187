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


class ExportCopies:
    """The local copies of one application's files; the folder is checked and made once."""

    def __init__(self, application_name: str) -> None:
        self.application_name = application_name
        self._folder: Path | None = None

    def write(self, file_name: str, data: bytes) -> Path:
        if self._folder is None:
            # Checked at each order's turn until it passes: a bad name is that order's error.
            folder = config.files_root() / "ExportedOrders" / safe_path_part(
                self.application_name, "Administration.ApplicationName")
            folder.mkdir(parents=True, exist_ok=True)
            self._folder = folder
        target = self._folder / safe_path_part(file_name, "Order.OrderNr")
        # safe_path_part allows no separators, so the target's folder is the checked one; the
        # check stays as a guard against a future change there.
        if target.parent != self._folder:
            raise ValueError(f"{target} leaves {self._folder}")
        temp = target.with_name(f".{target.name}.part")
        temp.write_bytes(data)
        os.replace(temp, target)
        return target


def write_export_copy(application_name: str, file_name: str, data: bytes) -> Path:
    return ExportCopies(application_name).write(file_name, data)
