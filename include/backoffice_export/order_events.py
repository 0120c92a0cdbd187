"""Event mode: an "order stored" message on a Redis channel starts an export run within seconds.

Settings (environment, read where the DAG is parsed and where orders are stored):

- ``BACKOFFICE_ORDER_EVENTS_CONN_ID``: the Airflow connection (type ``redis``) of the Redis that
  carries the messages. Unset or empty: event mode is off and the DAG runs on its schedule alone.
- ``BACKOFFICE_ORDER_EVENTS_CHANNEL``: the pub/sub channel (default ``app4sales:order-stored``).
- ``BACKOFFICE_ORDER_EVENTS_POLL_SECONDS``: how often the watcher looks for a message (default 1).

The DAG side is an ``Asset`` watched by the ``common.messaging`` provider's
``MessageQueueTrigger`` (the redis provider's pub/sub trigger, run by the triggerer); the DAG is
scheduled on that asset *or* its cron tick. This module imports nothing heavy: the DAG file
imports it at every parse.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_CHANNEL = "app4sales:order-stored"
ASSET_NAME = "app4sales_order_stored"


def conn_id() -> str | None:
    """The Redis connection id of event mode, or ``None`` when event mode is off."""
    return os.environ.get("BACKOFFICE_ORDER_EVENTS_CONN_ID", "").strip() or None


def channel() -> str:
    return os.environ.get("BACKOFFICE_ORDER_EVENTS_CHANNEL", "").strip() or DEFAULT_CHANNEL


def poll_seconds() -> float:
    return float(os.environ.get("BACKOFFICE_ORDER_EVENTS_POLL_SECONDS", "1"))


def mode_line() -> str:
    """One line saying whether event mode is on, for logs and start-up banners."""
    redis_conn = conn_id()
    if redis_conn is None:
        return ("Event mode off: the export runs on its schedule only "
                "(set BACKOFFICE_ORDER_EVENTS_CONN_ID to a Redis connection to turn it on).")
    return (f"Event mode on: an order-stored message on Redis channel {channel()!r} "
            f"(connection {redis_conn!r}) starts an export run; the schedule stays as the safety net.")


def order_stored_asset() -> Any:
    """The asset that an order-stored message updates, watched on the Redis channel."""
    from airflow.providers.common.messaging.triggers.msg_queue import MessageQueueTrigger
    from airflow.sdk import Asset, AssetWatcher

    trigger = MessageQueueTrigger(scheme="redis+pubsub", channels=[channel()], redis_conn_id=conn_id(),
                                  poll_interval=poll_seconds())
    return Asset(ASSET_NAME, watchers=[AssetWatcher(name="order_stored_on_redis", trigger=trigger)])


def schedule(timetable: Any) -> Any:
    """The DAG's schedule: ``timetable`` alone when event mode is off, else the tick or the asset."""
    if conn_id() is None:
        log.info(mode_line())
        return timetable
    asset = order_stored_asset()
    if timetable is None:
        return [asset]
    from airflow.sdk import AssetOrTimeSchedule

    return AssetOrTimeSchedule(timetable=timetable, assets=[asset])


def listeners() -> int:
    """How many subscribers the channel has now (the triggerer's watcher is one); 0 when unreachable."""
    from airflow.providers.redis.hooks.redis import RedisHook

    try:
        client = RedisHook(redis_conn_id=conn_id()).get_conn()
        try:
            return int(dict(client.pubsub_numsub(channel())).get(channel().encode(), 0))
        finally:
            client.close()
    except Exception:
        return 0


def run_origin(dag_run: Any, triggering_asset_events: Mapping[Any, Any] | None) -> str:
    """What started this run, for the first line of its log."""
    run_type = getattr(dag_run, "run_type", None)
    run_type = str(getattr(run_type, "value", run_type) or "manual").lower()
    if "asset" in run_type:
        events = sum(len(v) for v in (triggering_asset_events or {}).values())
        return f"Started by {events} order-stored message(s) (event mode); it exports every unsent order."
    return f"Started as a {run_type} run. {mode_line()}"


def publish_order_stored(message: Mapping[str, Any]) -> str:
    """Announce stored orders on the channel; return a line for the user. Never raises.

    The orders are stored whatever happens here: without the message they go at the next tick.
    """
    redis_conn = conn_id()
    if redis_conn is None:
        return "Event mode off: no message published; the orders go at the export's next scheduled run."
    try:
        from airflow.providers.redis.hooks.redis import RedisHook

        client = RedisHook(redis_conn_id=redis_conn).get_conn()
        try:
            listeners = client.publish(channel(), json.dumps(dict(message), default=str))
        finally:
            client.close()
    except Exception as exc:  # the orders are stored: a missing message only delays them
        return (f"WARNING: could not publish the order-stored message on {channel()!r} ({type(exc).__name__}: "
                f"{exc}); the orders go at the export's next scheduled run.")
    if not listeners:
        return (f"Published on {channel()!r}, but no watcher listens (is the triggerer running?); "
                "the orders go at the export's next scheduled run.")
    return f"Published an order-stored message on {channel()!r}: the export starts within seconds."


LOCAL_CONN_ID = "order_events"
LOCAL_REDIS_URL = "redis://127.0.0.1:6379/0"


def use_local_redis(url: str | None = None) -> bool:
    """Embedded default: turn event mode on with the local Redis when nothing was configured.

    Only when ``BACKOFFICE_ORDER_EVENTS_CONN_ID`` is not set at all (set it empty to keep event
    mode off) and Redis answers at ``url`` (``BACKOFFICE_REDIS_URL``, default the loopback
    Redis). Returns whether event mode is on afterwards.
    """
    if "BACKOFFICE_ORDER_EVENTS_CONN_ID" in os.environ:
        return conn_id() is not None
    import redis

    url = url or os.environ.get("BACKOFFICE_REDIS_URL", LOCAL_REDIS_URL)
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            client.ping()
        finally:
            client.close()
    except redis.RedisError:
        return False
    parsed = redis.connection.parse_url(url)
    conn = {"conn_type": "redis", "host": parsed.get("host", "127.0.0.1"), "port": parsed.get("port", 6379),
            "extra": {"db": parsed.get("db", 0)}}
    if parsed.get("password"):
        conn["password"] = parsed["password"]
    os.environ.setdefault(f"AIRFLOW_CONN_{LOCAL_CONN_ID.upper()}", json.dumps(conn))
    os.environ["BACKOFFICE_ORDER_EVENTS_CONN_ID"] = LOCAL_CONN_ID
    return True
