"""docker-compose.yaml and Dockerfile: the Airflow 3.3 CeleryExecutor stack, read as compose reads it.

PyYAML resolves the ``x-airflow-common`` anchors and ``<<`` merges, so every service is checked
with what it really gets. No Docker is needed; the one test that runs something, the order
database step of ``airflow-init``, runs it against the local PostgreSQL the other tests use.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

import pytest
import yaml

from tests.conftest import PG_URL, need
from tests.deploy.compose_interpolation import InterpolationError, interpolate_tree

PROJECT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = PROJECT / "docker-compose.yaml"
DOCKERFILE = PROJECT / "Dockerfile"

COMMANDS = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-worker": "celery worker",
    "airflow-triggerer": "triggerer",
}
AIRFLOW_SERVICES = [*COMMANDS, "airflow-init"]
ALL_SERVICES = ["postgres", "redis", *AIRFLOW_SERVICES]

# A value that compose must take from the environment, with no default: ${NAME:?message} or ${NAME?message}.
REQUIRED_VAR = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*:?\?[^}]*\}$")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|(^|_)KEY$", re.IGNORECASE)
URL_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]*:(?P<password>\$\{[^}]*\}|[^\s/@]*)@", re.IGNORECASE)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


@pytest.fixture(scope="module")
def common(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["x-airflow-common"]


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    assert isinstance(env, dict), "environment is written as a mapping, as the official file does"
    return {str(k): str(v) for k, v in env.items()}


def _url(value: str) -> SplitResult:
    """Split a URL whose parts may be ${...} expressions (their ``?`` would start a query)."""
    return urlsplit(re.sub(r"\$\{[^}]*\}", "VAR", value))


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)
    elif isinstance(node, str):
        yield node


def _command(service: dict[str, Any]) -> str:
    command = service.get("command", "")
    return command if isinstance(command, str) else " ".join(command)


def test_the_eight_services_exist(services: dict[str, Any]) -> None:
    missing = [name for name in ALL_SERVICES if name not in services]
    assert not missing, f"services missing from docker-compose.yaml: {missing}"


@pytest.mark.parametrize("name", AIRFLOW_SERVICES)
def test_airflow_services_use_the_common_image_build_and_environment(
    name: str, services: dict[str, Any], common: dict[str, Any]
) -> None:
    service = services[name]
    assert common["build"] and common["image"]
    assert service["build"] == common["build"], f"{name} builds another image"
    assert service["image"] == common["image"], f"{name} runs another image"
    env, common_env = _env(service), _env(common)
    differing = {k: env.get(k) for k, v in common_env.items() if env.get(k) != v}
    assert not differing, f"{name} lacks or overrides the common environment: {differing}"
    assert service["volumes"] == common["volumes"]


@pytest.mark.parametrize(("name", "command"), COMMANDS.items())
def test_each_component_runs_its_command(name: str, command: str, services: dict[str, Any]) -> None:
    assert _command(services[name]) == command


def test_the_executor_is_celery_on_redis_with_results_in_postgres(common: dict[str, Any]) -> None:
    env = _env(common)
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert _url(env["AIRFLOW__CELERY__BROKER_URL"]).hostname == "redis"
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://")
    assert _url(env["AIRFLOW__CELERY__RESULT_BACKEND"]).hostname == "postgres"
    assert _url(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]).hostname == "postgres"
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "false"


def test_every_airflow_service_shares_one_jwt_secret_from_the_environment(
    services: dict[str, Any], common: dict[str, Any]
) -> None:
    expression = _env(common)["AIRFLOW__API_AUTH__JWT_SECRET"]
    assert REQUIRED_VAR.match(expression), f"the JWT secret must come from the environment: {expression}"
    seen = {name: _env(services[name]).get("AIRFLOW__API_AUTH__JWT_SECRET") for name in AIRFLOW_SERVICES}
    assert set(seen.values()) == {expression}, seen


def test_workers_reach_the_execution_api_on_the_apiserver(services: dict[str, Any]) -> None:
    url = _url(_env(services["airflow-worker"])["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    assert url.hostname == "airflow-apiserver" and url.hostname in services
    assert url.path == "/execution/"
    published = {str(p).split(":")[-1] for p in services["airflow-apiserver"]["ports"]}
    assert str(url.port) in published
    worker_needs = services["airflow-worker"]["depends_on"]
    assert worker_needs["airflow-apiserver"]["condition"] == "service_healthy"


def test_dags_include_and_plugins_are_mounted_and_include_is_importable(common: dict[str, Any]) -> None:
    mounts = {}
    for volume in common["volumes"]:
        source, target = volume.rsplit(":", 1)
        mounts[target] = source
    for folder in ("dags", "include", "plugins", "logs", "config"):
        assert mounts.get(f"/opt/airflow/{folder}", "").endswith(f"/{folder}"), f"./{folder} is not mounted"
    env = _env(common)
    assert env["PYTHONPATH"] == "/opt/airflow/include"
    assert env["BACKOFFICE_LOCAL_ROOT"] == "/opt/airflow/local"
    assert "/opt/airflow/local" in mounts, "exported files would vanish with the container"


def test_postgres_and_redis_are_healthchecked_and_airflow_waits_for_them(services: dict[str, Any]) -> None:
    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"].startswith("redis:7")
    for name in ("postgres", "redis"):
        assert services[name]["healthcheck"]["test"], f"{name} has no healthcheck"
    for name in AIRFLOW_SERVICES:
        needs = services[name]["depends_on"]
        for backing in ("postgres", "redis"):
            assert needs[backing]["condition"] == "service_healthy", f"{name} does not wait for {backing}"
    for name in COMMANDS:
        assert services[name]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"


def test_init_migrates_and_creates_the_admin_from_the_environment(services: dict[str, Any]) -> None:
    env = _env(services["airflow-init"])
    assert env["_AIRFLOW_DB_MIGRATE"] == "true"
    assert env["_AIRFLOW_WWW_USER_CREATE"] == "true"
    assert REQUIRED_VAR.match(env["_AIRFLOW_WWW_USER_PASSWORD"])


def test_no_literal_password_or_secret_anywhere(compose: dict[str, Any]) -> None:
    blocks = {"x-airflow-common": compose["x-airflow-common"], **compose["services"]}
    for name, block in blocks.items():
        for key, value in _env(block).items():
            if SECRET_NAME.search(key):
                assert REQUIRED_VAR.match(value), f"{name}: {key} must be ${{VAR:?...}}, not {value!r}"
    for text in _strings(compose):
        for match in URL_PASSWORD.finditer(text):
            password = match["password"]
            assert password == "" or REQUIRED_VAR.match(password), f"literal password in URL {text!r}"
    raw = COMPOSE_FILE.read_text()
    defaults = re.findall(r"\$\{(\w*(?:PASSWORD|SECRET|FERNET|TOKEN|KEY)\w*):?-", raw, re.IGNORECASE)
    assert not defaults, f"secrets with a default value: {defaults}"


def test_the_order_database_is_app4sales_on_the_compose_postgres(common: dict[str, Any]) -> None:
    uri = _env(common)["AIRFLOW_CONN_APP4SALES_DB"]
    url = _url(uri)
    assert url.scheme == "postgres" and url.hostname == "postgres" and url.port == 5432
    assert url.path == "/app4sales"
    password = URL_PASSWORD.search(uri)
    assert password and REQUIRED_VAR.match(password["password"])


def test_every_python_module_a_service_runs_exists(services: dict[str, Any]) -> None:
    sys.path.insert(0, str(PROJECT / "include"))
    try:
        for name, service in services.items():
            for module in re.findall(r"python3? -m ([\w.]+)", _command(service)):
                assert importlib.util.find_spec(module) is not None, f"{name} runs {module}, which does not exist"
    finally:
        sys.path.remove(str(PROJECT / "include"))


def test_the_dockerfile_extends_the_official_image_and_installs_with_constraints(common: dict[str, Any]) -> None:
    text = DOCKERFILE.read_text()
    assert re.search(r"^FROM apache/airflow:3\.3\.2-python3\.11\s*$", text, re.MULTILINE)
    install = " ".join(text.replace("\\\n", " ").split())
    assert re.search(r"pip install .*-r \S*requirements\.txt", install)
    assert re.search(r"pip install .*(-c|--constraint)[ =]\S*constraints\.txt", install)
    assert common["build"] in (".", {"context": "."})


def _init_order_database_step(services: dict[str, Any]) -> str:
    script = services["airflow-init"]["command"][-1]
    match = re.search(r"python - <<'PY'\n(?P<code>.*?)\nPY\n", script, re.DOTALL)
    assert match, "airflow-init no longer creates the order database"
    return match["code"].replace("$$", "$")


def test_init_creates_the_order_database_and_its_tables(services: dict[str, Any]) -> None:
    """Run airflow-init's order database step, twice, against a fresh database on the local server."""
    import sqlalchemy as sa

    try:
        admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect():
            pass
    except Exception:
        admin = None
    need(admin is not None, f"PostgreSQL is not reachable at {PG_URL}")
    assert admin is not None
    server = sa.make_url(PG_URL)
    name = f"app4sales_{uuid.uuid4().hex[:12]}"
    uri = sa.URL.create("postgres", username=server.username, password=server.password, host=server.host,
                        port=server.port, database=name).render_as_string(hide_password=False)
    code = _init_order_database_step(services)
    env = {**os.environ, "AIRFLOW_CONN_APP4SALES_DB": uri, "PYTHONPATH": str(PROJECT / "include")}
    try:
        first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
        assert first.returncode == 0, first.stderr
        assert f"created database {name}" in first.stdout
        again = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stderr
        assert "created database" not in again.stdout
        tables = sa.create_engine(server.set(database=name))
        with tables.connect() as conn:
            found = set(sa.inspect(conn).get_table_names())
        tables.dispose()
        assert {"administrations", "orders", "order_lines", "export_state", "key_settings"} <= found
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# ---------------------------------------------------------------------------- as compose interpolates it

