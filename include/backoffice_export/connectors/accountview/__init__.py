"""Visma AccountView: sales orders (``SO1``) through the AccountView REST API, in batches.

Seed: ``shared/seeds/004_2a4998d564d7fd24.txt``. ``envelope`` is AccountView's request shape,
``mapping`` the seed's rows, ``auth`` the OAuth2 bearer token, ``delivery`` the batching with
resumable, exactly-once batches. Operators' guide: ``docs/accountview.md``.
"""

from backoffice_export.connectors.accountview.delivery import AccountViewConnector

connector = AccountViewConnector()
