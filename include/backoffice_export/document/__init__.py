"""The order document: how users and tests feed administrations, master data and orders in.

Format: ``order_document.schema.json`` (JSON Schema) and ``docs/order-document.md``.
"""

from backoffice_export.document.loader import load_document, read_document

__all__ = ["load_document", "read_document"]
