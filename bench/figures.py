"""DAG processing time and task memory, each measured in a process of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]

PARSE = """
import importlib, json, sys
from pathlib import Path
import airflow.sdk  # Airflow already imported, as in the dag processor
from airflow.dag_processing.dagbag import DagBag
from airflow.utils.file import iter_airflow_imports
for path in sorted(Path(sys.argv[1]).glob("*.py")):
    for module in iter_airflow_imports(str(path)):  # what the dag processor imports before it forks a parser
        importlib.import_module(module)
for label in ("first parse", "parse"):
    for stat in DagBag(sys.argv[1]).dagbag_stats:
        print(json.dumps({"label": label, "file": stat.file, "seconds": stat.duration.total_seconds()}))
"""
EVENT_MODE = {"BACKOFFICE_ORDER_EVENTS_CONN_ID": "bench_order_events",
              "AIRFLOW_CONN_BENCH_ORDER_EVENTS": json.dumps({"conn_type": "redis", "host": "127.0.0.1", "port": 6379})}


def dag_processing_seconds() -> dict[str, float]:
    """Per DAG file, with event mode off and on, the parse duration Airflow records, as its dag
    processor parses: in a process that has imported the file's ``airflow`` imports (the
    processor's ``parsing_pre_import_modules``), first and again."""
    result = {}
    for mode, env in (("event mode off", {"BACKOFFICE_ORDER_EVENTS_CONN_ID": ""}), ("event mode on", EVENT_MODE)):
        out = subprocess.run([sys.executable, "-c", PARSE, str(PROJECT / "dags")],
                             capture_output=True, text=True, check=True, env={**os.environ, **env}).stdout
        for line in out.splitlines():
            if line.startswith("{"):
                row = json.loads(line)
                result[f"{Path(row['file']).name}, {mode} ({row['label']})"] = row["seconds"]
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
