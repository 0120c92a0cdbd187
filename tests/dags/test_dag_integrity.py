"""Every DAG imports cleanly, fast, and has the shape operations rely on."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from tests.conftest import PROJECT


def _bag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(str(PROJECT / "dags"))


def test_dags_import_without_errors():
    bag = _bag()
    assert bag.import_errors == {}
    assert "send_orders_to_backoffice" in bag.dag_ids


def test_export_dag_fans_out_one_task_group_per_connector():
    dag = _bag().dags["send_orders_to_backoffice"]
    groups = {tid.split(".")[0] for tid in dag.task_ids if "." in tid}
    assert groups == {"reflecta", "ezxml", "spector", "styleman", "accountview"}
    for group in groups:
        assert f"{group}.send_chunk" in dag.task_ids
    assert dag.get_task("summary").trigger_rule == "all_done"
    assert dag.get_task("reflecta.send_chunk").map_index_template
    assert dag.schedule is not None and dag.catchup is False


def test_dag_file_top_level_is_light():
    """No pandas, lxml, database driver or connector code is imported when the file is parsed."""
    code = (
        "import sys, runpy; import airflow.sdk; before = set(sys.modules);"
        f"runpy.run_path({str(PROJECT / 'dags' / 'send_orders_to_backoffice.py')!r});"
        "heavy = [m for m in set(sys.modules) - before if m.split('.')[0] in "
        "('pandas', 'lxml', 'psycopg', 'psycopg2', 'paramiko', 'asyncssh')"
        " or m.startswith('backoffice_export.connectors.')];"
        "print(sorted(heavy)); assert not heavy"
    )
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=PROJECT)
    assert time.perf_counter() - started < 60  # a sanity bound, not a performance target


def test_chunks_run_in_a_pool_per_connector_when_a_prefix_is_set():
    code = (
        "from airflow.dag_processing.dagbag import DagBag;"
        f"dag = DagBag({str(PROJECT / 'dags')!r}).dags['send_orders_to_backoffice'];"
        "print(sorted(dag.get_task(f'{c}.send_chunk').pool for c in "
        "('reflecta', 'ezxml', 'spector', 'styleman', 'accountview')))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, cwd=PROJECT, capture_output=True, text=True,
                         env={**os.environ, "BACKOFFICE_POOL_PREFIX": "erp_"}).stdout
    assert "['erp_accountview', 'erp_ezxml', 'erp_reflecta', 'erp_spector', 'erp_styleman']" in out


def test_the_schedule_has_data_intervals_for_backfills():
    dag = _bag().dags["send_orders_to_backoffice"]
    assert type(dag.timetable).__name__ == "CronDataIntervalTimetable"


def test_summary_does_not_retry_so_a_run_ends_when_its_chunks_have():
    dag = _bag().dags["send_orders_to_backoffice"]
    assert dag.get_task("summary").retries == 0
    assert dag.get_task("reflecta.send_chunk").retries == int(os.environ["BACKOFFICE_TASK_RETRIES"])


def test_the_chunk_label_renders_from_the_mapped_chunk_before_the_task_runs():
    """Rendered from the argument (not from a value the task sets), so it shows from the first try."""
    from types import SimpleNamespace

    dag = _bag().dags["send_orders_to_backoffice"]
    template = dag.get_task("reflecta.send_chunk").map_index_template
    chunk = {"administration": "shop-nl", "ids": [42, 43],
             "label": "shop-nl: 2 orders from App4Sales order 5001 (id 42)"}
    # What the task's context holds before it runs: the unmapped task with its mapped argument.
    rendered = dag.get_template_env().from_string(template).render(task=SimpleNamespace(op_kwargs={"chunk": chunk}))
    assert rendered == "shop-nl: 2 orders from App4Sales order 5001 (id 42)"
