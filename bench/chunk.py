"""One connector's chunk, in a process of its own: the pipeline (``export.send_chunk``, what the
``send_chunk`` task runs) or the floor (``floor``) over the same orders.

    python -m bench.chunk pipeline|floor DATABASE_URL

The pipeline delivers through the administration's connection (``bench_<connector>``, from the
environment as Airflow reads it); the floor builds its payloads through that connection, then
delivers them through the one in ``BENCH_FLOOR_CONNECTION`` (JSON). When ready the process prints
``ready`` and waits for a line on stdin, so that several can start their clocks together; then
it prints one JSON line: seconds, orders, orders sent, and its peak resident memory (MB).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import sqlalchemy as sa


def main(mode: str, url: str) -> None:
    import airflow.sdk  # noqa: F401  (a task process has Airflow imported)

    from backoffice_export import export
    from backoffice_export.db import schema as s
    from backoffice_export.db.engine import create_engine
    from backoffice_export.export_state import ClaimOwner
    from bench import floor

    engine = create_engine(url)
    with engine.connect() as db:
        ids = list(db.execute(sa.select(s.orders.c.id).order_by(s.orders.c.id)).scalars())
        connector = db.execute(sa.select(s.administrations.c.connector)).scalar_one()
    if mode == "floor":
        payloads = floor.build_payloads(engine, ids)
    print("ready", flush=True)
    sys.stdin.readline()
    if mode == "floor":
        seconds = floor.deliver(connector, json.loads(os.environ["BENCH_FLOOR_CONNECTION"]), payloads)
        sent = len(payloads)
    else:
        began = time.perf_counter()
        sent = export.send_chunk(engine, ids, ClaimOwner("bench", "bench", f"{connector}.send_chunk", 0)).sent
        seconds = time.perf_counter() - began
    # VmHWM: the peak of this process alone.
    status = Path("/proc/self/status").read_text().splitlines()
    peak_kb = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    print(json.dumps({"connector": connector, "seconds": seconds, "orders": len(ids), "sent": sent,
                      "peak_mb": peak_kb / 1024}), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
