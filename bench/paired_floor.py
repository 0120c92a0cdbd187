"""The floor, measured beside each chunk: right after a chunk task ends, the same number of that
target's payloads go out through the bare client loop, before the next task starts.

Why beside and not before and after the whole run: this machine's speed drifts by tens of
percent within a minute (two floor passes half a minute apart differed by up to 40 %), so a
floor taken before and after a 30-second pipeline compared each chunk with a machine that may
have been faster or slower than the one it ran on. A floor slice seconds after its chunk sees
the same machine; the ratio per connector is the chunks' time over their slices' time, and the
spread of the per-chunk ratios shows how much noise is left.

It hooks in as an Airflow listener (``on_task_instance_success``), which ``dag.test()`` calls
in the run's process after the task instance's end date is fixed: a slice's time is never part
of its chunk's duration. The orders a chunk sent are read from the export state, whose owner
columns name the task instance.
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from airflow.listeners import hookimpl

from bench.generate import Target


@dataclass
class ChunkBeside:
    """One chunk task and the floor slice measured right after it."""

    connector: str
    target: str
    task_id: str
    map_index: int
    orders: int
    floor_seconds: float | None  # None: this connector has no floor
    chunk_seconds: float = 0.0  # filled in from the task instance once the run is over


class FloorBesideChunks:
    """The listener: after every ``send_chunk``, its slice of the floor."""

    def __init__(self, engine: sa.Engine, targets: list[Target], payloads: dict[str, Path],
                 deliver: Callable[[Target, list[Any]], float | None]) -> None:
        self.engine, self.payloads, self.deliver = engine, payloads, deliver
        self.targets = {f"bench-{target.name}": target for target in targets}
        self.used: dict[str, int] = {}  # target -> payloads already sent: each goes once
        self.chunks: list[ChunkBeside] = []
        self.spent = 0.0  # wall time the slices took inside the run, loading included

    @hookimpl
    def on_task_instance_success(self, previous_state: Any, task_instance: Any) -> None:
        if not task_instance.task_id.endswith(".send_chunk"):
            return
        began = time.perf_counter()
        for code, count in self._sent_by(task_instance).items():
            target = self.targets[code]
            start = self.used.get(target.name, 0)
            loaded = pickle.loads(self.payloads[target.name].read_bytes())[start:start + count]  # noqa: S301
            self.used[target.name] = start + len(loaded)
            seconds = self.deliver(target, loaded)
            self.chunks.append(ChunkBeside(target.connector, target.name, task_instance.task_id,
                                           task_instance.map_index, len(loaded), seconds))
        self.spent += time.perf_counter() - began

    def _sent_by(self, task_instance: Any) -> dict[str, int]:
        from backoffice_export.db import schema as s

        t, o, a = s.export_state, s.orders, s.administrations
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(a.c.code, sa.func.count()).select_from(t)
                .join(o, o.c.id == t.c.order_id).join(a, a.c.id == o.c.administration_id)
                .where(t.c.dag_id == task_instance.dag_id, t.c.run_id == task_instance.run_id,
                       t.c.task_id == task_instance.task_id, t.c.map_index == task_instance.map_index)
                .group_by(a.c.code))
            return {code: count for code, count in rows}

    def add_chunk_durations(self, durations: dict[tuple[str, int], float]) -> None:
        for chunk in self.chunks:
            chunk.chunk_seconds = durations.get((chunk.task_id, chunk.map_index), 0.0)
