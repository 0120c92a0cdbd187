"""``make sandbox``: the SFTP/FTPS servers and the ERP emulators in the foreground, until Ctrl-C.

State lives under ``--root`` (default ``.local/sandbox``) and survives restarts. The matching
Airflow connections are written to one JSON file (mode 0600, the only place the passwords are
kept) for ``airflow connections import``: one per ``connection_id`` of the order documents given
(default: the demo documents), and ``sandbox_<server>`` ones for your own administrations. A
restart on the same root and ports reuses the passwords in that file, so imported connections
stay valid. The servers listen on loopback; ``--listen 0.0.0.0 --advertise NAME`` serves a
scheduler elsewhere (the docker-compose stack), with NAME in the connections and the certificate.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from erp_sandbox import Sandboxes, sandbox_connections

USER = "app4sales"
DEMO_DOCUMENTS = Path(__file__).resolve().parents[1] / "demo"
DEFAULT_PORT_BASE = 47820
# Port offsets from --port-base, by server.
PORT_OFFSETS = {"sftp": 0, "ftps": 1, "spector": 2, "styleman": 3, "accountview": 4}


def _default_root() -> Path:
    return Path(os.environ.get("BACKOFFICE_LOCAL_ROOT") or Path.cwd() / ".local") / "sandbox"


def generic_connections(sandboxes: Sandboxes) -> dict[str, dict[str, Any]]:
    """``sandbox_<server>`` connections, for administrations of your own."""
    connections = {
        "sandbox_sftp": sandboxes.airflow_connection("sftp", USER, "orders"),
        "sandbox_sftp_key": sandboxes.airflow_connection("sftp_key", USER, "orders"),
        "sandbox_ftps": sandboxes.airflow_connection("ftps", USER, "orders"),
    }
    for name, api in sandboxes.apis.items():
        connections[f"sandbox_{name}"] = api.airflow_connection()
    return connections


def as_import_file(connections: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The JSON ``airflow connections export`` writes and ``import`` reads: ``extra`` as a JSON string."""
    return {conn_id: {**conn, "extra": json.dumps(conn.get("extra") or {})} for conn_id, conn in connections.items()}


def _previous_credentials(path: Path) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """The file servers' passwords and the ERP emulators' credentials from the last run's file."""
    try:
        written = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}, {}

    def conn(conn_id: str) -> dict[str, Any]:
        value = written.get(conn_id) or {}
        return {**value, "extra": json.loads(value.get("extra") or "{}")}

    passwords = {kind: conn(f"sandbox_{kind}").get("password") for kind in ("sftp", "ftps")}
    spector, styleman, accountview = conn("sandbox_spector"), conn("sandbox_styleman"), conn("sandbox_accountview")
    apis = {
        "spector": {"api_user": spector.get("login"), "api_key": spector.get("password"),
                    "integration_token": spector["extra"].get("X-Integration-Token")},
        "styleman": {"client_id": styleman.get("login"), "client_secret": styleman.get("password")},
        "accountview": {"client_id": accountview.get("login"), "client_secret": accountview.get("password"),
                        "refresh_token": accountview["extra"].get("refresh_token"),
                        "company_id": accountview["extra"].get("x-company")},
    }
    return ({k: v for k, v in passwords.items() if v},
            {name: {k: v for k, v in values.items() if v} for name, values in apis.items()})


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only (it holds passwords)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its old mode through os.open
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make sandbox", description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=None, help="state folder (default .local/sandbox)")
    parser.add_argument("--port-base", type=int, default=int(os.environ.get("SANDBOX_PORT_BASE", DEFAULT_PORT_BASE)),
                        help=f"first of five loopback ports (default {DEFAULT_PORT_BASE}; 0: any free ports)")
    parser.add_argument("--connections", type=Path, default=None,
                        help="connections file (default <root>/airflow-connections.json)")
    parser.add_argument("--document", type=Path, action="append", default=None,
                        help="order document whose connection ids to write (default include/demo/*.json)")
    parser.add_argument("--listen", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--advertise", default=None,
                        help="host name the connections use (default: the --listen address)")
    args = parser.parse_args(argv)
    advertise = args.advertise or args.listen
    root = (args.root or _default_root()).resolve()
    target = (args.connections or root / "airflow-connections.json").resolve()
    documents = args.document or sorted(DEMO_DOCUMENTS.glob("*.json"))
    ports = {name: args.port_base + offset for name, offset in PORT_OFFSETS.items()} if args.port_base else {}

    passwords, api_credentials = _previous_credentials(target)
    extra_names = () if advertise in ("127.0.0.1", "localhost") else (advertise,)
    sandboxes = Sandboxes(root, USER, ports=ports, passwords=passwords, listen=args.listen, host_names=extra_names)
    for name, api in sandboxes.apis.items():
        for attribute, value in api_credentials.get(name, {}).items():
            setattr(api, attribute, value)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with sandboxes:
        connections = generic_connections(sandboxes)
        for document in documents:
            connections.update(sandbox_connections(json.loads(document.read_text()), sandboxes, USER))
        for conn in connections.values():
            conn["host"] = advertise
        write_private(target, json.dumps(as_import_file(connections), indent=2) + "\n")
        print(f"SFTP        {advertise}:{sandboxes.sftp.port}  (user {USER}, files under {sandboxes.sftp.root})")
        print(f"FTPS        {advertise}:{sandboxes.ftp.port}  (user {USER}, files under {sandboxes.ftp.root})")
        for name, api in sandboxes.apis.items():
            print(f"{name:<11} http://{advertise}:{api.port}  (orders and recordings under {api.root})")
        print(f"\nAirflow connections ({len(connections)}): {target}")
        print(f"  airflow connections import --overwrite {target}")
        print("Ctrl-C stops the servers; their state stays under", root, flush=True)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    print("sandbox stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
