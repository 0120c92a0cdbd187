"""The export ledger: every order's export state, as a page inside the Airflow UI.

``queries`` reads the ledger (filters, pages), ``page`` renders it as plain HTML and ``app``
serves both, plus JSON, as the FastAPI app that ``plugins/export_ledger.py`` mounts in the
Airflow API server. See ``docs/ledger.md``.
"""
