"""Reach the App4Sales order database through the Airflow connection ``app4sales_db``.

Credentials live only in the Airflow connection; this module turns it into a SQLAlchemy URL
(SQLite file or PostgreSQL) and creates the schema when asked.
"""

from __future__ import annotations

import functools
from typing import Any

import sqlalchemy as sa

from backoffice_export.db.schema import metadata

DEFAULT_CONN_ID = "app4sales_db"


def url_from_connection(conn: Any) -> sa.URL:
    """Build a SQLAlchemy URL from an Airflow ``Connection`` (sqlite or postgres)."""
    conn_type = (conn.conn_type or "").lower()
    if conn_type == "sqlite":
        # Airflow keeps a SQLite file path in ``host`` (``sqlite:////abs/path.db`` URIs).
        path = conn.host or conn.schema
        if not path:
            raise ValueError(f"connection {conn.conn_id}: SQLite connection names no database file")
        return sa.URL.create("sqlite", database=path)
    if conn_type in {"postgres", "postgresql"}:
        return sa.URL.create(
            "postgresql+psycopg",
            username=conn.login or None,
            password=conn.password or None,
            host=conn.host or None,
            port=conn.port or None,
            database=conn.schema or None,
        )
    raise ValueError(f"connection {conn.conn_id}: unsupported database type {conn.conn_type!r}")


def create_engine(url: sa.URL | str, *, busy_timeout: float = 60.0) -> sa.Engine:
    """An engine for the order database; on SQLite, WAL and a busy timeout let runs overlap."""
    url = sa.make_url(url)
    if url.get_backend_name() == "sqlite":
        engine = sa.create_engine(url, connect_args={"timeout": busy_timeout})

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a commit survives a crash of the process (what claims and outcomes
            # need), without an fsync per order; only a power cut may lose the last commits.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
            cursor.close()

        return engine
    return sa.create_engine(url, pool_pre_ping=True)


@functools.cache
def engine_for_connection(conn_id: str = DEFAULT_CONN_ID) -> sa.Engine:
    """One engine per process and connection id, created on first use (never at DAG parse)."""
    from airflow.sdk import BaseHook

    return create_engine(url_from_connection(BaseHook.get_connection(conn_id)))


def create_schema(engine: sa.Engine) -> None:
    """Create missing tables, and add columns a newer version introduced to existing ones.

    Only nullable columns are ever added (that is how this schema grows), so an order database
    made by an earlier version keeps working without a separate migration step.
    """
    metadata.create_all(engine)
    inspector = sa.inspect(engine)
    with engine.begin() as conn:
        for table in metadata.sorted_tables:
            present = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name in present:
                    continue
                if not column.nullable:
                    raise RuntimeError(f"table {table.name} lacks the required column {column.name}")
                kind = column.type.compile(dialect=engine.dialect)
                conn.execute(sa.text(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}'))
