"""One chunk at a time against its own floor slice, without Airflow: where a chunk's time goes.

    python -m bench.chunk_probe [--targets reflecta,spector] [--rounds 3] [--chunk 1000] [--prebuilt]
                                [--group-bytes N] [--pipe-bytes N] [--uploads-ahead N]

``make bench`` measures whole runs; this takes one connector's chunk through
``export.send_chunk`` against the benchmark's servers (their own process, as there), then the
same number of that target's payloads through the bare floor loop, and prints per chunk:

- ``deliver/floor``: from the connection being open to the last order handled, over the floor
  slice; ``wall/floor`` with claiming, loading the heads and connecting included;
- CPU seconds of the task's process (``task``; in brackets, while delivering), of its builder
  (``builder``), of the floor loop (``floor``) and of the server process during the chunk and
  during the floor (``servers``), and the context switches of the first two
  (voluntary/involuntary). Both cores busy is what slows the transport on a 2-core machine.

``--prebuilt`` builds every turn before the clock starts, so nothing is built beside the
transport: the difference to a plain run is what building alongside costs. ``--group-bytes``
sets how much the builder holds back before handing turns over (``order_turns.GROUP_BYTES``),
``--pipe-bytes`` its pipe's buffer, ``--uploads-ahead`` the file drops' uploads ahead where
the connection sets none (0 = each file in its own turn).
The first round pays for first imports (connecting takes about a second); read the later ones.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import pickle
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def _usage() -> tuple[resource.struct_rusage, resource.struct_rusage]:
    return resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)


def _cpu(after: resource.struct_rusage, before: resource.struct_rusage) -> float:
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def _process_cpu(pid: int) -> float:
    """CPU seconds of another process so far (the servers': utime + stime from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _switches(after: resource.struct_rusage, before: resource.struct_rusage) -> str:
    return f"{after.ru_nvcsw - before.ru_nvcsw}/{after.ru_nivcsw - before.ru_nivcsw}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--targets", default="reflecta,spector,styleman,accountview,ezxml-default")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--chunk", type=int, default=1000)
    parser.add_argument("--prebuilt", action="store_true")
    parser.add_argument("--group-bytes", type=int)
    parser.add_argument("--pipe-bytes", type=int)
    parser.add_argument("--uploads-ahead", type=int, help="file drops' uploads ahead, where the connection sets none")
    args = parser.parse_args(argv)

    root = Path(tempfile.mkdtemp(prefix="chunk-probe-"))
    os.environ["BACKOFFICE_LOCAL_ROOT"] = str(root)
    os.environ.setdefault("AIRFLOW_HOME", str(root / "airflow"))
    logging.disable(logging.INFO)  # as make bench: the task log at WARNING

    import sqlalchemy as sa

    from backoffice_export import export, order_turns
    from backoffice_export.db import schema as s
    from backoffice_export.db.engine import create_engine, create_schema
    from backoffice_export.export_state import ClaimOwner
    from bench import adapters
    from bench.generate import generate
    from bench.servers import RemoteSandboxes

    if args.uploads_ahead is not None:
        from backoffice_export.transport import uploads_ahead

        uploads_ahead.SFTP_UPLOADS_AHEAD = uploads_ahead.FTP_UPLOADS_AHEAD = args.uploads_ahead
    if args.pipe_bytes:
        order_turns.PIPE_BYTES = args.pipe_bytes
    if args.group_bytes:
        order_turns.GROUP_BYTES = args.group_bytes
    laps: dict[str, float] = {}
    lap_cpu: dict[str, float] = {}  # the task process's CPU seconds at each lap

    class Clock(export._ChunkClock):
        def lap(self, what: str) -> None:
            super().lap(what)
            name = "handled" if what[0].isdigit() else what
            laps[name] = time.monotonic() - self.started
            lap_cpu[name] = _cpu(resource.getrusage(resource.RUSAGE_SELF), zero)

    zero = resource.getrusage(resource.RUSAGE_SELF)
    export._ChunkClock = Clock  # type: ignore[misc]
    if args.prebuilt:
        real = order_turns.built_ahead

        @contextlib.contextmanager
        def all_built_first(*a: Any) -> Iterator[Iterator[Any]]:
            with real(*a) as turns:
                built = list(turns)
            yield iter(built)

        export.built_ahead = all_built_first  # type: ignore[assignment]

    names = args.targets.split(",")
    engine = create_engine(f"sqlite:///{root / 'app4sales.db'}")
    create_schema(engine)
    with RemoteSandboxes(root / "servers") as servers:
        targets = [t for t in adapters.targets(servers) if t.name in names]
        generate(engine, targets, len(targets) * args.chunk * args.rounds)
        payloads = adapters.floor_payloads(engine, targets, root / "payloads")
        adapters.floor_rates(servers, targets, payloads, "warm-up", limit=args.chunk)
        for round_ in range(args.rounds):
            for target in targets:
                with engine.connect() as conn:
                    ids = list(conn.execute(
                        sa.select(s.orders.c.id).join(s.administrations)
                        .where(s.administrations.c.code == f"bench-{target.name}").order_by(s.orders.c.id)
                        .offset(round_ * args.chunk).limit(args.chunk)).scalars())
                laps.clear()
                server_before = _process_cpu(servers.pid)
                before = _usage()
                began = time.monotonic()
                result = export.send_chunk(engine, ids, ClaimOwner("probe", "probe", f"round-{round_}", 0))
                wall = time.monotonic() - began
                after = _usage()
                server_chunk = _process_cpu(servers.pid) - server_before
                loaded = pickle.loads(payloads[target.name].read_bytes())  # noqa: S301 (written above)
                loaded = loaded[round_ * args.chunk:(round_ + 1) * args.chunk]
                floor_before, server_before = _usage()[0], _process_cpu(servers.pid)
                floor = adapters.floor_seconds(servers, target, loaded, "beside")
                floor_cpu = _cpu(_usage()[0], floor_before)
                server_floor = _process_cpu(servers.pid) - server_before
                if not floor:
                    continue
                deliver = laps["handled"] - laps["connected"]
                deliver_cpu = lap_cpu["handled"] - lap_cpu["connected"]
                print(f"{target.name:15s} round {round_}: sent {result.sent}/{len(ids)}  "
                      f"deliver/floor {deliver / floor:.2f} (cpu {deliver_cpu:.2f} s)  wall/floor {wall / floor:.2f}  "
                      f"(floor {floor:.2f} s, connect {laps['connected'] - laps['building']:.3f} s)  "
                      f"cpu task {_cpu(after[0], before[0]):.2f} builder {_cpu(after[1], before[1]):.2f} "
                      f"floor {floor_cpu:.2f} s, servers {server_chunk:.2f}/{server_floor:.2f} s  "
                      f"switches task {_switches(after[0], before[0])} builder {_switches(after[1], before[1])}",
                      flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
