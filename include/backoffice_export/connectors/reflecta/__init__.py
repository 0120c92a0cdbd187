"""Reflecta: one XML file per order, uploaded to ``<folder>/orders/`` over SFTP or FTP(S).

Seed: ``shared/seeds/000_adf382cff99276f0.txt``. Element names follow the real Reflecta /
Xlenz order import (``shared/notes/erp-wire-formats.md``); ``reflecta_order.xsd`` is the
contract every file is checked against before upload.
"""

from backoffice_export.connectors.reflecta.delivery import ReflectaConnector

connector = ReflectaConnector()
