"""Catalogue endpoints and transfer settings: option > environment > config file > default.

Environment variables are ``S1FLOOD_<FIELD>`` (e.g. ``S1FLOOD_CDSE_ODATA_URL``); the config
file is TOML (``$S1FLOOD_CONFIG``, else ``~/.config/s1flood/config.toml``) with a
``[discovery]`` table of the same field names in lower case.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from s1flood.errors import InputError, InvalidOptionError, first_line

__all__ = ["STAC_PRESETS", "DiscoveryConfig", "load_config"]

#: ``stac:NAME`` presets: (API root, Sentinel-1 GRD collection)
STAC_PRESETS: dict[str, tuple[str, str]] = {
    "cdse": ("https://stac.dataspace.copernicus.eu/v1", "sentinel-1-grd"),
    "planetary-computer": (
        "https://planetarycomputer.microsoft.com/api/stac/v1",
        "sentinel-1-grd",
    ),
    "earth-search": ("https://earth-search.aws.element84.com/v1", "sentinel-1-grd"),
}


@dataclass(frozen=True)
class DiscoveryConfig:
    """Every URL, collection name and transfer setting discovery and fetch use."""

    cdse_odata_url: str = "https://catalogue.dataspace.copernicus.eu/odata/v1"
    cdse_download_url: str = "https://download.dataspace.copernicus.eu/odata/v1"
    cdse_oidc_url: str = (
        "https://identity.dataspace.copernicus.eu/auth/realms/CDSE/.well-known/openid-configuration"
    )
    cdse_token_url: str = ""  # empty: taken from the OIDC discovery document
    cdse_client_id: str = "cdse-public"
    cdse_collection: str = "SENTINEL-1"
    stac_collection: str = ""  # empty: the preset's, else "sentinel-1-grd"
    # SAS token endpoint signing STAC asset hrefs; empty: Planetary Computer's for its preset
    stac_sas_url: str = ""
    asf_url: str = "https://api.daac.asf.alaska.edu/services/search/param"
    asf_max_results: int = 2000  # above this count a search is split into shorter windows
    # hosts (suffixes) that may receive the Earthdata token after a redirect
    asf_trusted_hosts: str = "asf.alaska.edu,earthdata.nasa.gov"
    earthdata_url: str = "https://urs.earthdata.nasa.gov"  # token endpoint for netrc logins
    dhus_url: str = ""  # for a bare ``dhus`` spec (``dhus:URL`` wins)
    dhus_collection: str = ""  # unused by DHuS itself; kept for symmetry
    # hosts (suffixes) that may receive the bearer token after a redirect
    trusted_hosts: str = "dataspace.copernicus.eu"
    # preprocessing inputs fetched online (``dem: copernicus-30|90``, ``orbit: auto``)
    dem_copernicus_30_url: str = "https://copernicus-dem-30m.s3.amazonaws.com"
    dem_copernicus_90_url: str = "https://copernicus-dem-90m.s3.amazonaws.com"
    # tiles: whole DEM tiles downloaded into the cache; windows: HTTP range reads (/vsicurl/)
    dem_fetch: str = "tiles"
    orbit_url: str = "https://s1-orbits.s3.us-west-2.amazonaws.com"  # an S3 bucket listing
    orbit_services: str = "bucket,cdse"  # tried in turn for ``orbit: auto``
    page_size: int = 100
    timeout: float = 60.0
    retries: int = 5
    backoff: float = 1.0
    max_backoff: float = 60.0
    max_retry_after: float = 600.0
    offline_poll: float = 300.0
    offline_timeout: float = 6 * 3600.0

    @property
    def trusted_host_list(self) -> tuple[str, ...]:
        """``trusted_hosts`` split on commas."""
        return tuple(h.strip().lower() for h in self.trusted_hosts.split(",") if h.strip())


def _config_file(env: Mapping[str, str]) -> Path:
    explicit = env.get("S1FLOOD_CONFIG")
    if explicit:
        return Path(explicit)
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "s1flood" / "config.toml"


_OVERRIDE = "settings"
"""Where a value from ``overrides`` came from: the step functions' ``settings`` parameter."""


def _coerce(key: str, kind: type, value: Any, source: str) -> Any:
    """`value` as the setting's type; a one-line error naming where the value came from."""
    try:
        return kind(value)
    except (TypeError, ValueError):
        what = {int: "an integer", float: "a number"}.get(kind, kind.__name__)
        reason = f"{key} must be {what}"
        if source == _OVERRIDE:
            raise InvalidOptionError(_OVERRIDE, f"{key}={value}", reason) from None
        raise InputError(f"{source}: {reason}, not {value!r}") from None


def _file_values(path: Path, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The ``[discovery]`` table of a TOML config file, each key checked."""
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("discovery", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{path}: not a readable TOML config file ({first_line(exc)})") from None
    if not isinstance(table, dict):
        raise InputError(f"{path}: [discovery] is not a table")
    for key in table:
        if key not in fields:
            raise InputError(f"{path}: [discovery] has an unknown setting {key!r}")
    return table


def load_config(
    overrides: Mapping[str, Any] | None = None,
    *,
    config_file: Path | str | None = None,
    environ: Mapping[str, str] | None = None,
) -> DiscoveryConfig:
    """Resolve the configuration: ``overrides`` (options) win over env, file, defaults.

    Args:
        overrides: settings given by the caller (``None`` values are ignored); errors name
            them as the ``settings`` parameter (``KEY=VALUE``) of the step functions.
        config_file: the TOML file (default: ``$S1FLOOD_CONFIG`` or
            ``~/.config/s1flood/config.toml``).
        environ: the environment to read ``S1FLOOD_*`` variables from (default: ``os.environ``).
    """
    env = os.environ if environ is None else environ
    defaults = DiscoveryConfig()
    fields = {f.name: type(getattr(defaults, f.name)) for f in dataclasses.fields(defaults)}
    values: dict[str, tuple[Any, str]] = {}
    path = Path(config_file) if config_file is not None else _config_file(env)
    if path.is_file():
        values.update((k, (v, str(path))) for k, v in _file_values(path, fields).items())
    for key in fields:
        variable = f"S1FLOOD_{key.upper()}"
        if env.get(variable):
            values[key] = (env[variable], f"${variable}")
    for key, value in (overrides or {}).items():
        if key not in fields:
            raise InvalidOptionError(
                _OVERRIDE, f"{key}={value}", f"unknown discovery setting {key}"
            )
        if value is not None:
            values[key] = (value, _OVERRIDE)
    typed = {key: _coerce(key, fields[key], *found) for key, found in values.items()}
    return DiscoveryConfig(**typed)
