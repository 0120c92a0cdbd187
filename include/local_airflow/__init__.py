"""`make airflow`: a real local Airflow deployment (``python -m local_airflow``), and its process helpers."""
