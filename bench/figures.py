"""DAG processing time and task memory, each measured in a process of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]

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
    out = subprocess.run([sys.executable, "-c", PARSE, str(PROJECT / "dags")],
                         capture_output=True, text=True, check=True, env=os.environ).stdout
    result = {}
    for line in out.splitlines():
        if line.startswith("{"):
            row = json.loads(line)
            result[f"{Path(row['file']).name} ({row['label']})"] = row["seconds"]
    return result


TASK = """
import json, sys
import airflow.sdk  # a task process has Airflow imported
from backoffice_export import export, export_state
from backoffice_export.db.engine import create_engine
from backoffice_export.export_state import ClaimOwner
engine = create_engine(sys.argv[2])
if sys.argv[1] == "extract":
    plan = export.plan_chunks(engine, int(sys.argv[3]), include_sent=True)
    print(json.dumps({c: chunks[0]["ids"] for c, chunks in plan.items() if chunks}))
else:
    export.send_chunk(engine, json.loads(sys.argv[3]), ClaimOwner("bench", "memory", sys.argv[1], 0))
# VmHWM: the peak of this process image alone.
peak = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print("PEAK_KB", peak.split()[1])
"""


def _child(args: list[str]) -> tuple[str, float]:
    done = subprocess.run([sys.executable, "-c", TASK, *args], capture_output=True, text=True, env=os.environ,
                          cwd=PROJECT)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark task {args[0]} failed: {done.stderr[-2000:]}")
    lines = done.stdout.strip().splitlines()
    peak_kb = int(next(line for line in reversed(lines) if line.startswith("PEAK_KB")).split()[1])
    output = next((line for line in reversed(lines) if line.startswith("{")), "{}")
    return output, peak_kb / 1024


def task_memory(database_url: str, chunk_size: int) -> dict[str, float]:
    """Peak RSS (MB) of the extract task, and of the heaviest first chunk of any connector."""
    out, extract_mb = _child(["extract", database_url, str(chunk_size)])
    chunk_mb = 0.0
    for connector, ids in json.loads(out).items():
        _, mb = _child([f"{connector}.send_chunk", database_url, json.dumps(ids)])
        chunk_mb = max(chunk_mb, mb)
    return {"extract": extract_mb, "send_chunk": chunk_mb}
