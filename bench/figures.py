"""What the benchmark measures besides throughput, and how it prints the report."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

PROJECT = Path(__file__).resolve().parents[1]


@dataclass
class Report:
    orders: int
    chunk_size: int
    pipeline_seconds: float = 0.0
    connector_seconds: dict[str, float] = field(default_factory=dict)
    connector_orders: dict[str, int] = field(default_factory=dict)
    states: dict[str, int] = field(default_factory=dict)
    task_instances: int = 0
    xcom_bytes: int = 0
    mapping: dict[str, float] = field(default_factory=dict)
    chunk_seconds: dict[tuple[str, int], float] = field(default_factory=dict)  # (task id, map index) -> s
    floor_beside: list[Any] = field(default_factory=list)  # paired_floor.ChunkBeside, one per chunk
    dag_processing: dict[str, float] = field(default_factory=dict)
    memory: dict[int, dict[str, float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def _beside(self, connector: str) -> list[Any]:
        return [chunk for chunk in self.floor_beside if chunk.connector == connector and chunk.floor_seconds]

    def floor(self, connector: str) -> float:
        """Orders per second on the floor slices taken beside this connector's chunks."""
        chunks = self._beside(connector)
        seconds = sum(chunk.floor_seconds for chunk in chunks)
        return sum(chunk.orders for chunk in chunks) / seconds if seconds else 0.0

    def ratio(self, connector: str) -> tuple[float, float, float]:
        """Pipeline / floor for the connector (its chunks' time over their slices' time), and the
        lowest and highest of its chunks' own ratios."""
        chunks = [chunk for chunk in self._beside(connector) if chunk.chunk_seconds]
        if not chunks:
            return (float("nan"),) * 3
        each = [chunk.chunk_seconds / chunk.floor_seconds for chunk in chunks]
        overall = sum(chunk.chunk_seconds for chunk in chunks) / sum(chunk.floor_seconds for chunk in chunks)
        return overall, min(each), max(each)

    def note(self, text: str) -> None:
        print(text, flush=True)
        self.notes.append(text)

    def collect_run(self, dag_run: Any, engine: sa.Engine, targets: list, per_target: dict[str, int]) -> None:
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session

        from backoffice_export import export_state

        tis = dag_run.get_task_instances()
        self.task_instances = len(tis)
        seconds: dict[str, float] = defaultdict(float)
        for ti in tis:
            if ti.task_id.endswith(".send_chunk") and ti.start_date and ti.end_date:
                took = (ti.end_date - ti.start_date).total_seconds()
                seconds[ti.task_id.split(".")[0]] += took
                self.chunk_seconds[(ti.task_id, ti.map_index)] = took
        self.connector_seconds = dict(seconds)
        for target in targets:
            self.connector_orders[target.connector] = (self.connector_orders.get(target.connector, 0)
                                                       + per_target[target.name])
        with create_session() as session:
            values = session.query(XComModel.value).filter(
                XComModel.dag_id == dag_run.dag_id, XComModel.run_id == dag_run.run_id).all()
        self.xcom_bytes = sum(len(json.dumps(v[0]) if not isinstance(v[0], str | bytes) else v[0]) for v in values)
        for row in export_state.states(engine):
            self.states[row.state] = self.states.get(row.state, 0) + 1

    def print(self) -> None:
        n = self.orders
        print("\n=== backoffice-export benchmark ===")
        for line in self.notes:
            print(line)
        print(f"orders: {n}, lines per order: ~20, chunk size: {self.chunk_size}; final states: {self.states}")
        print(f"\nend to end (dag.test(), tasks run one after another): {self.pipeline_seconds:.1f} s, "
              f"{n / self.pipeline_seconds:.0f} orders/s overall")
        print(f"{'connector':<12} {'orders':>7} {'pipeline/s':>11} {'floor/s':>9} {'pipe/floor':>11} "
              f"{'per chunk':>11} {'mapping/s':>10}")
        for connector, count in self.connector_orders.items():
            spent = self.connector_seconds.get(connector, 0.0)
            pipe = count / spent if spent else 0.0
            ratio, lowest, highest = self.ratio(connector)
            print(f"{connector:<12} {count:>7} {pipe:>11.0f} {self.floor(connector):>9.0f} {ratio:>11.2f} "
                  f"{f'{lowest:.2f}-{highest:.2f}':>11} {self.mapping.get(connector, 0.0):>10.0f}")
        print("(pipe/floor = time per order in the pipeline / time per order on the bare floor; target <= 1.3."
              "\n the floor is taken beside each chunk: right after it, as many of its target's payloads;"
              "\n per chunk = the lowest and highest ratio of one chunk to its own floor slice)")
        limit = 5 * math.ceil(n / self.chunk_size) + 10
        print(f"\ntask instances per run: {self.task_instances} (target <= 5 x ceil(N / chunk) + 10 = {limit})")
        print(f"XCom: {self.xcom_bytes} bytes, {self.xcom_bytes / n:.1f} bytes per order (target <= 64)")
        for path, seconds in self.dag_processing.items():
            print(f"DAG file processing: {path}: {seconds:.3f} s (target <= 0.1 s)")
        for scale, figures in sorted(self.memory.items()):
            print(f"peak RSS at {scale} orders: " + ", ".join(f"{k} {v:.0f} MB" for k, v in figures.items())
                  + " (target <= 300 MB, flat as N grows)")


