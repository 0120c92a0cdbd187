"""Event mode's two ends without a deployment: the DAG's schedule, and the order-stored message."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid

import pytest

from tests.conftest import PROJECT, need

REDIS_URL = os.environ.get("BACKOFFICE_TEST_REDIS_URL", "redis://127.0.0.1:6379")

_SCHEDULE_PROBE = (
    "import logging, sys; logging.basicConfig(level=logging.INFO, stream=sys.stdout);"
    "from airflow.dag_processing.dagbag import DagBag;"
    f"bag = DagBag({str(PROJECT / 'dags')!r});"
    "assert bag.import_errors == {}, bag.import_errors;"
    "t = bag.dags['send_orders_to_backoffice'].timetable;"
    "inner = getattr(t, 'timetable', None);"
    "print('TIMETABLE', type(t).__name__, type(inner).__name__, getattr(inner, 'expression', ''))"
)


def _parse(**env: str) -> str:
    base = {k: v for k, v in os.environ.items() if not k.startswith("BACKOFFICE_ORDER_EVENTS")}
    return subprocess.run([sys.executable, "-c", _SCHEDULE_PROBE], check=True, cwd=PROJECT, capture_output=True,
                          text=True, env={**base, **env}).stdout


def test_without_a_redis_connection_the_dag_runs_on_its_schedule_and_says_event_mode_is_off():
    out = _parse()
    assert "TIMETABLE CronDataIntervalTimetable" in out
    assert "Event mode off: the export runs on its schedule only" in out


def test_with_a_redis_connection_the_dag_runs_on_the_tick_or_the_order_stored_asset():
    """Parsed against a Redis that does not exist: the DAG file opens no connection at parse time."""
    closed = json.dumps({"conn_type": "redis", "host": "127.0.0.1", "port": 1})
    out = _parse(BACKOFFICE_ORDER_EVENTS_CONN_ID="order_events", AIRFLOW_CONN_ORDER_EVENTS=closed)
    # Backfills still cut their windows from the cron tick (periodic, with data intervals).
    assert "TIMETABLE AssetOrTimeSchedule CronDataIntervalTimetable */15 * * * *" in out
    assert "Event mode off" not in out


def test_the_watcher_listens_on_the_configured_channel_and_connection(monkeypatch: pytest.MonkeyPatch):
    from backoffice_export import order_events

    monkeypatch.setenv("BACKOFFICE_ORDER_EVENTS_CONN_ID", "my_redis")
    monkeypatch.setenv("BACKOFFICE_ORDER_EVENTS_CHANNEL", "shop:orders")
    asset = order_events.order_stored_asset()
    classpath, kwargs = asset.watchers[0].trigger.serialize()
    assert classpath == "airflow.providers.redis.triggers.redis_await_message.AwaitMessageTrigger"
    assert kwargs == {"channels": ["shop:orders"], "redis_conn_id": "my_redis", "poll_interval": 1.0}


def _redis():
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.ping()
    except redis.RedisError:
        client = None
    need(client is not None, f"Redis is not reachable at {REDIS_URL}")
    return client


def test_a_stored_order_is_announced_on_the_channel(monkeypatch: pytest.MonkeyPatch):
    from backoffice_export.order_events import publish_order_stored

    client = _redis()
    channel = f"test:order-stored:{uuid.uuid4().hex}"
    host, port = client.connection_pool.connection_kwargs["host"], client.connection_pool.connection_kwargs["port"]
    monkeypatch.setenv("BACKOFFICE_ORDER_EVENTS_CONN_ID", "events_test")
    monkeypatch.setenv("AIRFLOW_CONN_EVENTS_TEST", json.dumps({"conn_type": "redis", "host": host, "port": port}))
    monkeypatch.setenv("BACKOFFICE_ORDER_EVENTS_CHANNEL", channel)
    subscriber = client.pubsub()
    subscriber.subscribe(channel)
    assert subscriber.get_message(timeout=2)["type"] == "subscribe"

    line = publish_order_stored({"orders": 2, "administrations": ["shop-a"]})

    assert "Published an order-stored message" in line
    message = subscriber.get_message(timeout=5)
    assert message is not None and json.loads(message["data"]) == {"orders": 2, "administrations": ["shop-a"]}
    subscriber.close()


def test_an_unreachable_redis_never_fails_the_store(monkeypatch: pytest.MonkeyPatch):
    from backoffice_export.order_events import publish_order_stored

    monkeypatch.setenv("BACKOFFICE_ORDER_EVENTS_CONN_ID", "events_down")
    monkeypatch.setenv("AIRFLOW_CONN_EVENTS_DOWN", json.dumps({"conn_type": "redis", "host": "127.0.0.1", "port": 1}))
    started = time.monotonic()
    line = publish_order_stored({"orders": 1})
    assert line.startswith("WARNING: could not publish") and "next scheduled run" in line
    assert time.monotonic() - started < 10


def test_event_mode_off_publishes_nothing_and_says_so(monkeypatch: pytest.MonkeyPatch):
    from backoffice_export.order_events import publish_order_stored, use_local_redis

    monkeypatch.setenv("BACKOFFICE_ORDER_EVENTS_CONN_ID", "")
    assert use_local_redis() is False  # set, even empty: the embedded default does not override it
    assert publish_order_stored({"orders": 1}).startswith("Event mode off")


def test_the_embedded_default_uses_the_local_redis_only_when_it_answers(monkeypatch: pytest.MonkeyPatch):
    from backoffice_export import order_events

    # Recorded first, so that the undo puts back what was there before (here: nothing).
    for name in ("BACKOFFICE_ORDER_EVENTS_CONN_ID", "AIRFLOW_CONN_ORDER_EVENTS"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    assert order_events.use_local_redis("redis://127.0.0.1:1/0") is False
    assert order_events.conn_id() is None
    _redis()
    assert order_events.use_local_redis(f"{REDIS_URL}/0") is True
    assert order_events.conn_id() == "order_events"


def test_no_event_setting_leaks_into_later_tests():
    assert "BACKOFFICE_ORDER_EVENTS_CONN_ID" not in os.environ
    assert "AIRFLOW_CONN_ORDER_EVENTS" not in os.environ


def test_the_first_log_line_of_a_run_says_what_started_it():
    from types import SimpleNamespace

    from airflow.utils.types import DagRunType

    from backoffice_export.order_events import run_origin

    asset_run = SimpleNamespace(run_type=DagRunType.ASSET_TRIGGERED)
    assert run_origin(asset_run, {"app4sales_order_stored": [1, 2, 3]}).startswith(
        "Started by 3 order-stored message(s) (event mode)")
    line = run_origin(SimpleNamespace(run_type=DagRunType.MANUAL), None)
    assert line.startswith("Started as a manual run. Event mode")
