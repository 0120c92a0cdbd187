"""Latency from order stored to the ERP sandbox holding it: event mode beside schedule only.

For each mode a real deployment (``make airflow``: scheduler with LocalExecutor, dag-processor,
triggerer, api-server, sandboxes) starts in a fresh home. Orders then arrive one at a time at
random intervals (Poisson arrivals, exponential gaps), each stored in the order database like
``cli load`` does and, in event mode, announced on Redis. An order's latency runs from the
commit of its store to the modification time of its file on the SFTP sandbox. After the
arrivals the deployment keeps running until every order is delivered or the drain time ends.

    python -m bench.latency_events                       # 5 minutes per mode, mean gap 2 s
    python -m bench.latency_events --duration 20 --modes events
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

PROJECT = Path(__file__).resolve().parents[1]
DAG_ID = "send_orders_to_backoffice"
ADMINISTRATION = "bench-events"
DELIVERED = "sftp/app4sales/demofashion/orders"  # the demo_reflecta_sftp connection's folder


@dataclass
class Result:
    mode: str
    tick: str
    orders: int = 0
    stored: dict[str, float] = field(default_factory=dict)  # order number -> stored at (epoch s)
    latencies: list[float] = field(default_factory=list)
    lost: int = 0
    sent_twice: int = 0
    runs: dict[str, int] = field(default_factory=dict)
    load: list[float] = field(default_factory=list)  # 1-minute load average while the orders arrived

    def figures(self) -> dict[str, Any]:
        lat = sorted(self.latencies)

        def pct(q: float) -> float | None:
            return lat[min(len(lat) - 1, round(q * (len(lat) - 1)))] if lat else None

        return {"mode": self.mode, "tick": self.tick, "orders": self.orders, "delivered": len(lat),
                "lost": self.lost, "sent_twice": self.sent_twice,
                "p50_s": pct(0.5), "p95_s": pct(0.95), "max_s": lat[-1] if lat else None,
                "mean_s": statistics.fmean(lat) if lat else None,
                "dag_runs": sum(self.runs.values()), "runs_by_type": self.runs,
                "load_avg_1min": max(self.load) if self.load else None}


def _template() -> dict[str, Any]:
    demo = json.loads((PROJECT / "include" / "demo" / "reflecta.json").read_text())
    admin = dict(demo["administrations"][0])  # demo-fashion over SFTP (connection demo_reflecta_sftp)
    admin["code"] = ADMINISTRATION
    return admin


def _one_order_document(admin: dict[str, Any], number: str) -> dict[str, Any]:
    order = {**admin["orders"][0], "internal_order_nr": number, "order_nr": number}
    return {"administrations": [{**admin, "orders": [order]}]}


def _states(engine: sa.Engine) -> dict[str, tuple[str, int]]:
    from backoffice_export.db import schema as s

    t, o, a = s.export_state, s.orders, s.administrations
    query = (sa.select(o.c.internal_order_nr, t.c.state, t.c.attempts)
             .join(o, o.c.id == t.c.order_id).join(a, a.c.id == t.c.administration_id)
             .where(a.c.code == ADMINISTRATION))
    with engine.connect() as conn:
        return {r.internal_order_nr: (r.state, r.attempts) for r in conn.execute(query)}


def run_mode(mode: str, args: argparse.Namespace) -> Result:
    from backoffice_export.db.engine import create_engine, create_schema
    from backoffice_export.document import load_document
    from local_airflow.launched import Launched, isolated_env

    root = Path(tempfile.mkdtemp(prefix=f"bench-events-{mode}-"))
    events: dict[str, str] = {"BACKOFFICE_ORDER_EVENTS_CONN_ID": ""}
    if mode == "events":
        url = args.redis_url.rstrip("/")
        host, port = url.split("//", 1)[1].split(":")
        events = {"BACKOFFICE_ORDER_EVENTS_CONN_ID": "bench_events",
                  "AIRFLOW_CONN_BENCH_EVENTS": json.dumps({"conn_type": "redis", "host": host, "port": int(port)}),
                  "BACKOFFICE_ORDER_EVENTS_CHANNEL": f"bench:order-stored:{uuid.uuid4().hex}"}
    launched = Launched(isolated_env(root, BACKOFFICE_EXPORT_SCHEDULE=args.tick, **events))
    result = Result(mode, args.tick)
    rng = random.Random(args.seed)
    admin = _template()
    saved = {k: os.environ.get(k) for k in events}
    os.environ.update(events)  # this process publishes like App4Sales does (restored at the end)
    from backoffice_export.order_events import publish_order_stored

    print(f"[{mode}] starting make airflow in {root} ...", flush=True)
    engine = create_engine(f"sqlite:///{launched.local_root / 'app4sales.db'}")
    folder = launched.sandbox / DELIVERED
    try:
        launched.start()
        create_schema(engine)
        began = time.time()
        end = time.monotonic() + args.duration
        while True:
            gap = rng.expovariate(1 / args.mean_interval)
            if time.monotonic() + gap > end:
                break
            time.sleep(gap)
            result.load.append(os.getloadavg()[0])
            number = f"EV{result.orders + 1:05d}"
            load_document(engine, _one_order_document(admin, number))
            result.stored[number] = time.time()
            result.orders += 1
            if mode == "events":
                publish_order_stored({"orders": 1, "administrations": [ADMINISTRATION]})
        print(f"[{mode}] {result.orders} orders stored in {args.duration:.0f} s; draining ...", flush=True)
        drain_until = time.monotonic() + args.drain
        while time.monotonic() < drain_until:
            if all((folder / f"{n}.xml").exists() for n in result.stored):
                break
            time.sleep(1)
        time.sleep(3)  # let a run that is still sending finish, so a second send would show
        for number, stored in result.stored.items():
            path = folder / f"{number}.xml"
            if path.exists():
                result.latencies.append(max(0.0, path.stat().st_mtime - stored))
            else:
                result.lost += 1
        states = _states(engine)
        result.sent_twice = sum(1 for state, attempts in states.values() if state == "sent" and attempts > 1)
        assert launched.api is not None
        runs = launched.api.get(f"/dags/{DAG_ID}/dagRuns", params={"limit": 1000})["dag_runs"]
        for run in runs:
            if run["run_after"] and datetime.fromisoformat(run["run_after"]).timestamp() >= began - 1:
                result.runs[run["run_type"]] = result.runs.get(run["run_type"], 0) + 1
    finally:
        engine.dispose()
        launched.stop()
        shutil.rmtree(root, ignore_errors=True)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return result


def burst(args: argparse.Namespace) -> str:
    """Publish ``--burst`` messages within a second after one stored order; count what Airflow made of them."""
    import redis

    from backoffice_export.db.engine import create_engine, create_schema
    from backoffice_export.document import load_document
    from backoffice_export.order_events import ASSET_NAME
    from local_airflow.launched import Launched, isolated_env

    root = Path(tempfile.mkdtemp(prefix="bench-events-burst-"))
    url = args.redis_url.rstrip("/")
    host, port = url.split("//", 1)[1].split(":")
    channel = f"bench:order-stored:{uuid.uuid4().hex}"
    launched = Launched(isolated_env(
        root, BACKOFFICE_EXPORT_SCHEDULE="0 0 1 1 *", BACKOFFICE_ORDER_EVENTS_CONN_ID="bench_events",
        AIRFLOW_CONN_BENCH_EVENTS=json.dumps({"conn_type": "redis", "host": host, "port": int(port)}),
        BACKOFFICE_ORDER_EVENTS_CHANNEL=channel))
    print(f"[burst] starting make airflow in {root} ...", flush=True)
    engine = create_engine(f"sqlite:///{launched.local_root / 'app4sales.db'}")
    try:
        api = launched.start()
        create_schema(engine)
        load_document(engine, _one_order_document(_template(), "BURST1"))
        client = redis.Redis.from_url(url)
        started = time.monotonic()
        pipe = client.pipeline(transaction=False)
        for i in range(args.burst):
            pipe.publish(channel, json.dumps({"orders": 1, "burst": i}))
        receivers = sum(pipe.execute())
        published_in = time.monotonic() - started
        delivered = launched.sandbox / DELIVERED / "BURST1.xml"
        limit = time.monotonic() + args.drain
        while time.monotonic() < limit:
            runs = api.get(f"/dags/{DAG_ID}/dagRuns", params={"limit": 1000})["dag_runs"]
            if delivered.exists() and runs and all(r["state"] in {"success", "failed"} for r in runs):
                break
            time.sleep(2)
        time.sleep(20)  # events still queued would start another run meanwhile
        runs = api.get(f"/dags/{DAG_ID}/dagRuns", params={"limit": 1000})["dag_runs"]
        asset = api.get("/assets", params={"name_pattern": ASSET_NAME})["assets"][0]
        events = api.get("/assets/events", params={"asset_id": asset["id"], "limit": 1})["total_entries"]
        was_delivered = delivered.exists()
    finally:
        engine.dispose()
        launched.stop()
        shutil.rmtree(root, ignore_errors=True)
    kinds = sorted({r["run_type"] for r in runs})
    return (f"{args.burst} messages published in {published_in:.2f} s ({receivers} received by the watcher) -> "
            f"{events} asset event(s), {len(runs)} DAG run(s) {kinds}; order delivered: {was_delivered}")


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def report(results: list[Result]) -> str:
    head = f"{'mode':<10} {'tick':<14} {'orders':>6} {'lost':>5} {'twice':>5} {'p50 s':>7} {'p95 s':>7} " \
           f"{'max s':>7} {'runs':>5} {'load':>5}  runs by type"
    lines = [head]
    for r in results:
        f = r.figures()
        lines.append(f"{f['mode']:<10} {f['tick']:<14} {f['orders']:>6} {f['lost']:>5} {f['sent_twice']:>5} "
                     f"{_fmt(f['p50_s']):>7} {_fmt(f['p95_s']):>7} {_fmt(f['max_s']):>7} {f['dag_runs']:>5} "
                     f"{_fmt(f['load_avg_1min']):>5}  "
                     f"{json.dumps(f['runs_by_type'])}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=300, help="seconds of order arrivals per mode")
    parser.add_argument("--mean-interval", type=float, default=2.0, help="mean seconds between two orders")
    parser.add_argument("--tick", default="*/5 * * * *", help="the export's cron schedule in both modes")
    parser.add_argument("--drain", type=float, default=420, help="seconds to wait for the last orders")
    parser.add_argument("--modes", default="events,schedule", help="events, schedule, or both (comma-separated)")
    parser.add_argument("--redis-url", default=os.environ.get("BACKOFFICE_REDIS_URL", "redis://127.0.0.1:6379"))
    parser.add_argument("--seed", type=int, default=26)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--burst", type=int, help="instead: publish this many messages at once, count the runs")
    args = parser.parse_args(argv)
    if args.burst:
        print(burst(args))
        return 0
    results = [run_mode(mode.strip(), args) for mode in args.modes.split(",") if mode.strip()]
    print(report(results))
    print(f"{os.cpu_count()} CPUs; load: the highest 1-minute load average while the orders arrived")
    if args.json:
        args.json.write_text(json.dumps([r.figures() for r in results], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
