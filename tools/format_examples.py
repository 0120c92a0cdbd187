"""The example payload of every connector format, built by the connectors from the demo orders.

``docs/formats/*.md`` show these outputs between ``<!-- example: NAME -->`` and ``<!-- /example -->``;
``tests/unit/test_format_examples.py`` checks that they still match. Print them with
``.venv/bin/python -m tools.format_examples [NAME ...]``, rewrite the pages with ``--write``.
"""

from __future__ import annotations

import re
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from backoffice_export import repository
from backoffice_export.connectors.accountview import envelope
from backoffice_export.connectors.accountview import mapping as accountview
from backoffice_export.connectors.accountview import settings as accountview_settings
from backoffice_export.connectors.ezxml import csv_format, default_xml, reflecta_xml
from backoffice_export.connectors.ezxml import settings as ezxml_settings
from backoffice_export.connectors.ezxml.common import OrderNumbers
from backoffice_export.connectors.reflecta import mapping as reflecta
from backoffice_export.connectors.reflecta import settings as reflecta_settings
from backoffice_export.connectors.spector import mapping as spector
from backoffice_export.connectors.spector import settings as spector_settings
from backoffice_export.connectors.styleman import mapping as styleman
from backoffice_export.connectors.styleman import settings as styleman_settings
from backoffice_export.db import schema as s
from backoffice_export.db.engine import create_engine, create_schema
from backoffice_export.document import load_document, read_document
from backoffice_export.mapping import exact_json
from backoffice_export.mapping.xml import to_bytes, validate
from backoffice_export.model import Order

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "include" / "demo"
DOCS = ROOT / "docs" / "formats"
_BLOCK = re.compile(r"(<!-- example: (?P<name>[a-z-]+) -->\n```[a-z]*\n)(?P<body>.*?)(```\n<!-- /example -->)", re.S)
# Fixed moments, so the examples do not change from run to run: the export moment and a clock.
NOW = datetime(2026, 11, 20, 10, 30, 0)


def demo_order(engine: sa.Engine, administration: str, number: str) -> Order:
    with engine.connect() as conn:
        order_id = conn.execute(
            sa.select(s.orders.c.id).join(s.administrations, s.orders.c.administration_id == s.administrations.c.id)
            .where(s.administrations.c.code == administration, s.orders.c.internal_order_nr == number)).scalar_one()
    (order,) = repository.load_orders(engine, [order_id])
    return order


def reflecta_example(order: Order) -> str:
    root = reflecta.build_order(order, reflecta_settings.parse(order.administration.settings), order.order_nr or "1")
    validate(root, Path(reflecta.__file__).with_name("reflecta_order.xsd"))
    return to_bytes(root).decode()


def ezxml_default_example(order: Order) -> str:
    return default_xml.render(order, OrderNumbers("Default1", "Default1")).decode()


def ezxml_csv_example(order: Order) -> str:
    """The file's text; its CRLF line ends are shown as plain line ends."""
    return csv_format.render(order, OrderNumbers("Inv1", "Inv1"), NOW).decode(csv_format.ENCODING).replace("\r\n", "\n")


def ezxml_reflecta_example(order: Order) -> str:
    settings = ezxml_settings.parse(order.administration.settings)
    return reflecta_xml.render(order, settings, OrderNumbers(order.internal_order_nr)).decode()


def spector_example(order: Order) -> str:
    payload = spector.build_order(order, spector_settings.parse(order.administration.settings), NOW.date())
    return exact_json.dumps(payload, indent=2).decode()


def styleman_example(order: Order) -> str:
    settings = styleman_settings.parse(order.administration.settings)
    guids = iter(f"00000000-0000-4000-8000-{n:012d}" for n in range(1, 100))
    sales_order = styleman.build_sales_order(order, settings, created=NOW, line_guid=lambda: next(guids))
    return exact_json.dumps(styleman.request_body(sales_order, settings), indent=2).decode()


def accountview_example(order: Order) -> str:
    settings = accountview_settings.parse(order.administration.settings)
    tables = accountview.build_order(order, settings, NOW)
    stamp = envelope.datetime_value(NOW)
    size = settings.OrderLinesBatchCount or len(tables.lines.rows)
    bodies = [envelope.insert_body(stamp, tables.header, tables.lines.slice(0, size))]
    for start in range(size, len(tables.lines.rows), size):
        bodies.append(envelope.update_body(stamp, "10001", tables.lines.slice(start, start + size)))
    text = "\n".join(exact_json.dumps(body, indent=2).decode() for body in bodies)
    return _shorten_file_data(text)


def _shorten_file_data(text: str) -> str:
    """The PDF's base64 is long: the example keeps its first 24 characters."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith('"JVBER') and len(stripped) > 40:
            lines[index] = line[: line.index('"') + 25] + '..."' + ("," if stripped.endswith(",") else "")
    return "\n".join(lines)


EXAMPLES: dict[str, tuple[str, str, str, Callable[[Order], str]]] = {
    # name: (demo file, administration, App4Sales number, builder)
    "reflecta": ("reflecta", "demo-fashion", "5001", reflecta_example),
    "ezxml-default": ("ezxml", "demo-ez-fashion", "6001", ezxml_default_example),
    "ezxml-csv": ("ezxml", "demo-ez-outlet", "9101", ezxml_csv_example),
    "ezxml-reflecta": ("ezxml", "demo-ez-shoes", "801", ezxml_reflecta_example),
    "spector": ("spector", "demo-spector", "7001", spector_example),
    "styleman": ("styleman", "demo-styleman", "7001", styleman_example),
    "accountview": ("accountview", "demo-av-wholesale", "9001", accountview_example),
}


def examples(names: list[str] | None = None) -> dict[str, str]:
    """Each named example (all by default), built from the demo orders in a scratch database."""
    wanted = names or list(EXAMPLES)
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite:///{folder}/demo.db")
        create_schema(engine)
        for demo in sorted({EXAMPLES[name][0] for name in wanted}):
            load_document(engine, read_document(DEMO / f"{demo}.json"))
        built = {}
        for name in wanted:
            _, administration, number, build = EXAMPLES[name]
            built[name] = build(demo_order(engine, administration, number))
        engine.dispose()
    return built


def documented() -> dict[str, str]:
    """The example blocks of ``docs/formats/*.md``, by name."""
    return {m["name"]: m["body"] for page in sorted(DOCS.glob("*.md")) for m in _BLOCK.finditer(page.read_text())}


def write_docs() -> None:
    built = examples()
    for page in sorted(DOCS.glob("*.md")):
        text = page.read_text()
        page.write_text(_BLOCK.sub(lambda m: f"{m[1]}{built[m['name']].rstrip()}\n{m[4]}", text))


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write_docs()
    else:
        for name, text in examples(sys.argv[1:] or None).items():
            print(f"===== {name}\n{text}")
