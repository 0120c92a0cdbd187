"""``make bench`` still runs and prints every figure issue 9 asks for, on a small N.

Figures, not assertions: no time or rate is checked here (the suite never times anything);
what is checked is that every order went out, that the floor was taken beside every chunk, and
that each line of the report is there.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
CONNECTORS = ("reflecta", "ezxml", "spector", "styleman", "accountview")


def test_benchmark_prints_every_figure_for_every_connector(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.benchmark", "--orders", "140", "--chunk-size", "15",
         "--memory-scale", "0", "--root", str(tmp_path / "bench")],
        cwd=PROJECT, env=dict(os.environ), capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = done.stdout[done.stdout.index("=== backoffice-export benchmark ==="):]

    assert "final states: {'sent': 140}" in report
    for connector in CONNECTORS:
        row = re.search(rf"^{connector}\s+(\d+)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)-([\d.]+)\s+(\d+)$", report,
                        re.MULTILINE)
        assert row, f"no figures for {connector} in:\n{report}"
        orders, pipeline, floor, ratio = int(row[1]), int(row[2]), int(row[3]), float(row[4])
        assert orders == (60 if connector == "ezxml" else 20)  # 140 over 7 targets, EzXml has three
        assert pipeline > 0 and floor > 0 and ratio > 0
        assert float(row[5]) <= ratio <= float(row[6])  # the whole lies between its chunks

    tasks = re.search(r"task instances per run: (\d+) \(target <= 5 x ceil\(N / chunk\) \+ 10 = (\d+)\)", report)
    assert tasks and int(tasks[1]) <= int(tasks[2])
    xcom = re.search(r"XCom: \d+ bytes, ([\d.]+) bytes per order", report)
    assert xcom and float(xcom[1]) <= 64
    assert re.search(r"DAG file processing: send_orders_to_backoffice\.py \(parse\): [\d.]+ s", report)
    assert re.search(r"peak RSS at 140 orders: extract \d+ MB, largest chunk \d+ MB", report)
