"""What a chunk is called in the Airflow UI (its mapped task's label) and in its task log.

The label travels in the chunk itself (``chunk["label"]``), so the DAG renders it from the mapped
argument before the task starts: it shows from the first try on, also while the chunk waits for
a retry. It names the administration, the order count and the first order by its App4Sales
number beside its internal id, e.g. ``shop-nl: 200 orders from App4Sales order 5001 (id 42)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sqlalchemy as sa

from backoffice_export.db import schema as s


def chunk_label(administration: str, ids: Sequence[int], first_order_nr: str | None) -> str:
    noun = "order" if len(ids) == 1 else "orders"
    first = f"App4Sales order {first_order_nr} (id {ids[0]})" if first_order_nr else f"id {ids[0]}"
    return f"{administration}: {len(ids)} {noun} from {first}"


def label_chunks(engine: sa.Engine, plan: Mapping[str, Sequence[dict]]) -> None:
    """Give every chunk of a plan its ``label``, with one query for the first orders' numbers."""
    firsts = [chunk["ids"][0] for chunks in plan.values() for chunk in chunks]
    numbers: dict[int, str] = {}
    o = s.orders
    with engine.connect() as conn:
        for start in range(0, len(firsts), 500):
            rows = conn.execute(sa.select(o.c.id, o.c.internal_order_nr).where(o.c.id.in_(firsts[start:start + 500])))
            numbers.update({row.id: row.internal_order_nr for row in rows})
    for chunks in plan.values():
        for chunk in chunks:
            chunk["label"] = chunk_label(chunk["administration"], chunk["ids"], numbers.get(chunk["ids"][0]))
