"""End-to-end: real ``dag.test()`` runs against the loopback sandboxes (fixtures in tests/conftest.py)."""

from __future__ import annotations


def task_states(run) -> dict[str, list[str]]:
    states: dict[str, list[str]] = {}
    for ti in run.get_task_instances():
        states.setdefault(ti.task_id, []).append(str(ti.state))
    return states
