"""An OAuth2 bearer token for one chunk session, shared by the API connectors that need one.

Fetched on first use and again when it expires or the ERP stops accepting it; registered with
Airflow's secrets masker and kept in memory only, never logged, stored or put in a message.
A token endpoint that refuses concerns every order alike: ``ConnectionLost``; one that does not
answer raises ``TransientHttpError`` like any other request, for the connector to retry or give up.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from backoffice_export.errors import ConnectionLost
from backoffice_export.transport.http_api import ApiReply, ApiSession

EXPIRY_MARGIN_SECONDS = 30


def mask(secret: str) -> None:
    from airflow.sdk.log import mask_secret

    mask_secret(secret)


class BearerToken:
    """``Authorization: Bearer …`` from ``POST <path>`` with the form ``form()`` returns;
    ``on_reply`` sees each token reply (AccountView may rotate its refresh token there)."""

    def __init__(self, api: ApiSession, erp: str, path: str, form: Callable[[], Mapping[str, str]], refused: str,
                 on_reply: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.api, self.path, self.form, self.refused, self.on_reply = api, path, form, refused, on_reply
        self.endpoint = f"{erp}'s token endpoint"
        self._token: str | None = None
        self._expires_at: float | None = None

    def headers(self) -> dict[str, str]:
        if self._token is None or (self._expires_at is not None and time.monotonic() >= self._expires_at):
            self.fetch()
        return {"Authorization": f"Bearer {self._token}"}

    def forget(self) -> None:
        self._token, self._expires_at = None, None

    def fetch(self) -> None:
        reply = self.api.request("POST", self.path, data=dict(self.form()), headers={
            "Content-Type": "application/x-www-form-urlencoded", "Authorization": None})  # type: ignore[dict-item]
        body = reply.body if isinstance(reply.body, dict) else {}
        token = body.get("access_token")
        if reply.status != 200 or not isinstance(token, str) or not token:
            raise ConnectionLost(f"{self.endpoint} {self.api.describe(self.path)} refused {self.refused} of "
                                 f"Airflow connection {self.api.conn_id}: HTTP {reply.status} {reason(reply)}")
        mask(token)
        self._token = token
        try:
            expires_in = float(body.get("expires_in") or 0)
        except (TypeError, ValueError):
            expires_in = 0.0
        self._expires_at = (time.monotonic() + max(0.0, expires_in - EXPIRY_MARGIN_SECONDS)) if expires_in > 0 else None
        if self.on_reply is not None:
            self.on_reply(body)


def reason(reply: ApiReply) -> str:
    """What the server said, from its error fields only: a token reply is never echoed whole."""
    body = reply.body if isinstance(reply.body, dict) else {}
    said = [body[k] for k in ("error_description", "ErrorMessage", "Message", "message", "error")
            if isinstance(body.get(k), str) and body[k]]
    return said[0] if said else "(no reason given)"
