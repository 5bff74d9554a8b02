"""Reaching a catalogue's files for byte-range reads: bearer, trusted hosts, URL signing.

Planetary Computer's assets are signed with a SAS token from its token endpoint
(``GET {token_url}/{collection}`` -> ``{"token": ..., "msft:expiry": ...}``), renewed before
it expires and after a 403; CDSE and ASF files take the bearer their catalogues hold.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from s1flood.discovery._http import get_json, new_session
from s1flood.discovery.catalogue import Catalogue
from s1flood.discovery.config import STAC_PRESETS, DiscoveryConfig, load_config
from s1flood.discovery.download import HeaderAuth, url_host
from s1flood.discovery.ranges import RangeReader, Signer
from s1flood.discovery.retries import RetryPolicy
from s1flood.errors import CatalogueError

__all__ = ["Access", "PcSigner", "access_for", "member_reader", "reader"]

PC_SAS_URL = "https://planetarycomputer.microsoft.com/api/sas/v1/token"


@dataclass(frozen=True)
class Access:
    """How to reach a catalogue's files: bearer source, hosts it may go to, URL signer."""

    auth: HeaderAuth | None = None
    trusted_hosts: tuple[str, ...] = ()
    signer: Signer | None = None


class PcSigner:
    """Planetary Computer SAS signing: ``GET {token_url}/{collection}`` -> token, expiry."""

    def __init__(self, token_url: str, collection: str, policy: RetryPolicy) -> None:
        self.token_url = token_url.rstrip("/")
        self.collection = collection
        self.policy = policy
        self._token: str | None = None
        self._expiry = datetime.min.replace(tzinfo=UTC)
        self._lock = threading.Lock()

    def sign(self, url: str) -> str:
        """The URL with a valid SAS token appended (a new token shortly before expiry).

        Args:
            url: an unsigned asset URL.
        """
        with self._lock:
            if self._token is None or datetime.now(UTC) > self._expiry - timedelta(seconds=30):
                self._new_token()
            token = self._token
        return f"{url}{'&' if '?' in url else '?'}{token}"

    def refresh(self) -> bool:
        """Drop the token: the next `sign` asks for a new one."""
        with self._lock:
            self._token = None
        return True

    def _new_token(self) -> None:
        body = get_json(
            new_session(),
            f"{self.token_url}/{self.collection}",
            what="SAS token",
            policy=self.policy,
        )
        token = body.get("token") if isinstance(body, dict) else None
        if not token:
            raise CatalogueError("SAS token: no token in the answer", url=self.token_url)
        expiry = str(body.get("msft:expiry") or "")
        try:
            self._expiry = datetime.fromisoformat(expiry.replace("Z", "+00:00"))
        except ValueError:
            self._expiry = datetime.now(UTC) + timedelta(minutes=5)
        if self._expiry.tzinfo is None:
            self._expiry = self._expiry.replace(tzinfo=UTC)
        self._token = str(token).lstrip("?")


def access_for(catalogue: Catalogue | str | None, config: DiscoveryConfig) -> Access:
    """The credentials or signer a catalogue's files need.

    Args:
        catalogue: an opened catalogue, its spec, or None (public URLs).
        config: endpoints and transfer settings.
    """
    if catalogue is None:
        return Access()
    if isinstance(catalogue, str):
        from s1flood.discovery.registry import open_catalogue

        catalogue = open_catalogue(catalogue, config)
    from s1flood.discovery.asf import AsfCatalogue
    from s1flood.discovery.cdse import CdseCatalogue
    from s1flood.discovery.stac_api import StacApiCatalogue

    if isinstance(catalogue, CdseCatalogue):
        trusted = (*config.trusted_host_list, url_host(config.cdse_download_url))
        return Access(catalogue.auth(), trusted)
    if isinstance(catalogue, AsfCatalogue):
        hosts = tuple(h.strip().lower() for h in config.asf_trusted_hosts.split(",") if h.strip())
        return Access(catalogue.auth(), hosts)
    if isinstance(catalogue, StacApiCatalogue):
        sas = config.stac_sas_url or (
            PC_SAS_URL if catalogue.url == STAC_PRESETS["planetary-computer"][0] else ""
        )
        if sas:
            return Access(
                signer=PcSigner(sas, catalogue.collection, RetryPolicy.from_config(config))
            )
    return Access()


def member_reader(remote: dict[str, Any], entry: dict[str, Any]) -> RangeReader:
    """A reader of the remote file holding one measurement (credentials obtained again).

    Args:
        remote: the ``s1flood-remote.json`` record.
        entry: the record's entry for the measurement (``url``, ``offset``, ``size``).
    """
    config = load_config()
    access = access_for(remote.get("catalogue"), config)
    return reader(str(entry["url"]), access, RetryPolicy.from_config(config))


def reader(url: str, access: Access, policy: RetryPolicy) -> RangeReader:
    """A range reader of `url` with the access it needs.

    Args:
        url: the file's URL (unsigned).
        access: credentials or signer.
        policy: retries, backoff, timeout.
    """
    return RangeReader(
        url,
        policy=policy,
        auth=access.auth,
        trusted_hosts=access.trusted_hosts,
        signer=access.signer,
    )
