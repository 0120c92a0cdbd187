"""backoffice-export: send App4Sales orders to backoffice ERPs from Apache Airflow.

The DAGs in ``dags/`` stay thin; everything they call lives here:

- ``db``: the App4Sales order database (schema, engine from the ``app4sales_db`` connection).
- ``model`` / ``repository``: the order as the connectors see it, loaded a chunk at a time.
- ``export_state`` / ``key_settings``: per-order export state with atomic claims, sequences.
- ``document``: the JSON order document users and tests load orders with.
- ``mapping``: what several connectors share (money, dates, Dutch addresses, text, XML).
- ``transport``: file drops over SFTP / FTP(S) through the Airflow provider hooks.
- ``connectors``: one package per ERP: settings, mapping, delivery.
- ``export``: plan chunks, send a chunk, summarise: the three steps the DAG runs.
"""
