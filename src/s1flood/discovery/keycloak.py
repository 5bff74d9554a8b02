"""Keycloak bearer tokens (the CDSE identity service): password grant, refresh, renewal."""

from __future__ import annotations

import logging
import threading
import time

import requests

from s1flood.discovery._http import clean_url, get_json, request
from s1flood.discovery.credentials import Credentials, register_secret
from s1flood.discovery.retries import RetryPolicy
from s1flood.errors import AuthenticationError, CatalogueError

__all__ = ["KeycloakAuth"]

logger = logging.getLogger(__name__)


class KeycloakAuth:
    """Bearer tokens from a Keycloak password grant, refreshed before they expire."""

    margin = 30.0

    def __init__(
        self,
        session: requests.Session,
        credentials: Credentials,
        *,
        oidc_url: str,
        token_url: str = "",
        client_id: str = "cdse-public",
        policy: RetryPolicy | None = None,
    ) -> None:
        self._session = session
        self._credentials = credentials
        self._oidc_url = oidc_url
        self._token_url = token_url
        self._client_id = client_id
        self._policy = policy or RetryPolicy()
        self._lock = threading.Lock()
        self._access: str | None = None
        self._refresh: str | None = None
        self._expires = 0.0
        self._refresh_expires = 0.0
        self.grants = 0  # password grants made (for tests and logs)
        self.refreshes = 0

    @property
    def token_url(self) -> str:
        """The token endpoint (from the OIDC discovery document unless configured)."""
        if not self._token_url:
            doc = get_json(
                self._session, self._oidc_url, what="OIDC discovery", policy=self._policy
            )
            endpoint = doc.get("token_endpoint") if isinstance(doc, dict) else None
            if not endpoint:
                raise CatalogueError(
                    "OIDC discovery document has no token_endpoint", url=clean_url(self._oidc_url)
                )
            self._token_url = str(endpoint)
        return self._token_url

    def _grant(self, data: dict[str, str]) -> None:
        response = request(
            self._session,
            "POST",
            self.token_url,
            what="CDSE login",
            policy=self._policy,
            data={"client_id": self._client_id, **data},
        )
        try:
            body = response.json()
            access = str(body["access_token"])
        except (ValueError, KeyError, TypeError):
            raise CatalogueError(
                "CDSE login: the token endpoint answered without an access token",
                status=response.status_code,
                url=clean_url(self.token_url),
            ) from None
        register_secret(access)
        now = time.monotonic()
        self._access = access
        self._expires = now + float(body.get("expires_in", 300))
        refresh = body.get("refresh_token")
        self._refresh = str(refresh) if refresh else None
        register_secret(self._refresh)
        self._refresh_expires = now + float(body.get("refresh_expires_in", 0) or 0)

    def _password_grant(self) -> None:
        self.grants += 1
        logger.info("CDSE: requesting a token for %s", self._credentials.username)
        self._grant(
            {
                "grant_type": "password",
                "username": self._credentials.username,
                "password": self._credentials.password,
            }
        )

    def refresh(self) -> bool:
        """Renew the access token (refresh grant, else a new password grant)."""
        with self._lock:
            self._renew(force=True)
        return True

    def _renew(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and self._access and now < self._expires - self.margin:
            return
        if self._refresh and now < self._refresh_expires - self.margin:
            try:
                self.refreshes += 1
                self._grant({"grant_type": "refresh_token", "refresh_token": self._refresh})
                return
            except AuthenticationError:
                logger.info("CDSE: refresh token rejected; logging in again")
            except CatalogueError as exc:
                if exc.status != 400:
                    raise
                logger.info("CDSE: refresh token rejected; logging in again")
        self._password_grant()

    def token(self) -> str:
        """A valid access token."""
        with self._lock:
            self._renew()
            assert self._access is not None
            return self._access

    def headers(self) -> dict[str, str]:
        """``Authorization: Bearer ...``."""
        return {"Authorization": f"Bearer {self.token()}"}
