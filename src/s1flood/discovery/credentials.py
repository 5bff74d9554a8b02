"""Credentials from the environment or ``~/.netrc``; secrets kept out of logs and errors.

Every secret (password, access or refresh token) is registered with :func:`register_secret`
when it is read or received, and :func:`redact` replaces any of them in a string. A logging
filter doing the same is installed on the loggers of discovery and of the HTTP libraries it
uses (:data:`REDACTED_LOGGERS`).
"""

from __future__ import annotations

import logging
import netrc
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

__all__ = [
    "Credentials",
    "RedactingFilter",
    "credentials_for",
    "redact",
    "register_secret",
]

logger = logging.getLogger(__name__)

_SECRETS: set[str] = set()
_LOCK = threading.Lock()
MASK = "***"


def register_secret(value: str | None) -> None:
    """Remember a secret so that :func:`redact` hides it (values under 4 chars are ignored).

    Args:
        value: a password or token (``None`` is ignored).
    """
    if value and len(value) >= 4:
        with _LOCK:
            _SECRETS.add(value)


def redact(text: str) -> str:
    """``text`` with every registered secret replaced by ``***``.

    Args:
        text: any text (a message, a URL).
    """
    with _LOCK:
        secrets = sorted(_SECRETS, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


class RedactingFilter(logging.Filter):
    """Logging filter that redacts registered secrets from messages and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message with secrets removed.

        Args:
            record: the log record to clean.
        """
        if _SECRETS:
            message = record.getMessage()
            cleaned = redact(message)
            if cleaned != message:  # arguments kept otherwise: other filters read them
                record.msg, record.args = cleaned, None
        return True


_FILTER = RedactingFilter()
_DISCOVERY_MODULES = (
    "_http",
    "access",
    "asf",
    "cdse",
    "credentials",
    "dhus",
    "download",
    "fetching",
    "keycloak",
    "local",
    "products",
    "ranges",
    "remote",
    "retries",
    "search",
    "stac_api",
)
REDACTED_LOGGERS = (
    "s1flood",
    *(f"s1flood.discovery.{module}" for module in _DISCOVERY_MODULES),
    "urllib3",
    "urllib3.connection",
    "urllib3.connectionpool",
    "urllib3.poolmanager",
    "urllib3.response",
    "urllib3.util.retry",
    "sentinelsat",
    "sentinelsat.SentinelAPI",
    "pystac_client",
    "pystac_client.stac_api_io",
)
"""Loggers whose records are redacted (a filter acts only on its own logger, not children)."""
for _name in REDACTED_LOGGERS:
    logging.getLogger(_name).addFilter(_FILTER)


@dataclass(frozen=True)
class Credentials:
    """A username and password; the password never shows in ``repr`` or ``str``."""

    username: str
    password: str = field(repr=False)
    source: str = "environment"

    def __post_init__(self) -> None:
        register_secret(self.password)


def credentials_for(
    service: str,
    url: str,
    *,
    environ: Mapping[str, str] | None = None,
    netrc_path: Path | str | None = None,
) -> Credentials | None:
    """Credentials for ``service`` (``cdse``, ``dhus``, ``asf``...): env first, then netrc.

    Environment: ``S1FLOOD_<SERVICE>_USERNAME`` / ``S1FLOOD_<SERVICE>_PASSWORD``. netrc:
    the ``machine`` entry of ``url``'s host (``$NETRC`` or ``~/.netrc``).

    Args:
        service: ``cdse``, ``dhus``, ``asf``... (the environment variables' infix).
        url: a URL of the service; its host is the netrc ``machine``.
        environ: the environment to read (default: ``os.environ``).
        netrc_path: the netrc file (default: ``$NETRC`` or ``~/.netrc``).
    """
    env = os.environ if environ is None else environ
    prefix = f"S1FLOOD_{service.upper()}_"
    user, password = env.get(prefix + "USERNAME"), env.get(prefix + "PASSWORD")
    if user and password:
        return Credentials(user, password, "environment")
    host = urlsplit(url).hostname or ""
    path = netrc_path or env.get("NETRC") or (Path.home() / ".netrc")
    if host and Path(path).is_file():
        try:
            entry = netrc.netrc(str(path)).authenticators(host)
        except (netrc.NetrcParseError, OSError) as exc:
            logger.warning("cannot read %s: %s", path, type(exc).__name__)
            entry = None
        if entry is not None and entry[0] and entry[2]:
            return Credentials(entry[0], entry[2], f"netrc:{host}")
    return None
