"""Turns built ahead in a second process give exactly what building in line gives."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from backoffice_export import order_turns
from backoffice_export.errors import DeliveryError, OrderDataError
from tests.unit import factories as f


@pytest.fixture()
def engine(tmp_path: Path) -> sa.Engine:
    return sa.create_engine(f"sqlite:///{tmp_path / 'turns.db'}")


def load(ids: Sequence[int]) -> list[Any]:
    return [f.order(id=i, internal_order_nr=str(5000 + i)) for i in ids if i != 13]  # 13 was deleted


def build(order: Any) -> Any:
    if order.id == 7:
        raise OrderDataError("OrderLine.Price", "line 2 has no price")
    if order.id == 9:
        raise KeyError("surprise")
    if order.id == 11:
        logging.getLogger("backoffice_export.test").warning("order %s built with a remark", order.id)
    return f"payload {order.internal_order_nr}".encode()


def ahead(engine: sa.Engine, load: Any, build: Any, ids: list[int]) -> list[order_turns.Turn]:
    """Every turn the builder process hands over (the runner's loop, without delivering)."""
    with order_turns.built_ahead(engine, load, build, ids) as turns:
        return list(turns)


def outcomes(turns: Any) -> list[tuple[int, Any]]:
    result = []
    for turn in turns:
        try:
            result.append((turn.order_id, turn.get()))
        except Exception as exc:
            result.append((turn.order_id, (type(exc).__name__, str(exc), getattr(exc, "field", None))))
    return result


IDS = list(range(1, 121))


def test_built_ahead_gives_the_same_turns_in_the_same_order(engine: sa.Engine) -> None:
    built = outcomes(ahead(engine, load, build, IDS))
    assert built == outcomes(order_turns.turns(load, build, IDS))
    assert [order_id for order_id, _ in built] == IDS
    assert dict(built)[7] == ("OrderDataError", "OrderLine.Price: line 2 has no price", "OrderLine.Price")
    assert dict(built)[9] == ("KeyError", "'surprise'", None)
    assert dict(built)[13] == ("LookupError", "the order is no longer in the order database", None)
    assert dict(built)[12] == b"payload 5012"


def test_only_what_was_built_crosses_the_pipe(engine: sa.Engine) -> None:
    """The transport's process never unpickles orders: deliver reads the head the runner holds."""
    assert all(turn.order is None for turn in ahead(engine, load, build, IDS))


def test_the_builder_runs_in_another_process_and_its_log_lines_reach_the_task_log(
        engine: sa.Engine, caplog: pytest.LogCaptureFixture) -> None:
    pids: list[int] = []

    def build_noting_pid(order: Any) -> Any:
        return os.getpid(), build(order)

    caplog.set_level(logging.INFO)
    for turn in ahead(engine, load, build_noting_pid, IDS):
        if turn.error is None:
            pids.append(turn.get()[0])
    assert set(pids) and os.getpid() not in pids
    assert "order 11 built with a remark" in caplog.text


def test_errors_keep_their_kind_and_flags_across_the_process(engine: sa.Engine) -> None:
    def refuse(order: Any) -> Any:
        raise DeliveryError("refused", retryable=False, delivered_unknown=True)

    turn = ahead(engine, load, refuse, IDS)[0]
    with pytest.raises(DeliveryError) as caught:
        turn.get()
    assert (caught.value.retryable, caught.value.delivered_unknown) == (False, True)


def test_a_load_failure_ends_the_turns_as_fatal(engine: sa.Engine) -> None:
    def broken(ids: Sequence[int]) -> list[Any]:
        if ids[0] > 50:
            raise sa.exc.OperationalError("SELECT", {}, Exception("database is locked"))
        return load(ids)

    turns = ahead(engine, broken, build, IDS)
    assert turns[-1].fatal and turns[-1].order_id == 56  # slices: 1-5, 6-55, then 56-105 fails
    assert [t.order_id for t in turns[:-1]] == IDS[:55] and not any(t.fatal for t in turns[:-1])


def test_a_runner_that_stops_early_leaves_no_builder_behind(engine: sa.Engine, tmp_path: Path) -> None:
    built = tmp_path / "built"

    def slow(order: Any) -> Any:
        time.sleep(0.01)
        with built.open("a") as file:
            file.write(f"{order.id}\n")
        return build(order)

    with order_turns.built_ahead(engine, load, slow, IDS) as turns:
        assert next(turns).order_id == 1
        time.sleep(0.1)  # the builder gets ahead, holding its turns back
        stopped = time.monotonic()
    # the connection went away: the runner stopped listening, and the builder stopped at its next
    # turn (it is waited for on leaving) rather than building the rest of the chunk
    assert time.monotonic() - stopped < 0.5
    assert len(built.read_text().split()) < len(IDS) // 2
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no child left, not even a zombie


def test_the_builder_starts_on_entering_while_the_runner_still_connects(engine: sa.Engine) -> None:
    with order_turns.built_ahead(engine, load, lambda order: time.monotonic(), IDS) as turns:
        entered = time.monotonic()
        time.sleep(0.5)  # the runner opens its connection to the ERP meanwhile
        first = next(turns).get()
    assert first - entered < 0.4


def test_small_chunks_are_built_in_line(engine: sa.Engine) -> None:
    pids = {turn.get()[0] for turn in ahead(
        engine, load, lambda order: (os.getpid(), None), list(range(1, order_turns.AHEAD_FROM))) if not turn.error}
    assert pids == {os.getpid()}


def test_a_builder_that_dies_stops_the_chunk_at_the_first_order_it_never_handed_over(engine: sa.Engine) -> None:
    """Killed mid-chunk (out of memory, say): the turns it handed over stand, and the next order's
    turn is fatal, so the runner leaves it and the rest for the retry instead of waiting."""

    def build_then_die(order: Any) -> Any:
        if order.id == 60:
            os._exit(9)
        return build(order)

    turns = ahead(engine, load, build_then_die, IDS)
    handed = [turn.order_id for turn in turns]
    assert handed == IDS[:len(handed)] and len(handed) <= 60
    assert turns[-1].fatal and not any(turn.fatal for turn in turns[:-1])
    with pytest.raises(RuntimeError, match="the process building the chunk's orders ended unexpectedly"):
        turns[-1].get()


def test_turns_built_before_a_slow_slice_are_handed_over_before_it_loads(engine: sa.Engine) -> None:
    """The builder holds turns back while the runner still has some (``_Outbox``); what it holds
    goes over before it loads its next slice, so a slow load never keeps built orders from the
    transport."""

    def slow_third_slice(ids: Sequence[int]) -> list[Any]:
        if ids[0] == 56:  # slices: 1-5, 6-55, 56-105
            time.sleep(0.6)
        return load(ids)

    received: dict[int, float] = {}
    with order_turns.built_ahead(engine, slow_third_slice, lambda order: time.monotonic(), IDS) as turns:
        for turn in turns:
            received[turn.order_id] = time.monotonic()
            if turn.order_id <= 55:
                time.sleep(0.002)  # a transport slower than the builder: turns wait in the pipe
            if turn.order_id == 56:
                slice_loaded = turn.get()
    assert received[55] < slice_loaded - 0.3
