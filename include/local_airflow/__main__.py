"""``make airflow``: a real local deployment in one command, stopped with Ctrl-C.

Starts the scheduler (LocalExecutor), dag-processor, triggerer and api-server, each its own
process, with the loopback ERP sandboxes and a connection for every connection id the demo
documents name. Metadata goes to ``AIRFLOW__DATABASE__SQL_ALCHEMY_CONN`` when set (e.g.
PostgreSQL), else SQLite in ``$AIRFLOW_HOME``; orders to the ``app4sales_db`` connection when set
(``AIRFLOW_CONN_APP4SALES_DB``), else ``.local/app4sales.db``, the file ``cli load`` writes to.
Event mode is on when Redis answers (see ``backoffice_export.order_events``).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from local_airflow.processes import AirflowProcesses, Deadline, DeploymentError, RestApi, free_port

PROJECT = Path(__file__).resolve().parents[2]
ADMIN_USER = "admin"
DAG_IDS = ("send_orders_to_backoffice", "resend_orders")
COMPONENTS = ("scheduler", "dag-processor", "triggerer")


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def _secret_file(path: Path, make: Any) -> str:
    """A secret kept in ``path`` across restarts (trigger arguments stay readable), made once."""
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def deployment_env(home: Path, api_port: int) -> dict[str, str]:
    """The settings every component gets; whatever the caller's environment sets wins."""
    from cryptography.fernet import Fernet

    home.mkdir(parents=True, exist_ok=True)
    passwords = home / "simple_auth_manager_passwords.json"
    if not passwords.exists():
        passwords.write_text(json.dumps({ADMIN_USER: secrets.token_urlsafe(12)}))
        passwords.chmod(0o600)
    api_url = f"http://127.0.0.1:{api_port}"
    defaults = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__FERNET_KEY": _secret_file(home / "fernet.key", lambda: Fernet.generate_key().decode()),
        "AIRFLOW__CORE__AUTH_MANAGER":
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        # Task and trigger logs are served on these ports (defaults 8793/8794 may be taken on a shared machine).
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
    }
    forced = {
        # One secret and one address for every component of this deployment.
        "AIRFLOW__API_AUTH__JWT_SECRET": _secret_file(home / "jwt.secret", lambda: secrets.token_hex(32)),
        "AIRFLOW__API__BASE_URL": api_url,
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api_url}/execution/",
    }
    return {**defaults, **os.environ, **forced}


def admin_password(env: dict[str, str]) -> str:
    return json.loads(Path(env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]).read_text())[ADMIN_USER]


def wait_until_ready(processes: AirflowProcesses, api: RestApi, deadline: Deadline) -> None:
    """Health of every component, the DAGs parsed, listed and unpaused, and in event mode the watcher listening."""
    from backoffice_export import order_events


    def healthy() -> bool | None:
        body = api.client.get("/api/v2/monitor/health").json()
        parts = ("metadatabase", "scheduler", "dag_processor", "triggerer")
        return True if all((body.get(p) or {}).get("status") == "healthy" for p in parts) else None

    processes.wait_for("every component to report healthy", healthy, deadline, cap=deadline.seconds)
    api.login()

    def listed() -> bool | None:
        errors = api.get("/importErrors")["import_errors"]
        if errors:
            raise DeploymentError(f"the DAG folder has import errors: {errors}")
        return True if all(api.request("GET", f"/dags/{d}", expect=(200, 404)).status_code == 200
                           for d in DAG_IDS) else None

    processes.wait_for("the dag-processor to parse the DAGs", listed, deadline, cap=deadline.seconds)
    for dag_id in DAG_IDS:
        api.patch(f"/dags/{dag_id}", {"is_paused": False})
    if order_events.conn_id() is not None:
        # The triggerer subscribes once the scheduler has handed it the DAG's asset watcher.
        processes.wait_for(f"the triggerer to listen on Redis channel {order_events.channel()!r}",
                           lambda: True if order_events.listeners() else None, deadline, cap=deadline.seconds)


def start(processes: AirflowProcesses, api_port: int) -> None:
    processes.start("api-server", "api-server", "--host", "127.0.0.1", "--port", str(api_port), "--workers", "1")
    for component in COMPONENTS:
        processes.start(component, component)


def _stop_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make airflow", description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("AIRFLOW_PORT", "8080")),
                        help="api-server port (another free one is taken when it is in use)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for the components to be up")
    args = parser.parse_args(argv)

    from backoffice_export import cli, order_events
    from erp_sandbox import Sandboxes, sandbox_connections

    root = Path(os.environ.setdefault("BACKOFFICE_LOCAL_ROOT", str(PROJECT / ".local"))).resolve()
    home = Path(os.environ.setdefault("AIRFLOW_HOME", str(root / "airflow"))).resolve()
    port = args.port if _port_free(args.port) else free_port()
    cli.use_sqlite_default(root / "app4sales.db")
    cli.order_database()  # a first tick finds the tables even before anything was loaded
    order_events.use_local_redis()
    # Ctrl-C (SIGINT) and SIGTERM both stop everything, also when started where SIGINT was ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)

    sandboxes = Sandboxes(root / "sandbox", cli.SANDBOX_USER)
    processes: AirflowProcesses | None = None
    api: RestApi | None = None
    try:
        sandboxes.start()
        for path in sorted(cli.DEMO_FOLDER.glob("*.json")):
            for conn_id, conn in sandbox_connections(json.loads(path.read_text()), sandboxes, cli.SANDBOX_USER).items():
                os.environ.setdefault(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
        env = deployment_env(home, port)
        processes = AirflowProcesses(env, home / "logs" / "components")
        print(f"Airflow home {home}; component logs in {processes.log_dir}", flush=True)
        print("Migrating the metadata database ...", flush=True)
        processes.run("db-migrate", "db", "migrate", timeout=args.timeout)
        start(processes, port)
        url = f"http://127.0.0.1:{port}"
        api = RestApi(url, ADMIN_USER, admin_password(env))
        print("Starting api-server, scheduler, dag-processor and triggerer ...", flush=True)
        wait_until_ready(processes, api, Deadline(args.timeout))
        print(banner(url, admin_password(env), root, order_events.mode_line()), flush=True)
        while True:
            processes.check_alive()
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nStopping ...", flush=True)
        return 0
    except (DeploymentError, httpx.HTTPError) as exc:
        print(f"make airflow: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        if api is not None:
            api.close()
        if processes is not None:
            killed = processes.stop()
            print("Airflow stopped" + (f" (had to kill {', '.join(killed)})" if killed else "") + ".", flush=True)
        sandboxes.stop()
        signal.signal(signal.SIGINT, signal.SIG_DFL)


def banner(url: str, password: str, root: Path, mode: str) -> str:
    return f"""
Airflow is up: {url}   (login {ADMIN_USER} / {password})
{mode}
The order database: {_order_database()}.
Load the demo orders from another shell, then watch them go in the UI:
    make load ORDERS=include/demo/reflecta.json
What the sandboxes received: {root / 'sandbox'}/sftp/..., ftp/..., erp/...
Ctrl-C stops everything.
"""


def _order_database() -> str:
    conn = json.loads(os.environ["AIRFLOW_CONN_APP4SALES_DB"])
    if conn.get("conn_type") == "sqlite":
        return f"SQLite file {conn['host']} (what `cli load` writes to by default)"
    return f"the app4sales_db connection ({conn.get('conn_type')} on {conn.get('host')})"


if __name__ == "__main__":
    sys.exit(main())
