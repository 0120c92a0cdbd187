"""``make bench``: the export pipeline end to end, measured against the transport floor.

    python -m bench.benchmark [--orders 10000] [--chunk-size 200] [--memory-scale 100000]

One run prints:
- orders per second end to end, overall and per connector (a real ``dag.test()`` run of
  ``send_orders_to_backoffice`` against the loopback sandboxes and ERP emulators, which run in a
  process of their own as a real ERP would: ``servers``);
- the floor: the same payloads delivered to the same servers by a bare loop over the same client
  libraries on one reused connection, no Airflow, no database, measured beside each chunk (right
  after it, as many orders as it sent: ``paired_floor``); and pipeline / floor per connector,
  with the spread of the per-chunk ratios;
- mapping and serialisation alone, orders per second per connector;
- DAG file processing time as ``airflow dags report`` shows it;
- task instances per run, XCom bytes per order;
- peak resident memory of the largest task (extract, and the largest chunk), in a process of
  its own, at N and at ``--memory-scale`` orders (to show it stays flat).
Figures, not assertions: the test suite never asserts wall-clock times.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
WARM_UP_ORDERS = 1000  # per target, delivered once before anything is timed (a first pass ran up to a third slower)


def _environment(root: Path) -> None:
    os.environ.update({
        "AIRFLOW_HOME": str(root / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        "AIRFLOW__CORE__MAX_MAP_LENGTH": "1024",
        "BACKOFFICE_LOCAL_ROOT": str(root),
        "BACKOFFICE_TASK_RETRIES": "0",
    })
    os.environ["AIRFLOW_CONN_APP4SALES_DB"] = json.dumps({"conn_type": "sqlite", "host": str(root / "app4sales.db")})


def run(orders: int, chunk_size: int, memory_scale: int, root: Path) -> None:
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    _environment(root)

    from airflow.dag_processing.dagbag import DagBag
    from airflow.sdk.listener import get_listener_manager
    from airflow.utils import db

    from backoffice_export.db.engine import create_engine, create_schema, engine_for_connection
    from bench import adapters, figures, paired_floor
    from bench.generate import generate
    from bench.servers import RemoteSandboxes

    db.initdb()
    engine = engine_for_connection("app4sales_db")
    create_schema(engine)
    report = figures.Report(orders=orders, chunk_size=chunk_size)

    with RemoteSandboxes(root / "servers") as servers:
        targets = adapters.targets(servers)
        started = time.perf_counter()
        per_target = generate(engine, targets, orders)
        report.note(f"generated {orders} orders x ~20 lines over {len(targets)} targets "
                    f"in {time.perf_counter() - started:.1f} s")

        payloads = adapters.floor_payloads(engine, targets, root / "floor-payloads")
        dag = DagBag(str(PROJECT / "dags")).get_dag("send_orders_to_backoffice")
        started = time.perf_counter()
        adapters.floor_rates(servers, targets, payloads, "warm-up", limit=WARM_UP_ORDERS)
        report.note(f"warmed the servers up with {WARM_UP_ORDERS} orders per target in "
                    f"{time.perf_counter() - started:.1f} s (not counted)")
        beside = paired_floor.FloorBesideChunks(
            engine, targets, payloads, lambda target, loaded: adapters.floor_seconds(servers, target, loaded, "beside"))
        listeners = get_listener_manager()
        listeners.add_listener(beside)
        try:
            started = time.perf_counter()
            dag_run = dag.test(run_conf={"chunk_size": chunk_size})
            report.pipeline_seconds = time.perf_counter() - started - beside.spent
        finally:
            listeners.pm.unregister(beside)
        report.collect_run(dag_run, engine, targets, per_target)
        beside.add_chunk_durations(report.chunk_seconds)
        report.floor_beside = beside.chunks

        report.mapping = adapters.mapping_rates(engine, targets)
        report.dag_processing = figures.dag_processing_seconds()
        report.memory[orders] = figures.task_memory(engine, chunk_size)

    if memory_scale and memory_scale > orders:
        scale_root = root / f"scale-{memory_scale}"
        scale_root.mkdir()
        engine = create_engine(f"sqlite:///{scale_root / 'app4sales.db'}")
        create_schema(engine)
        with RemoteSandboxes(scale_root / "servers") as servers:
            targets = adapters.targets(servers)
            generate(engine, targets, memory_scale)
            report.memory[memory_scale] = figures.task_memory(engine, chunk_size, database=scale_root / "app4sales.db",
                                                              connections=dict(os.environ))
    report.print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--chunk-size", type=int, default=1000)
    parser.add_argument("--memory-scale", type=int, default=100_000,
                        help="also measure task memory at this many orders (0 to skip)")
    parser.add_argument("--root", type=Path, default=PROJECT / ".local" / "bench")
    args = parser.parse_args(argv)
    run(args.orders, args.chunk_size, args.memory_scale, args.root.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
