# backoffice-export: `make demo` and `make test` work on a fresh machine with Python 3.11.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
ORDERS ?=

# Airflow runs embedded (SQLite metadata, in-process dag.test) unless the caller says otherwise.
export AIRFLOW_HOME ?= $(CURDIR)/.local/airflow
export AIRFLOW__CORE__DAGS_FOLDER ?= $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER ?= $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES ?= False
export AIRFLOW__CORE__UNIT_TEST_MODE ?= False
export BACKOFFICE_LOCAL_ROOT ?= $(CURDIR)/.local

.PHONY: setup demo export load sandbox airflow test faults bench bench-events lint constraints clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt -r requirements-dev.txt -c constraints.txt
	# include/ holds the importable code the DAGs call (Astronomer layout): put it on the path.
	$(PY) -c "import site, pathlib; pathlib.Path(site.getsitepackages()[0], 'backoffice_export_include.pth').write_text('$(CURDIR)/include\n')"
	touch $@

demo: setup
	$(PY) -m backoffice_export.cli demo

export: setup
	@test -n "$(ORDERS)" || { echo "usage: make export ORDERS=path/to/orders.json"; exit 2; }
	$(PY) -m backoffice_export.cli export --orders "$(ORDERS)"

# The SFTP/FTPS servers and ERP emulators in the foreground (Ctrl-C stops), state under .local/sandbox/,
# and their Airflow connections in a file for `airflow connections import` (docs/sandbox.md).
SANDBOX_ARGS ?=
sandbox: setup
	$(PY) -m erp_sandbox.serve $(SANDBOX_ARGS)

# Store an order document in the order database (the embedded default, or app4sales_db), and
# announce it on Redis in event mode: a running `make airflow` sends it within seconds.
load: setup
	@test -n "$(ORDERS)" || { echo "usage: make load ORDERS=path/to/orders.json"; exit 2; }
	$(PY) -m backoffice_export.cli load "$(ORDERS)"

# A real local deployment: scheduler, dag-processor, triggerer, api-server and the sandboxes. Ctrl-C stops it.
airflow: setup
	$(PY) -m local_airflow

test: setup
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

# The fault suite alone (it is part of `make test` too); prints what it injected and found.
faults: setup
	$(PY) -m pytest tests/faults -q

# The benchmark: each connector's chunk against its floor behind RTT ms of round trip, Reflecta
# under a real scheduler with 1 and SLOTS pool slots, DAG parsing and task memory; writes
# docs/performance.md. Needs PostgreSQL. About 13 minutes at the defaults on 2 cores.
N ?= 1000
RTT ?= 30
SLOTS ?= 4
MEMORY_SCALE ?= 100000
bench: setup
	$(PY) -m bench.benchmark --orders $(N) --rtt-ms $(RTT) --slots $(SLOTS) --memory-scale $(MEMORY_SCALE)

# Latency from order stored to the ERP sandbox, event mode beside schedule only, on a real deployment
# (make airflow). DURATION seconds of Poisson arrivals per mode; a short run: make bench-events DURATION=20
DURATION ?= 300
bench-events: setup
	$(PY) -m bench.latency_events --duration $(DURATION)

lint: setup
	$(VENV)/bin/ruff check .

# Regenerate the full pin list from the current environment.
constraints: setup
	{ echo "# Full pin list of a working environment (pip freeze), used as constraints by \`make setup\`."; \
	  echo "# Regenerate with: make constraints"; \
	  $(PY) -m pip freeze --exclude-editable; } > constraints.txt

clean:
	rm -rf $(VENV) .local .pytest_cache
