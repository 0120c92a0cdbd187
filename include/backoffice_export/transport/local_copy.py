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
        self._folder: str | None = None

    def write(self, file_name: str, data: bytes) -> Path:
        if self._folder is None:
            # Checked at each order's turn until it passes: a bad name is that order's error.
            folder = config.files_root() / "ExportedOrders" / safe_path_part(
                self.application_name, "Administration.ApplicationName")
            folder.mkdir(parents=True, exist_ok=True)
            self._folder = str(folder)
        # Plain string paths: a copy is written per order, and pathlib's objects cost more than
        # the write. safe_path_part allows no separators, so the file stays in the checked folder;
        # the check stays as a guard against a future change there.
        name = safe_path_part(file_name, "Order.OrderNr")
        target = os.path.join(self._folder, name)
        if os.path.dirname(target) != self._folder:
            raise ValueError(f"{target} leaves {self._folder}")
        temp = os.path.join(self._folder, f".{name}.part")
        with open(temp, "wb") as file:
            file.write(data)
        os.replace(temp, target)
        return Path(target)


def write_export_copy(application_name: str, file_name: str, data: bytes) -> Path:
    return ExportCopies(application_name).write(file_name, data)
