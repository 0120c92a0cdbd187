"""Runtime settings that are not secrets: read from the environment when a task runs.

``BACKOFFICE_LOCAL_ROOT`` (default ``./.local``) holds what this project writes locally;
``BACKOFFICE_FILES_ROOT`` is the seeds' ``[App4SalesFiles]`` (default ``<local root>/files``).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

DB_CONN_ID = os.environ.get("BACKOFFICE_DB_CONN_ID", "app4sales_db")


def local_root() -> Path:
    return Path(os.environ.get("BACKOFFICE_LOCAL_ROOT", Path.cwd() / ".local")).resolve()


def files_root() -> Path:
    """``[App4SalesFiles]``: where exported order files are written before upload."""
    configured = os.environ.get("BACKOFFICE_FILES_ROOT")
    return Path(configured).resolve() if configured else local_root() / "files"


def claim_ttl() -> timedelta:
    """How long a chunk may hold its orders; keep above the task's execution timeout."""
    return timedelta(minutes=int(os.environ.get("BACKOFFICE_CLAIM_TTL_MINUTES", "120")))
