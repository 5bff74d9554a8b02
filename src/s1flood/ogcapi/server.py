"""Running the server: configuration, the default package, a threaded WSGI server.

Stopping the server (SIGTERM or Ctrl-C) stops its jobs.
"""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path
from types import FrameType

from werkzeug.serving import make_server

from s1flood.ogcapi.app import create_app
from s1flood.ogcapi.config import load_config
from s1flood.ogcapi.manager import PackageManager

__all__ = ["default_package", "serve"]

logger = logging.getLogger(__name__)

PACKAGE_NAMES = ("workflow.cwl",)
"""The default process of a checkout: the development workflow (DockerRequirement under
hints), which runs with and without containers."""


def default_package() -> Path | None:
    """The workflow of a source checkout (``cwl/workflow.cwl``), if there is one."""
    root = Path(__file__).resolve().parents[3] / "cwl"
    for name in PACKAGE_NAMES:
        if (root / name).is_file():
            return root / name
    return None


def serve(config_file: Path | None, *, host: str | None = None, port: int | None = None) -> None:
    """Start the server and block until SIGTERM or SIGINT; running jobs are stopped then.

    Args:
        config_file: the YAML configuration; default: defaults and the environment.
        host: overrides the configured address.
        port: overrides the configured port.
    """
    settings = load_config(config_file, host=host, port=port)
    if not settings.packages and config_file is None:
        package = default_package()
        if package is not None:
            settings.packages = [package]
    application = create_app(settings)
    manager: PackageManager = application.config["S1FLOOD_MANAGER"]
    server = make_server(settings.host, settings.port, application, threaded=True)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(
        f"s1flood: serving OGC API - Processes on {settings.base_url} "
        f"({len(manager.store.ids())} processes, data in {settings.data_dir})",
        file=sys.stderr,
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        for job_id in list(manager.runner.processes):
            manager.runner.cancel(job_id, wait=5.0)
        manager.runner.pool.shutdown(wait=False, cancel_futures=True)
        print("s1flood: server stopped", file=sys.stderr, flush=True)
