"""``make airflow`` for real: event mode, its fallback without Redis, overlapping runs, Ctrl-C.

Each fixture starts ``python -m local_airflow`` (what ``make airflow`` runs) in a fresh
``AIRFLOW_HOME``: scheduler (LocalExecutor), dag-processor, triggerer and api-server on SQLite,
with the loopback sandboxes and the demo connections. Orders are stored with the real
``cli load`` in a separate process, as a user does from a second shell.

Run alone with ``pytest -m deployment tests/deploy/test_make_airflow.py``; needs Redis for the
event-mode tests (skipped without it, failed under ``CI=true``).
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from local_airflow.launched import Launched, isolated_env
from tests.conftest import PROJECT, need

pytestmark = [pytest.mark.deployment, pytest.mark.timeout(600)]

DAG_ID = "send_orders_to_backoffice"
REDIS_URL = os.environ.get("BACKOFFICE_TEST_REDIS_URL", "redis://127.0.0.1:6379")
# A tick that never comes while the test runs: only an order-stored message can start a run.
NEVER = "0 0 1 1 *"
DEMO_FASHION = "sftp/app4sales/demofashion/orders"


def _redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def _wait(what: str, probe: Callable[[], Any], launched: Launched, *, timeout: float, interval: float = 1.0) -> Any:
    limit = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > limit:
            logs = launched.home / "logs" / "components"
            tails = "\n".join(f"--- {p.name} ---\n{p.read_text(errors='replace')[-3000:]}"
                              for p in sorted(logs.glob("*.log")))
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{launched.output()}\n{tails}")
        time.sleep(interval)


def _cli_load(launched: Launched, document: Path) -> str:
    """``cli load`` in its own process with the deployment's settings (a second shell)."""
    result = subprocess.run([sys.executable, "-m", "backoffice_export.cli", "load", str(document)], env=launched.env,
                            cwd=PROJECT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _order_states(launched: Launched) -> dict[str, dict[str, Any]]:
    from backoffice_export.db import schema as s

    engine = sa.create_engine(f"sqlite:///{launched.local_root / 'app4sales.db'}")
    t, o, a = s.export_state, s.orders, s.administrations
    query = (sa.select(a.c.code, o.c.internal_order_nr, t.c.state, t.c.attempts, t.c.run_id)
             .join(o, o.c.id == t.c.order_id).join(a, a.c.id == t.c.administration_id))
    try:
        with engine.connect() as conn:
            return {f"{r.code}/{r.internal_order_nr}": dict(r._mapping) for r in conn.execute(query)}
    finally:
        engine.dispose()


def _runs(launched: Launched) -> list[dict[str, Any]]:
    assert launched.api is not None
    return launched.api.get(f"/dags/{DAG_ID}/dagRuns", params={"limit": 100})["dag_runs"]


def _document(tmp: Path, code: str, numbers: list[str]) -> Path:
    """The demo's SFTP administration (demo-fashion) under another code, with orders numbered ``numbers``."""
    demo = json.loads((PROJECT / "include" / "demo" / "reflecta.json").read_text())
    admin = dict(demo["administrations"][0])
    template = admin["orders"][0]
    admin["code"] = code
    admin["orders"] = [{**template, "internal_order_nr": n, "order_nr": f"{code.upper()}-{n}"} for n in numbers]
    path = tmp / f"{code}-{numbers[0]}.json"
    path.write_text(json.dumps({"administrations": [admin]}))
    return path


@pytest.fixture(scope="module")
def launched_with_events() -> Iterator[Launched]:
    need(_redis_reachable(), f"Redis is not reachable at {REDIS_URL}")
    root = Path(tempfile.mkdtemp(prefix="make-airflow-events-"))
    host, port = REDIS_URL.split("//", 1)[1].split(":")
    launched = Launched(isolated_env(
        root, BACKOFFICE_EXPORT_SCHEDULE=NEVER, BACKOFFICE_ORDER_EVENTS_CONN_ID="events_test",
        AIRFLOW_CONN_EVENTS_TEST=json.dumps({"conn_type": "redis", "host": host, "port": int(port)}),
        # Pub/sub channels are shared by every database of a Redis server: one of our own.
        BACKOFFICE_ORDER_EVENTS_CHANNEL=f"test:order-stored:{uuid.uuid4().hex}",
    ))
    try:
        launched.start()
        yield launched
    finally:
        launched.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_a_stored_order_reaches_the_sftp_sandbox_without_waiting_for_a_tick(launched_with_events: Launched):
    launched = launched_with_events
    assert "Event mode on" in launched.output()
    stored = time.monotonic()
    out = _cli_load(launched, PROJECT / "include" / "demo" / "reflecta.json")  # the demo document, as it is
    assert "Published an order-stored message" in out, out

    delivered = launched.sandbox / DEMO_FASHION / "WEB5001.xml"
    _wait(f"{delivered} at the SFTP sandbox", delivered.exists, launched, timeout=150)
    seconds = time.monotonic() - stored
    runs = _runs(launched)
    assert {r["run_type"] for r in runs} == {"asset_triggered"}, runs
    assert _order_states(launched)["demo-fashion/5001"]["state"] == "sent"
    print(f"order stored -> at the SFTP sandbox in {seconds:.1f} s (runs: {len(runs)})")


def test_overlapping_runs_send_every_order_once(launched_with_events: Launched, tmp_path: Path):
    """Messages and manual runs at once: two runs overlap (max_active_runs 2); claims keep sends single."""
    launched = launched_with_events
    api = launched.api
    assert api is not None
    before = {r["dag_run_id"] for r in _runs(launched)}
    numbers = [str(n) for n in range(1, 13)]
    documents = [_document(tmp_path, "overlap", numbers[i:i + 3]) for i in range(0, len(numbers), 3)]
    for document in documents[:2]:
        _cli_load(launched, document)
    for _ in range(2):
        api.post(f"/dags/{DAG_ID}/dagRuns", {"logical_date": None, "note": "overlap test"})
    for document in documents[2:]:
        _cli_load(launched, document)

    def all_settled() -> list[dict[str, Any]] | None:
        runs = [r for r in _runs(launched) if r["dag_run_id"] not in before]
        done = runs and all(r["state"] in {"success", "failed"} for r in runs)
        states = _order_states(launched)
        sent = all(states.get(f"overlap/{n}", {}).get("state") == "sent" for n in numbers)
        return runs if done and sent else None

    runs = _wait("every overlap order sent and every run finished", all_settled, launched, timeout=300, interval=2)
    assert len(runs) >= 2
    spans = sorted((r["start_date"], r["end_date"]) for r in runs if r["start_date"])
    overlapping = any(later[0] < earlier[1] for earlier, later in itertools.pairwise(spans))
    assert overlapping, f"no two runs overlapped: {spans}"
    states = _order_states(launched)
    for n in numbers:
        assert states[f"overlap/{n}"]["attempts"] == 1, states[f"overlap/{n}"]  # claimed and sent once
    files = sorted(p.name for p in (launched.sandbox / DEMO_FASHION).glob("OVERLAP-*.xml"))
    assert files == sorted(f"OVERLAP-{n}.xml" for n in numbers)


def test_ctrl_c_stops_every_component(launched_with_events: Launched):
    launched = launched_with_events
    assert launched.processes_left(), "the deployment should be running before the stop"
    assert launched.stop() == 0, launched.output()
    assert launched.processes_left() == []
    assert "Airflow stopped." in launched.output()


def test_without_redis_the_schedule_alone_sends_and_says_event_mode_is_off(tmp_path: Path):
    root = Path(tempfile.mkdtemp(prefix="make-airflow-noredis-"))
    launched = Launched(isolated_env(root, BACKOFFICE_EXPORT_SCHEDULE="* * * * *",
                                     BACKOFFICE_REDIS_URL="redis://127.0.0.1:1/0"))
    try:
        launched.start()
        assert "Event mode off: the export runs on its schedule only" in launched.output()
        assert launched.api is not None
        details = launched.api.get(f"/dags/{DAG_ID}/details")
        assert "Asset" not in (details.get("timetable_summary") or ""), details.get("timetable_summary")
        out = _cli_load(launched, _document(tmp_path, "noredis", ["1"]))
        assert "Event mode off: no message published" in out or "could not publish" in out, out
        delivered = launched.sandbox / DEMO_FASHION / "NOREDIS-1.xml"
        _wait(f"{delivered} at the next tick", delivered.exists, launched, timeout=200)
        assert {r["run_type"] for r in _runs(launched)} <= {"scheduled"}
    finally:
        assert launched.stop() == 0, launched.output()
        assert launched.processes_left() == []
        shutil.rmtree(root, ignore_errors=True)
