"""Command line: load an order document, show export state, and run the demo / an export.

    python -m backoffice_export.cli load ORDERS.json      store the document's orders
    python -m backoffice_export.cli state [--administration CODE]
    python -m backoffice_export.cli demo                  sandboxes + demo orders + one DAG run
    python -m backoffice_export.cli export --orders ORDERS.json

The order database is the Airflow connection ``app4sales_db``; without one, the embedded
default is the SQLite file ``.local/app4sales.db`` (``.local/demo/app4sales.db`` for the demo,
which starts afresh every time).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

DEMO_FOLDER = Path(__file__).resolve().parents[1] / "demo"
DAG_ID = "send_orders_to_backoffice"
SANDBOX_USER = "app4sales"


def _local_root() -> Path:
    return Path(os.environ.setdefault("BACKOFFICE_LOCAL_ROOT", str(Path.cwd() / ".local"))).resolve()


def _embedded_airflow() -> None:
    """Defaults for running Airflow in-process, set before Airflow is first imported."""
    root = _local_root()
    project = Path(__file__).resolve().parents[2]
    os.environ.setdefault("AIRFLOW_HOME", str(root / "airflow"))
    os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(project / "dags"))
    os.environ.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER", str(project / "plugins"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    # The demo prints its own report of what went where; Airflow's task chatter goes to WARNING.
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")


def use_sqlite_default(path: Path) -> None:
    if "AIRFLOW_CONN_APP4SALES_DB" not in os.environ:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.environ["AIRFLOW_CONN_APP4SALES_DB"] = json.dumps({"conn_type": "sqlite", "host": str(path)})


def order_database() -> Any:
    """The order database of ``app4sales_db``, its tables made if missing."""
    from backoffice_export import config
    from backoffice_export.db.engine import create_schema, engine_for_connection

    engine = engine_for_connection(config.DB_CONN_ID)
    create_schema(engine)
    return engine


def cmd_load(args: argparse.Namespace) -> int:
    from backoffice_export.document import load_document, read_document
    from backoffice_export.order_events import use_local_redis

    use_sqlite_default(_local_root() / "app4sales.db")
    use_local_redis()
    document = read_document(args.orders)
    counts = load_document(order_database(), document)
    print(f"loaded {counts['orders']} orders ({counts['lines']} lines) in {counts['administrations']} administrations")
    for message in counts["rejected"]:
        print(f"  {message}")
    _announce(document, counts)
    return 1 if counts["rejected"] else 0


def _announce(document: dict[str, Any], counts: dict[str, Any]) -> None:
    """Publish the order-stored message of event mode (what App4Sales does when it stores an order)."""
    from backoffice_export.order_events import publish_order_stored

    if counts["orders"]:
        print(publish_order_stored({"orders": counts["orders"],
                                    "administrations": [a["code"] for a in document["administrations"]]}))


def cmd_state(args: argparse.Namespace) -> int:
    from backoffice_export import export_state

    use_sqlite_default(_local_root() / "app4sales.db")
    rows = export_state.states(order_database(), administration=args.administration)
    print(f"{'administration':<22} {'order':<10} {'connector':<12} {'state':<8} {'tries':>5}  result")
    for r in rows:
        outcome = f"{r.backoffice_order_nr} -> {r.destination}" if r.state == "sent" else (r.error or "")
        print(f"{r.administration:<22} {r.internal_order_nr:<10} {r.connector:<12} {r.state:<8} {r.attempts:>5}  "
              f"{outcome}")
    return 0


def run_export_dag() -> Any:
    """Run the export DAG once, in-process, on the embedded Airflow."""
    import logging

    from airflow.dag_processing.dagbag import DagBag
    from airflow.utils import db

    db.initdb()
    bag = DagBag(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    if bag.import_errors:
        raise SystemExit(f"DAG import errors: {bag.import_errors}")
    logging.getLogger("airflow").setLevel(logging.WARNING)
    return bag.get_dag(DAG_ID).test()


def report(engine: Any, document: dict[str, Any], sandbox_root: Path | None) -> None:
    import sqlalchemy as sa

    from backoffice_export import export_state
    from backoffice_export.db import schema as s

    print("\n=== What was sent where ===")
    for administration in document["administrations"]:
        code = administration["code"]
        with engine.connect() as conn:
            connection = conn.execute(sa.select(s.administrations.c.connection_id)
                                      .where(s.administrations.c.code == code)).scalar_one()
        print(f"\n{code}  [{administration['connector']}, connection {connection}]")
        wanted = {str(o["internal_order_nr"]) for o in administration.get("orders", [])}
        for row in export_state.states(engine, administration=code):
            if row.internal_order_nr not in wanted:
                continue
            if row.state == "sent":
                print(f"  order {row.internal_order_nr}: sent as {row.backoffice_order_nr} -> {row.destination}")
            elif row.state == "failed":
                print(f"  order {row.internal_order_nr}: FAILED  {row.error}")
            else:
                print(f"  order {row.internal_order_nr}: {row.state} (attempts {row.attempts})"
                      + ("  - not sent: its connector is not built yet" if row.attempts == 0 else ""))
    if sandbox_root is not None:
        print(f"\nWhat the sandboxes received stays under {sandbox_root}: sftp/<user>/..., ftp/<user>/..., "
              "and erp/<api>/ for the ERP API emulators.")


def _run_with_sandboxes(document_path: Path, db_path: Path, sandbox_root: Path, *, fresh: bool) -> int:
    """Start the sandbox servers (package ``erp_sandbox``, imported here only: the product never
    needs it), point every connection the document names and the environment lacks at them, run."""
    from backoffice_export import order_events

    _embedded_airflow()
    if not fresh:  # orders stored for a running deployment too: announce them (event mode)
        order_events.use_local_redis()
    root = _local_root()
    if fresh:
        for path in (db_path, root / "files", sandbox_root):
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
    use_sqlite_default(db_path)
    os.environ.setdefault("BACKOFFICE_TASK_RETRIES", "0")

    from backoffice_export.document import load_document, read_document
    from erp_sandbox import Sandboxes, sandbox_connections

    document = read_document(document_path)
    with Sandboxes(sandbox_root, SANDBOX_USER) as sandboxes:
        for conn_id, conn in sandbox_connections(document, sandboxes, SANDBOX_USER).items():
            os.environ.setdefault(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
        engine = order_database()
        counts = load_document(engine, document)
        print(f"loaded {counts['orders']} orders from {document_path}")
        for message in counts["rejected"]:
            print(f"  {message}")
        if order_events.conn_id():  # this command exports at once: the message is for a running deployment
            _announce(document, counts)
        run = run_export_dag()
        print(f"\nDAG run {run.run_id}: {run.state}")
        report(engine, document, sandbox_root)
    return 0


def cmd_demo(_args: argparse.Namespace) -> int:
    """The demo document is every ``include/demo/*.json`` together (one file per connector)."""
    from backoffice_export.document import read_document

    merged = {"administrations": [a for path in sorted(DEMO_FOLDER.glob("*.json"))
                                  for a in read_document(path)["administrations"]]}
    target = _local_root() / "demo" / "orders.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(merged, indent=1, default=str))
    demo = _local_root() / "demo"
    return _run_with_sandboxes(target, demo / "app4sales.db", demo / "sandbox", fresh=True)


def cmd_export(args: argparse.Namespace) -> int:
    return _run_with_sandboxes(Path(args.orders), _local_root() / "app4sales.db", _local_root() / "sandbox",
                               fresh=False)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="backoffice_export", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    load = sub.add_parser("load", help="store an order document in the order database")
    load.add_argument("orders", type=Path)
    load.set_defaults(func=cmd_load)
    state = sub.add_parser("state", help="print the export state of orders")
    state.add_argument("--administration")
    state.set_defaults(func=cmd_state)
    sub.add_parser("demo", help="run the export once on the demo orders and sandboxes").set_defaults(func=cmd_demo)
    export = sub.add_parser("export", help="like demo, on your own order document")
    export.add_argument("--orders", type=Path, required=True)
    export.set_defaults(func=cmd_export)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
