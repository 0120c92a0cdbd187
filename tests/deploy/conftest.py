"""Deployment tests: the ``deployment`` marker selects the ones that start real Airflow components."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "deployment: starts a real Airflow deployment (api-server, scheduler, dag-processor, Celery worker) "
        "on the local PostgreSQL and Redis; select with -m deployment, leave out with -m 'not deployment'",
    )
