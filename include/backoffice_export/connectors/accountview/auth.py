"""OAuth2 for one AccountView chunk session: a refresh token in, a bearer token out.

AccountView's API takes ``Authorization: Bearer <access token>`` and ``x-company: <company
id>`` on every call; access tokens come from ``POST /api/v3/token`` (``grant_type=
refresh_token``). The administration's Airflow connection holds everything
(``docs/accountview.md``):

=========================  ================================================================
connection field           meaning
=========================  ================================================================
host / schema / port       the API's address (``www.accountview.net``, ``https``)
login / password           OAuth2 client id and client secret
extra ``refresh_token``    the refresh token the AccountView authorisation gave (a secret:
                           its name contains "token", so Airflow masks it in logs; taken
                           off the session, so it never travels as a header)
extra ``x-company``        the AccountView company id; HttpHook sends every extra it does not
                           know as a header, which is exactly what this one must be
extra ``timeout``          seconds, or ``[connect, read]`` (default 10 / 30)
=========================  ================================================================

The access token lives in memory for one chunk session only: it is registered with Airflow's
secrets masker, never logged, stored, recorded or put in an error message. A 401 on a data
call (expired token) fetches one new token and repeats the call once. AccountView refusing the
client or the refresh token concerns every order alike, so it raises ``ConnectionLost``: the
chunk is handed back and the task fails (and alerts) until the connection is fixed; the orders
stay retryable.
"""

from __future__ import annotations

import logging
from typing import Any

from backoffice_export.connectors.accountview.envelope import TOKEN_PATH
from backoffice_export.errors import ConnectionLost, SettingsError
from backoffice_export.transport.http_api import ApiReply, ApiSession, TransientHttpError
from backoffice_export.transport.oauth2 import BearerToken, mask

log = logging.getLogger(__name__)
REFRESH_TOKEN_EXTRA, COMPANY_EXTRA = "refresh_token", "x-company"
# Extras this connector reads itself; ApiSession takes them off the session (never sent as headers).
CONSUMED_EXTRAS = (REFRESH_TOKEN_EXTRA,)


class AccountViewAuth:
    """The bearer token of one chunk session."""

    def __init__(self, api: ApiSession, client_id: str, client_secret: str, refresh_token: str) -> None:
        self.api = api
        self._client_id, self._client_secret, self._refresh_token = client_id, client_secret, refresh_token
        self.token = BearerToken(api, "AccountView", TOKEN_PATH, self._form, "the client and refresh token",
                                 self._rotated)
        api.session.auth = None  # the hook would send client id and secret as basic auth on every call

    @classmethod
    def for_session(cls, api: ApiSession) -> AccountViewAuth:
        """Check the connection has what AccountView needs; say which part is missing, never its value."""
        connection, where = api.connection, f"Airflow connection {api.conn_id}"
        missing = [what for what, value in (
            ("login (the OAuth2 client id)", connection.login),
            ("password (the OAuth2 client secret)", connection.password),
            (f"extra {REFRESH_TOKEN_EXTRA}", api.extra.get(REFRESH_TOKEN_EXTRA)),
            (f"extra {COMPANY_EXTRA} (the AccountView company id)", api.extra.get(COMPANY_EXTRA)),
        ) if not (isinstance(value, str) and value.strip())]
        if missing:
            raise SettingsError(f"{where} lacks what AccountView needs: {', '.join(missing)}")
        return cls(api, connection.login, connection.password, api.extra[REFRESH_TOKEN_EXTRA])

    def headers(self) -> dict[str, str]:
        """The ``Authorization`` a call needs; fetches a token on first use and when it expires."""
        try:
            return self.token.headers()
        except TransientHttpError as exc:
            raise ConnectionLost(f"AccountView's token endpoint is not answering: {exc}") from exc

    def forget_token(self) -> None:
        self.token.forget()

    def refused(self, reply: ApiReply) -> ConnectionLost:
        return ConnectionLost(f"AccountView refused the access token of Airflow connection {self.api.conn_id} "
                              f"(HTTP {reply.status}) even after a new one was fetched")

    def _form(self) -> dict[str, str]:
        return {"grant_type": "refresh_token", "refresh_token": self._refresh_token,
                "client_id": self._client_id, "client_secret": self._client_secret}

    def _rotated(self, reply: dict[str, Any]) -> None:
        rotated = reply.get("refresh_token")
        if isinstance(rotated, str) and rotated and rotated != self._refresh_token:
            mask(rotated)
            self._refresh_token = rotated
            log.warning("AccountView issued a new refresh token; if it retires the old one, put the new one in "
                        "extra %s of Airflow connection %s", REFRESH_TOKEN_EXTRA, self.api.conn_id)