PARSE = """
import json, sys
import airflow.sdk  # Airflow already imported, as in the dag processor
from airflow.dag_processing.dagbag import DagBag
first = DagBag(sys.argv[1])  # a fresh process's first parse also imports Airflow's authoring modules
again = DagBag(sys.argv[1])
for label, bag in (("first parse", first), ("parse", again)):
    for stat in bag.dagbag_stats:
        print(json.dumps({"label": label, "file": stat.file, "seconds": stat.duration.total_seconds()}))
"""


def dag_processing_seconds() -> dict[str, float]:
    """Per DAG file, the parse duration ``airflow dags report`` shows, in a fresh process (the
    first file parsed also pays Airflow's lazy imports) and once that process is warm."""
    out = subprocess.run([sys.executable, "-c", PARSE, os.environ["AIRFLOW__CORE__DAGS_FOLDER"]],
                         capture_output=True, text=True, check=True, env=os.environ).stdout
    result = {}
    for line in out.splitlines():
        if line.startswith("{"):
            row = json.loads(line)
            result[f"{Path(row['file']).name} ({row['label']})"] = row["seconds"]
    return result


TASK = """
import json, os, sys
import airflow.sdk  # a task process has Airflow imported
from backoffice_export import export, export_state
from backoffice_export.db.engine import create_engine
from backoffice_export.export_state import ClaimOwner
engine = create_engine(sys.argv[2])
if sys.argv[1] == "extract":
    plan = export.plan_chunks(engine, int(sys.argv[3]), include_sent=True)
    print(json.dumps({c: chunks[0]["ids"] for c, chunks in plan.items() if chunks}))
else:
    ids = json.loads(sys.argv[3])
    export_state.request_resend(engine, ids)
    export.send_chunk(engine, ids, ClaimOwner("bench", "memory", sys.argv[1], 0))
# VmHWM is the peak of this process image alone (ru_maxrss would count the parent's pages
# the child held between fork and exec). The chunk's builder (a fork of this process, waited
# for) is a task process too: its peak is RUSAGE_CHILDREN's.
import resource
peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print("PEAK_KB", max(int(peak.split()[1]), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
"""


def _child(args: list[str], env: dict[str, str]) -> tuple[str, float]:
    done = subprocess.run([sys.executable, "-c", TASK, *args], capture_output=True, text=True, env=env, cwd=PROJECT)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark task {args[0]} failed: {done.stderr[-2000:]}")
    lines = done.stdout.strip().splitlines()
    peak_kb = int(next(line for line in reversed(lines) if line.startswith("PEAK_KB")).split()[1])
    output = next((line for line in reversed(lines) if line.startswith("{")), "{}")
    return output, peak_kb / 1024


def task_memory(engine: sa.Engine, chunk_size: int, *, database: Path | None = None,
                connections: dict[str, str] | None = None) -> dict[str, float]:
    """Peak RSS (MB) of the extract task and of the heaviest chunk (the larger of its process
    and its builder process), each in a process of its own."""
    env = dict(connections or os.environ)
    url = f"sqlite:///{database}" if database else str(engine.url)
    out, extract_mb = _child(["extract", url, str(chunk_size)], env)
    first_chunks = json.loads(out)
    figures = {"extract": extract_mb}
    chunk_mb = 0.0
    for connector, ids in first_chunks.items():
        _, mb = _child([f"{connector}.send_chunk", url, json.dumps(ids)], env)
        chunk_mb = max(chunk_mb, mb)
    figures["largest chunk"] = chunk_mb
    return figures
