"""``make bench-events`` in short: 20 s of Poisson arrivals on a real deployment, event mode only."""

from __future__ import annotations

import argparse
import os

import pytest

from tests.conftest import need

pytestmark = [pytest.mark.deployment, pytest.mark.timeout(600)]

REDIS_URL = os.environ.get("BACKOFFICE_TEST_REDIS_URL", "redis://127.0.0.1:6379")


def test_twenty_seconds_of_orders_all_reach_the_sandbox_by_events_alone_and_once():
    import redis

    from bench.latency_events import run_mode

    try:
        reachable = bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except redis.RedisError:
        reachable = False
    need(reachable, f"Redis is not reachable at {REDIS_URL}")
    # No tick while it runs: whatever reaches the sandbox went by an order-stored message.
    args = argparse.Namespace(duration=20.0, mean_interval=2.0, tick="0 0 1 1 *", drain=240.0,
                              redis_url=REDIS_URL, seed=26)
    result = run_mode("events", args)
    figures = result.figures()
    print(figures)
    assert figures["orders"] >= 3
    assert figures["lost"] == 0 and figures["delivered"] == figures["orders"]
    assert figures["sent_twice"] == 0
    assert set(figures["runs_by_type"]) == {"asset_triggered"}
