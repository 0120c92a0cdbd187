"""Spector (Specter Business Management): one JSON POST per order to the v2 order API.

Seed: ``shared/seeds/002_01dd28680e055152.txt``. Sent through the http provider's ``HttpHook``
(``transport/http_api.ApiSession``); the wire contract is in ``api.py`` and ``docs/spector.md``,
the loopback emulator that implements it in ``erp_sandbox/spector_api.py``.
"""

from backoffice_export.connectors.spector.delivery import SpectorConnector

connector = SpectorConnector()
