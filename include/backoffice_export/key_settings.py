"""Key settings: small per-administration values App4Sales keeps, chiefly order sequences.

``next_value`` is one atomic UPDATE ... RETURNING, so two overlapping runs (or a retry racing a
clear) can never draw the same number, and a number once drawn is never handed out again even
if the order it was drawn for later fails.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from backoffice_export.db.schema import key_settings as ks


def _insert(engine: sa.Engine) -> sa.Insert:
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(ks)


def get(engine: sa.Engine, administration_id: int, key: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(ks.c.value).where(ks.c.administration_id == administration_id, ks.c.key == key)
        ).scalar_one_or_none()


def next_value(engine: sa.Engine, administration_id: int, key: str, *, at_least: int = 1) -> int:
    """Draw the next number of a sequence: one more than the last, and never below ``at_least``.

    ``at_least`` lets a caller keep the sequence above numbers another system already used.
    """
    with engine.begin() as conn:
        conn.execute(
            _insert(engine)
            .values(administration_id=administration_id, key=key, value="0")
            .on_conflict_do_nothing()
        )
        current = sa.cast(ks.c.value, sa.Integer)
        drawn = sa.case((current + 1 < at_least, at_least), else_=current + 1)
        return int(
            conn.execute(
                sa.update(ks)
                .where(ks.c.administration_id == administration_id, ks.c.key == key)
                .values(value=sa.cast(drawn, sa.String))
                .returning(ks.c.value)
            ).scalar_one()
        )


def reserve(engine: sa.Engine, administration_id: int, key: str, count: int, *, at_least: int = 1) -> range:
    """Draw ``count`` consecutive numbers of a sequence in one atomic step (a chunk's worth), the
    first of them never below ``at_least`` (as ``next_value``)."""
    if count < 1:
        return range(0)
    with engine.begin() as conn:
        conn.execute(
            _insert(engine)
            .values(administration_id=administration_id, key=key, value="0")
            .on_conflict_do_nothing()
        )
        current = sa.cast(ks.c.value, sa.Integer)
        last = int(
            conn.execute(
                sa.update(ks)
                .where(ks.c.administration_id == administration_id, ks.c.key == key)
                .values(value=sa.cast(sa.case((current + 1 < at_least, at_least - 1 + count),
                                              else_=current + count), sa.String))
                .returning(ks.c.value)
            ).scalar_one()
        )
    return range(last - count + 1, last + 1)


def due(engine: sa.Engine, administration_id: int, key: str, every: float) -> bool:
    """Whether ``every`` seconds have passed since this returned ``True`` for ``key`` last; if so,
    it records now, in the same atomic step (of two overlapping runs, one gets ``True``)."""
    now = time.time()
    with engine.begin() as conn:
        conn.execute(
            _insert(engine)
            .values(administration_id=administration_id, key=key, value="0")
            .on_conflict_do_nothing()
        )
        return conn.execute(
            sa.update(ks)
            .where(ks.c.administration_id == administration_id, ks.c.key == key,
                   sa.cast(ks.c.value, sa.Float) <= now - every)
            .values(value=f"{now:.3f}")
            .returning(ks.c.value)
        ).first() is not None


def once_every(engine: sa.Engine, administration_id: int, key: str) -> Callable[[float], bool]:
    """``due`` for one administration and key, for a caller that knows the interval only later."""
    return functools.partial(due, engine, administration_id, key)
