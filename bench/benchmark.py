"""``make bench``: the export against ERPs a network round trip away, and what it costs Airflow.

    python -m bench.benchmark [--orders 1000] [--rtt-ms 30] [--slots 4] [--memory-scale 100000]
                              [--doc docs/performance.md]

Each ERP's SFTP/FTPS sandbox or API emulator runs in a process of its own behind proxies that add
``--rtt-ms`` of round trip (``servers``). Measured:

- per connector, one chunk of ``--orders`` orders on one connection: the pipeline
  (``export.send_chunk``, what the ``send_chunk`` task runs) and the floor (a bare client loop
  sending the same payloads through the same proxy: ``floor``), orders per second and their
  ratio, and the chunk's peak memory (``connector_chunks`` says which run at the same time);
- twice ``--orders`` Reflecta orders in ``--chunks`` chunks under a real scheduler, with the
  pool ``erp_reflecta`` at one slot and at ``--slots`` (``scheduler``), with task instances and
  XCom bytes per order of those runs;
- DAG file processing time, and peak memory of the extract task and of a chunk task at
  ``--orders`` and at ``--memory-scale`` orders (``figures``).

The report is printed and written to ``--doc`` (Markdown). Figures, not assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
SETTINGS: dict[str, dict[str, Any]] = {
    "reflecta": {"CompanyCode": "01"},
    "ezxml": {"OrderFormat": "Default"},
    "spector": {},
    "styleman": {},
    "accountview": {"OrderLinesBatchCount": 50},
}


def _environment(root: Path) -> None:
    os.environ.update({
        "AIRFLOW_HOME": str(root / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "BACKOFFICE_LOCAL_ROOT": str(root / "local"),
    })


def _targets() -> list[Any]:
    from bench.generate import Target

    return [Target(name, name, f"bench_{name}", settings) for name, settings in SETTINGS.items()]


def connector_chunks(root: Path, servers: Any, orders: int, targets: list[Any]) -> dict[str, dict[str, Any]]:
    """Per connector of ``targets``, the pipeline's and the floor's chunk of ``orders`` orders.

    The file connectors (hundreds of seconds of waiting on round trips, little CPU) run together
    from the start; meanwhile the HTTP API connectors run one after another, so that a 2-core
    machine does not make a connector's chunk wait for CPU that another chunk holds.
    """
    root.mkdir(parents=True)
    started: list[tuple[str, str, subprocess.Popen[str]]] = []
    try:
        from bench.floor import FILE_CONNECTORS

        files = [t for t in targets if t.name in FILE_CONNECTORS]
        started += _start(root, servers, orders, files)
        results = {}
        for target in (t for t in targets if t.name not in FILE_CONNECTORS):
            one = _start(root, servers, orders, [target])
            started += one
            results.update(_results(one, orders))
        results.update(_results(started[:2 * len(files)], orders))
        return {t.name: results[t.name] for t in targets}
    finally:
        for _, _, child in started:
            if child.poll() is None:
                child.kill()


def _start(root: Path, servers: Any, orders: int, targets: list[Any]) -> list[tuple[str, str, subprocess.Popen[str]]]:
    """Start each target's pipeline and floor on orders of their own, and their clocks together."""
    from backoffice_export.db.engine import create_engine, create_schema
    from bench.generate import generate

    children: list[tuple[str, str, subprocess.Popen[str]]] = []
    for target in targets:
        database = root / f"{target.name}.db"
        engine = create_engine(f"sqlite:///{database}")
        create_schema(engine)
        generate(engine, [target], orders)
        engine.dispose()
        shutil.copy(database, root / f"{target.name}-floor.db")  # the floor builds on a copy
        conn_var = f"AIRFLOW_CONN_BENCH_{target.name.upper()}"
        for mode, url, env in (
            ("pipeline", f"sqlite:///{database}", {conn_var: json.dumps(servers.latency[target.name])}),
            ("floor", f"sqlite:///{root / f'{target.name}-floor.db'}",
             {conn_var: json.dumps(servers.direct[target.name]),
              "BENCH_FLOOR_CONNECTION": json.dumps(servers.floor[target.name])}),
        ):
            child = subprocess.Popen([sys.executable, "-m", "bench.chunk", mode, url], cwd=PROJECT, text=True,
                                     env={**os.environ, **env}, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            children.append((target.name, mode, child))
    for name, mode, child in children:
        assert child.stdout is not None
        if child.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the {mode} of {name} did not start (exit {child.wait()})")
    for _, _, child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    return children


def _results(children: list[tuple[str, str, subprocess.Popen[str]]], orders: int) -> dict[str, dict[str, Any]]:
    """What each started chunk reports once done, by connector and mode."""
    results: dict[str, dict[str, Any]] = {}
    for name, mode, child in children:
        assert child.stdout is not None
        line = child.stdout.readline()
        if child.wait() != 0 or not line:
            raise RuntimeError(f"the {mode} of {name} failed (exit {child.returncode})")
        result = json.loads(line)
        if result["sent"] != orders:
            raise RuntimeError(f"the {mode} of {name} sent {result['sent']} of {orders} orders")
        results.setdefault(name, {})[mode] = result
    return results


def memory(root: Path, servers: Any, orders: int, chunk_size: int) -> dict[str, float]:
    """Peak RSS of the extract task and of the heaviest chunk, ``orders`` orders over every
    connector, straight to the servers (memory does not depend on the round trip)."""
    from backoffice_export.db.engine import create_engine, create_schema
    from bench import figures
    from bench.generate import generate

    for name, conn in servers.direct.items():
        os.environ[f"AIRFLOW_CONN_BENCH_{name.upper()}"] = json.dumps(conn)
    root.mkdir(parents=True)
    url = f"sqlite:///{root / 'app4sales.db'}"
    engine = create_engine(url)
    create_schema(engine)
    generate(engine, _targets(), orders)
    engine.dispose()
    return figures.task_memory(url, chunk_size)


def _machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    from importlib.metadata import version

    return (f"{os.cpu_count()} cores ({cpu}), {mem_kb / 1024 / 1024:.0f} GB, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}, Airflow {version('apache-airflow')}")


def render(args: argparse.Namespace, chunks: dict[str, Any], runs: list[Any], dag_processing: dict[str, float],
           peaks: dict[int, dict[str, float]], seconds: float) -> str:
    """The report, as Markdown."""
    rtt = f"{args.rtt_ms:g} ms"
    out = ["<!-- Generated by `make bench` (bench/benchmark.py). Do not edit: run it again. -->",
           "# Performance", "",
           f"Generated by `make bench` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, in {seconds / 60:.1f} minutes.", "",
           f"- Command: `make bench N={args.orders} RTT={args.rtt_ms:g}` (`python -m bench.benchmark "
           f"--orders {args.orders} --rtt-ms {args.rtt_ms:g} --slots {args.slots} --chunks {args.chunks} "
           f"--memory-scale {args.memory_scale}`)",
           f"- Machine: {_machine()}",
           f"- Network: every ERP answers through a proxy adding {rtt} of round trip (FTP data connections "
           "too); each new connection costs one more round trip.", "",
           f"## One chunk per connector at {rtt} round trip", "",
           f"{args.orders} orders of 20 lines, one chunk, one connection. Pipeline: `export.send_chunk`, what "
           "the `send_chunk` task runs (claim, load, build, deliver, record). Floor: the same payloads through the "
           "same proxy by a bare client loop. Each connector's pipeline and floor start together; Reflecta and "
           "EzXml run from the start, Spector, StyleMan and AccountView one after another meanwhile. Target: "
           "pipeline / floor <= 1.10.", "",
           "| connector | pipeline orders/s | floor orders/s | pipeline / floor | chunk peak RSS MB |",
           "| --- | ---: | ---: | ---: | ---: |"]
    for name, modes in chunks.items():
        pipe, floor = modes["pipeline"], modes["floor"]
        out.append(f"| {name} | {pipe['orders'] / pipe['seconds']:.1f} | {floor['orders'] / floor['seconds']:.1f} | "
                   f"{pipe['seconds'] / floor['seconds']:.2f} | {pipe['peak_mb']:.0f} |")
    if runs:
        one, many = runs[0], runs[-1]
        out += ["", f"## Reflecta under a real scheduler at {rtt} round trip", "",
                f"{one.orders} orders in chunks of {one.chunk_size}: api-server, scheduler (LocalExecutor) and "
                "dag-processor as processes, PostgreSQL; the chunks run in the pool `erp_reflecta`. Wall time is "
                f"the run's start to end. Target: {many.slots} slots at least 3 x faster than 1.", "",
                "| pool slots | wall s | orders/s | task instances | XCom bytes / order |",
                "| ---: | ---: | ---: | ---: | ---: |"]
        for run in runs:
            out.append(f"| {run.slots} | {run.seconds:.1f} | {run.orders / run.seconds:.1f} | {run.task_instances} | "
                       f"{run.xcom_bytes / run.orders:.1f} |")
        out += ["", f"{many.slots} slots: {one.seconds / many.seconds:.2f} x faster than 1."]
    out += ["", "## DAG file processing", "",
            "Parse time as Airflow records it, parsed as the dag processor does: in a process that has imported the "
            "file's `airflow` imports (`parsing_pre_import_modules`), first and again; event mode on (a Redis "
            "connection) adds the order-stored asset and its trigger. Target: <= 0.1 s.", "",
            "| file | seconds |", "| --- | ---: |"]
    out += [f"| {name} | {value:.3f} |" for name, value in dag_processing.items()]
    scales = sorted(peaks)
    out += ["", "## Peak task memory", "",
            "Peak resident memory (MB) of a task process, each in a process of its own, with that many orders in "
            "the database (chunks straight to the servers). Target: <= 300 MB, flat as orders grow.", "",
            "| task | " + " | ".join(f"{scale} orders" for scale in scales) + " |",
            "| --- |" + " ---: |" * len(scales)]
    for task in ("extract", "send_chunk"):
        out.append(f"| {task} | " + " | ".join(f"{peaks[scale][task]:.0f}" for scale in scales) + " |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1000, help="orders per connector chunk")
    parser.add_argument("--rtt-ms", type=float, default=30.0, help="round trip the proxies add, milliseconds")
    parser.add_argument("--slots", type=int, default=4, help="pool slots of the second scheduler run (0: no runs)")
    parser.add_argument("--chunks", type=int, default=20, help="chunks of each scheduler run")
    parser.add_argument("--memory-scale", type=int, default=100_000,
                        help="also measure task memory at this many orders (0 to skip)")
    parser.add_argument("--root", type=Path, default=PROJECT / ".local" / "bench")
    parser.add_argument("--doc", type=Path, default=PROJECT / "docs" / "performance.md")
    args = parser.parse_args(argv)

    began = time.monotonic()
    root = args.root.resolve()
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    _environment(root)
    from bench import figures, scheduler
    from bench.servers import RemoteSandboxes

    dag_processing = figures.dag_processing_seconds()
    with RemoteSandboxes(root / "servers", args.rtt_ms / 1000) as servers:
        chunks = connector_chunks(root / "chunks", servers, args.orders, _targets())
        print(f"connector chunks done at {time.monotonic() - began:.0f} s", flush=True)
        runs = []
        if args.slots:
            orders = 2 * args.orders
            runs = scheduler.run(root / "scheduler", servers.latency["reflecta"], orders,
                                 max(1, orders // args.chunks), args.slots).runs
            print(f"scheduler runs done at {time.monotonic() - began:.0f} s", flush=True)
        peaks = {args.orders: memory(root / "memory", servers, args.orders, args.orders)}
        if args.memory_scale > args.orders:
            peaks[args.memory_scale] = memory(root / "memory-scale", servers, args.memory_scale, args.orders)
    report = render(args, chunks, runs, dag_processing, peaks, time.monotonic() - began)
    print(report)
    args.doc.write_text(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
