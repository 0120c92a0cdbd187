"""The fault suite's ledger: every scenario records what it injected and what it found.

After the run, the terminal summary prints one line per scenario and the totals: faults
injected, orders lost, orders duplicated at the ERP, orders left inconsistent, and orders
misattributed (stored as sent, but the ERP does not hold exactly one order with that order's
content under the number stored). The four last must be 0; each scenario also asserts its own
zeros, so a regression fails the suite.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest


@dataclass
class FaultOutcome:
    connector: str
    fault: str
    injected: int
    orders: int
    lost: int
    duplicated: int
    inconsistent: int
    runs_to_settle: int
    misattributed: int = 0


LEDGER: list[FaultOutcome] = []


@pytest.fixture
def fault_ledger() -> list[FaultOutcome]:
    return LEDGER


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if not LEDGER:
        return
    write = terminalreporter.write_line
    terminalreporter.section("fault suite")
    write(f"{'connector':<12} {'fault':<44} {'inj':>4} {'orders':>6} {'lost':>5} {'dup':>4} {'incons':>6} "
          f"{'misatt':>6} {'runs':>5}")
    for o in LEDGER:
        write(f"{o.connector:<12} {o.fault:<44} {o.injected:>4} {o.orders:>6} {o.lost:>5} {o.duplicated:>4} "
              f"{o.inconsistent:>6} {o.misattributed:>6} {o.runs_to_settle:>5}")
    write(f"faults injected: {sum(o.injected for o in LEDGER)}, orders lost: {sum(o.lost for o in LEDGER)}, "
          f"orders duplicated at the ERP: {sum(o.duplicated for o in LEDGER)}, "
          f"orders left inconsistent: {sum(o.inconsistent for o in LEDGER)}, "
          f"orders misattributed: {sum(o.misattributed for o in LEDGER)}")
