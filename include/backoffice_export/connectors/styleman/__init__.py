"""StyleMan: one JSON POST per order to ``{base}/api/{version}/Orders``, through ``HttpHook``.

Seed: ``shared/seeds/003_6544af1d6f44ec6c.txt``. Header names are StyleMan's SalesOrder fields
(``shared/notes/erp-wire-formats.md``); the line entity, the delivery address and the
``Results`` wrapper are named in ``mapping.py`` and ``docs/styleman.md``. Settings in
``settings.py``, authentication (client credentials, basic, none) in ``auth.py``, the
exactly-once hand-off in ``delivery.py``.
"""

from backoffice_export.connectors.styleman.delivery import StyleManConnector

connector = StyleManConnector()
