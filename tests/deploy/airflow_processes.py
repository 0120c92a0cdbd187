"""The deployment tests' process helpers live with ``make airflow``'s launcher: ``local_airflow.processes``."""

from local_airflow.processes import (
    AIRFLOW_BIN,
    AirflowProcesses,
    Deadline,
    DeploymentError,
    RestApi,
    free_port,
    tail,
)

__all__ = ["AIRFLOW_BIN", "AirflowProcesses", "Deadline", "DeploymentError", "RestApi", "free_port", "tail"]
