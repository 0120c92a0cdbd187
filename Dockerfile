# The official Airflow image plus this project's run-time requirements, pinned by constraints.txt.
# Built by docker-compose.yaml (x-airflow-common `build: .`). The project's code is not baked in:
# compose mounts ./dags, ./include and ./plugins, and sets PYTHONPATH=/opt/airflow/include.
FROM apache/airflow:3.3.2-python3.11

COPY --chown=airflow:root requirements.txt constraints.txt /opt/airflow/requirements/
# requirements.txt pins apache-airflow==3.3.2 itself, so pip cannot swap the image's Airflow out.
RUN pip install --no-cache-dir \
    -r /opt/airflow/requirements/requirements.txt \
    -c /opt/airflow/requirements/constraints.txt
