"""The runner hands a session the next built orders ahead of their turn, but only those the
builder already handed over: the order whose turn it is never waits for a later one."""

from __future__ import annotations

from collections.abc import Iterator

from backoffice_export import export
from backoffice_export.model import OrderHead
from backoffice_export.order_turns import Turn


class Handed:
    """Turns as the builder hands them over: ``arrived`` of them are at hand at each step."""

    def __init__(self, turns: list[Turn], arrived: list[int]) -> None:
        self.turns, self.arrived, self.taken = turns, arrived, 0
        self.events: list[str] = []

    def __iter__(self) -> Iterator[Turn]:
        return self

    def __next__(self) -> Turn:
        if self.taken == len(self.turns):
            raise StopIteration
        turn = self.turns[self.taken]
        self.taken += 1
        self.events.append(f"take {turn.order_id}")
        return turn

    def ready(self) -> bool:
        return self.taken < min(len(self.turns), self.arrived[min(self.taken, len(self.arrived) - 1)])


class Staging:
    def __init__(self, events: list[str]) -> None:
        self.events = events

    def stage(self, order: OrderHead, built: object) -> None:
        self.events.append(f"stage {order.id}")


def _heads(ids: list[int]) -> dict[int, OrderHead]:
    return {i: OrderHead(i, f"A{i}", None, 1, "adm") for i in ids}


def _run(turns: list[Turn], arrived: list[int]) -> list[str]:
    handed = Handed(turns, arrived)
    for turn in export._ahead(handed, Staging(handed.events), _heads([t.order_id for t in turns])):
        handed.events.append(f"deliver {turn.order_id}")
    return handed.events


def test_orders_at_hand_are_staged_before_the_current_one_is_delivered_and_all_go_in_order():
    turns = [Turn(i, None, f"file {i}") for i in range(1, 8)]
    events = _run(turns, arrived=[7])  # all at hand at once
    assert [e for e in events if e.startswith("deliver")] == [f"deliver {i}" for i in range(1, 8)]
    assert events[:6] == ["take 1", "take 2", "stage 2", "take 3", "stage 3", "take 4"]
    assert events.index("stage 4") < events.index("deliver 1")
    assert events.count("stage 1") == 0  # its turn at once: delivered as it is
    assert all(events.count(f"stage {i}") <= 1 for i in range(1, 8))


def test_the_current_order_never_waits_for_one_not_yet_built():
    turns = [Turn(i, None, f"file {i}") for i in range(1, 4)]
    events = _run(turns, arrived=[1, 1, 3])  # 2 and 3 come only after 1 was delivered
    assert events.index("deliver 1") < events.index("take 2")


def test_orders_that_failed_to_build_or_stop_the_chunk_are_not_staged():
    turns = [Turn(1, None, "file 1"), Turn(2, None, error=ValueError("no price")),
             Turn(3, None, error=RuntimeError("database gone"), fatal=True)]
    events = _run(turns, arrived=[3])
    assert not [e for e in events if e.startswith("stage")]
    assert [e for e in events if e.startswith("deliver")] == ["deliver 1", "deliver 2", "deliver 3"]


def test_a_session_that_cannot_stage_gets_the_turns_as_they_come():
    turns = [Turn(i, None, f"file {i}") for i in range(1, 4)]
    handed = Handed(turns, [3])
    assert [t.order_id for t in export._ahead(handed, object(), _heads([1, 2, 3]))] == [1, 2, 3]
    assert handed.events == ["take 1", "take 2", "take 3"]
