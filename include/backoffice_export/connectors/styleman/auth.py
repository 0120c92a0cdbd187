"""How a StyleMan chunk session authenticates, as the administration's Airflow connection says.

``auth_type`` extra: ``client_credentials`` (default), ``basic`` or ``none``; Windows
authentication is refused. A 401 raises ``ConnectionLost`` because it concerns the whole chunk.
Connection fields: docs/styleman.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from backoffice_export.errors import ConnectionLost, SettingsError
from backoffice_export.transport.http_api import ApiReply, ApiSession
from backoffice_export.transport.oauth2 import BearerToken, reason

CLIENT_CREDENTIALS, BASIC, NONE = "client_credentials", "basic", "none"
AUTH_TYPES = (CLIENT_CREDENTIALS, BASIC, NONE)
# Extras this connector reads; ApiSession takes them off the session so they never travel as headers.
CONSUMED_EXTRAS = ("auth_type", "token_endpoint")
DEFAULT_TOKEN_ENDPOINT = "token"  # noqa: S105 - a URL path, not a secret


@dataclass(frozen=True)
class AuthConfig:
    auth_type: str
    token_endpoint: str


def auth_config(conn_id: str, extra: Mapping[str, Any], login: str | None, password: str | None) -> AuthConfig:
    """The connection's authentication, checked before anything is sent."""
    auth_type = str(extra.get("auth_type") or CLIENT_CREDENTIALS).strip().lower()
    where = f"Airflow connection {conn_id}"
    if auth_type in {"windows", "ntlm", "negotiate", "kerberos"}:
        raise SettingsError(f"{where}: extra auth_type {auth_type} (Windows authentication) is not supported from "
                            f"an Airflow worker; use {CLIENT_CREDENTIALS}, {BASIC} or {NONE}")
    if auth_type not in AUTH_TYPES:
        raise SettingsError(f"{where}: extra auth_type {auth_type!r} is unknown; use one of {', '.join(AUTH_TYPES)}")
    if auth_type != NONE and not (login and password):
        what = "client id and client secret" if auth_type == CLIENT_CREDENTIALS else "user name and password"
        raise SettingsError(f"{where}: auth_type {auth_type} needs the {what} as login and password")
    endpoint = str(extra.get("token_endpoint") or DEFAULT_TOKEN_ENDPOINT).strip()
    if "://" in endpoint or ".." in endpoint.split("/"):
        raise SettingsError(f"{where}: extra token_endpoint must be a path under the connection's base URL")
    return AuthConfig(auth_type, endpoint.lstrip("/"))


class StyleManAuth:
    """The ``Authorization`` of one chunk session."""

    def __init__(self, api: ApiSession, config: AuthConfig) -> None:
        self.api, self.config = api, config
        self.token = BearerToken(api, "StyleMan", config.token_endpoint, self._form, "the client id and secret")
        if config.auth_type != BASIC:
            api.session.auth = None  # the hook sets basic auth whenever the connection has a login

    @classmethod
    def for_session(cls, api: ApiSession) -> StyleManAuth:
        connection = api.connection
        return cls(api, auth_config(api.conn_id, api.extra, connection.login, connection.password))

    @property
    def can_refresh(self) -> bool:
        return self.config.auth_type == CLIENT_CREDENTIALS

    def headers(self) -> dict[str, str]:
        """Headers a request needs; fetches the bearer token on first use and after expiry."""
        return self.token.headers() if self.config.auth_type == CLIENT_CREDENTIALS else {}

    def forget_token(self) -> None:
        self.token.forget()

    def refused(self, reply: ApiReply) -> ConnectionLost:
        """StyleMan said 401 to a request: the credentials (or the fresh token) are not accepted."""
        where = f"Airflow connection {self.api.conn_id}"
        if self.config.auth_type == NONE:
            what = f"StyleMan wants credentials, but {where} has auth_type {NONE}"
        elif self.config.auth_type == BASIC:
            what = f"StyleMan refused the user name and password of {where}"
        else:
            what = f"StyleMan refused the bearer token it issued for {where}"
        return ConnectionLost(f"{what}: HTTP {reply.status} {reason(reply)}")

    def _form(self) -> dict[str, str]:
        connection = self.api.connection
        return {"grant_type": "client_credentials", "client_id": connection.login, "client_secret": connection.password}
