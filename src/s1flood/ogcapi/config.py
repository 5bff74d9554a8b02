"""Server configuration: a YAML file, then the environment, then defaults.

Secrets (the operator token, catalogue credentials) come from the environment or the
server's own configuration file; they are never accepted from a request.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from s1flood.discovery.credentials import register_secret
from s1flood.errors import InvalidOptionError

__all__ = ["CREDENTIAL_ENV", "ServerConfig", "load_config"]

CREDENTIAL_ENV = re.compile(r"^(S1FLOOD_[A-Z0-9]+_(USERNAME|PASSWORD|TOKEN)|EARTHDATA_TOKEN)$")
"""Environment variables that carry catalogue credentials, passed to jobs and nowhere else."""

RUNNERS = ("cwltool", "toil")


@dataclass
class ServerConfig:
    """Everything `s1flood serve` needs to know.

    Args:
        host: address to bind (``127.0.0.1`` unless exposing the server on purpose).
        port: TCP port.
        url: public base URL in links; default ``http://HOST:PORT``.
        data_dir: where jobs, deployed packages and the job database live.
        packages: application packages (CWL files) served as built-in processes.
        runner: ``cwltool`` or ``toil`` (``toil-cwl-runner``).
        runner_command: the runner executable; default found next to the Python interpreter.
        containers: run steps in containers (Docker); else ``--no-container``.
        max_running_jobs: jobs running at once; more are queued.
        max_queued_jobs: jobs waiting at most; an execute request beyond that is refused
            with 503 and ``Retry-After``.
        job_timeout: seconds a job may run before it is stopped.
        max_body_bytes: largest request body accepted (413 beyond it).
        operator_token: the token deploy, replace and undeploy require (Bearer); none
            configured means deployment is refused.
        input_roots: local folders whose files execute requests may name (paths or file://).
        credentials: catalogue credentials as environment variables for the jobs.
    """

    host: str = "127.0.0.1"
    port: int = 5000
    url: str | None = None
    data_dir: Path = field(default_factory=lambda: Path("ogcapi-data"))
    packages: list[Path] = field(default_factory=list)
    runner: str = "cwltool"
    runner_command: str | None = None
    containers: bool = False
    max_running_jobs: int = 2
    max_queued_jobs: int = 100
    job_timeout: float = 3600.0
    max_body_bytes: int = 10 * 1024 * 1024
    operator_token: str | None = field(default=None, repr=False)
    input_roots: list[Path] = field(default_factory=list)
    credentials: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def base_url(self) -> str:
        """The URL links start with (no trailing slash)."""
        return (self.url or f"http://{self.host}:{self.port}").rstrip("/")

    @property
    def jobs_dir(self) -> Path:
        """One folder per job below this one."""
        return self.data_dir / "jobs"

    @property
    def deployed_dir(self) -> Path:
        """Deployed application packages, one file per process."""
        return self.data_dir / "processes"

    def check(self) -> None:
        """Raise `InvalidOptionError` naming the first unusable setting."""
        if self.runner not in RUNNERS:
            raise InvalidOptionError("runner", self.runner, f"expected one of {RUNNERS}")
        if self.max_running_jobs < 1:
            raise InvalidOptionError("max_running_jobs", self.max_running_jobs, "at least 1")
        if self.max_queued_jobs < 0:
            raise InvalidOptionError("max_queued_jobs", self.max_queued_jobs, "at least 0")
        if self.job_timeout <= 0:
            raise InvalidOptionError("job_timeout", self.job_timeout, "must be positive")
        if not 1 <= self.port <= 65535:
            raise InvalidOptionError("port", self.port, "expected 1 to 65535")
        for package in self.packages:
            if not package.is_file():
                raise InvalidOptionError("packages", str(package), "no such file")


_PATHS = {"data_dir"}
_PATH_LISTS = {"packages", "input_roots"}


def load_config(
    path: Path | str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> ServerConfig:
    """Read the configuration: the file, then the environment, then `overrides`.

    The environment gives ``S1FLOOD_OPERATOR_TOKEN`` and the credential variables; the
    overrides are e.g. the command line's host and port.

    Args:
        path: a YAML file with `ServerConfig` fields at the top level; relative paths in it
            are relative to the file.
        environ: the environment to read; default ``os.environ``.
        overrides: field values that win over the file (``None`` values are ignored).
    """
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    base = Path.cwd()
    if path is not None:
        file = Path(path)
        try:
            loaded = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise InvalidOptionError("config", str(file), reason) from None
        if not isinstance(loaded, dict):
            raise InvalidOptionError("config", str(file), "expected a mapping of settings")
        values.update(loaded)
        base = file.resolve().parent
    known = set(ServerConfig.__dataclass_fields__)
    unknown = sorted(set(values) - known)
    if unknown:
        raise InvalidOptionError("config", str(path), f"unknown settings {unknown}")
    values.update({k: v for k, v in overrides.items() if v is not None})
    for key in _PATHS & set(values):
        values[key] = _resolve(base, values[key])
    for key in _PATH_LISTS & set(values):
        values[key] = [_resolve(base, item) for item in values[key] or []]
    if env.get("S1FLOOD_OPERATOR_TOKEN"):
        values["operator_token"] = env["S1FLOOD_OPERATOR_TOKEN"]
    credentials = {
        k: v
        for k, v in env.items()
        if CREDENTIAL_ENV.match(k) and v and k != "S1FLOOD_OPERATOR_TOKEN"
    }
    credentials.update({str(k): str(v) for k, v in (values.get("credentials") or {}).items()})
    values["credentials"] = credentials
    config = ServerConfig(**values)
    if "data_dir" not in values:
        config.data_dir = (base / config.data_dir).resolve()
    for secret in (config.operator_token, *credentials.values()):
        register_secret(secret)
    config.check()
    return config


def _resolve(base: Path, value: object) -> Path:
    path = Path(str(value)).expanduser()
    return (path if path.is_absolute() else base / path).resolve()