# The variables the file requires, as a user's .env gives them.
HOST_ENV = {"POSTGRES_PASSWORD": "pg-secret", "AIRFLOW_JWT_SECRET": "jwt-secret",
            "AIRFLOW_FERNET_KEY": "fernet-key", "AIRFLOW_ADMIN_PASSWORD": "admin-secret"}


def _interpolated(compose: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    return interpolate_tree(compose, env)["services"]


def _pool_commands(init: dict[str, Any]) -> list[list[str]]:
    """Run airflow-init's pool loop in bash, in the container's environment, with ``/entrypoint``
    replaced by a stub that prints its arguments: the commands the container really runs."""
    script = init["command"][-1]
    loop = re.search(r"^(?P<indent>[ \t]*)for connector in .*?^(?P=indent)done$", script, re.MULTILINE | re.DOTALL)
    assert loop, "airflow-init no longer has its pool loop"
    stub = "function /entrypoint { printf '%s\\x1f' \"$@\"; printf '\\n'; }"
    env = {"PATH": os.environ["PATH"], **_env(init)}
    done = subprocess.run(["bash", "-c", f"set -euo pipefail\n{stub}\n{loop[0]}"], env=env, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return [line.rstrip("\x1f").split("\x1f") for line in done.stdout.splitlines()]


def test_compose_refuses_to_start_while_a_secret_is_missing(compose: dict[str, Any]) -> None:
    _interpolated(compose, HOST_ENV)
    for name in HOST_ENV:
        with pytest.raises(InterpolationError, match=name):
            _interpolated(compose, {k: v for k, v in HOST_ENV.items() if k != name})


def test_init_creates_one_pool_per_connector_as_the_dag_names_them(compose: dict[str, Any]) -> None:
    from backoffice_export.connectors import CONNECTORS

    services = _interpolated(compose, HOST_ENV)
    prefix = _env(services["airflow-worker"])["BACKOFFICE_POOL_PREFIX"]
    assert prefix == "erp_"
    assert _pool_commands(services["airflow-init"]) == [
        ["airflow", "pools", "set", f"{prefix}{name}", "4", f"Connections to {name} endpoints"] for name in CONNECTORS]
    # The slots come from the host's .env when it sets them.
    services = _interpolated(compose, {**HOST_ENV, "BACKOFFICE_POOL_SLOTS": "7"})
    assert {command[4] for command in _pool_commands(services["airflow-init"])} == {"7"}


def test_health_checks_name_the_containers_own_hostname(compose: dict[str, Any]) -> None:
    services = _interpolated(compose, {**HOST_ENV, "HOSTNAME": "the-host-machine"})
    for name in ("airflow-dag-processor", "airflow-triggerer", "airflow-worker"):
        check = " ".join(services[name]["healthcheck"]["test"])
        assert "${HOSTNAME}" in check and "the-host-machine" not in check, check


def _compose_cli() -> list[str] | None:
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    return ["docker-compose"] if shutil.which("docker-compose") else None


def _unescape(node: Any) -> Any:
    """``config`` prints a file compose can read again, so a literal ``$`` comes back as ``$$``."""
    if isinstance(node, dict):
        return {key: _unescape(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_unescape(value) for value in node]
    return node.replace("$$", "$") if isinstance(node, str) else node


def test_compose_itself_reads_the_file_as_these_tests_do(compose: dict[str, Any], tmp_path: Path) -> None:
    """``docker compose config`` (or docker-compose's): what compose hands each container agrees
    with the interpolation above, so the tests above check what compose really does."""
    cli = _compose_cli()
    need(cli is not None, "neither `docker compose` nor `docker-compose` is installed (apt-get install docker-compose)")
    assert cli is not None
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), **HOST_ENV, "BACKOFFICE_POOL_SLOTS": "7"}
    done = subprocess.run([*cli, "--project-directory", str(PROJECT), "-f", str(COMPOSE_FILE), "config"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    theirs = _unescape(yaml.safe_load(done.stdout))["services"]
    ours = _interpolated(compose, env)
    for name in ALL_SERVICES:
        assert _command(theirs[name]) == _command(ours[name]), name
        assert _env(theirs[name]) == _env(ours[name]), name
        if "healthcheck" in ours[name]:
            assert theirs[name]["healthcheck"]["test"] == ours[name]["healthcheck"]["test"], name
    assert _pool_commands(theirs["airflow-init"])[0] == [
        "airflow", "pools", "set", "erp_reflecta", "7", "Connections to reflecta endpoints"]
