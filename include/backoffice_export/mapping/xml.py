"""Build and check XML with lxml: one place for text cleaning, serialisation and XSD checks."""

from __future__ import annotations

import functools
from pathlib import Path

from lxml import etree

from backoffice_export.errors import OrderDataError
from backoffice_export.mapping.text import checked_text


def element(parent: etree._Element, tag: str, value: object = None, *, field: str | None = None) -> etree._Element:
    """Append ``<tag>value</tag>``; ``field`` names the App4Sales field in any error."""
    child = etree.SubElement(parent, tag)
    if value is not None:
        child.text = checked_text(value, field or tag)
    return child


def to_bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


@functools.cache
def _schema(path: str) -> etree.XMLSchema:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.XMLSchema(etree.parse(path, parser))


def validate(root: etree._Element, xsd: Path) -> None:
    """Refuse a document its XSD does not accept, before anything leaves the machine."""
    schema = _schema(str(xsd))
    if not schema.validate(root):
        error = schema.error_log.last_error
        raise OrderDataError(f"XML {error.path}", f"does not match {xsd.name}: {error.message}")


def parse_reply(data: bytes) -> etree._Element:
    """Parse XML that came from outside: no entities, no network."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.fromstring(data, parser)
