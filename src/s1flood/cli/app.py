"""The typer application, logging set-up and the parameter-help lookup shared by commands."""

from __future__ import annotations

import logging
import os
from typing import Annotated

import typer

from s1flood._version import __version__
from s1flood.cache import tool_cache_environment
from s1flood.docs import parameter_docs
from s1flood.steps import COMPOSED, STEPS

app = typer.Typer(
    name="s1flood",
    help="Flood mapping from Sentinel-1 GRD: water masks and water frequency.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class State:
    """Options of the whole command line that every command reads."""

    progress = True


def doc(step: str, parameter: str) -> str:
    """The help of a command's option: the step function's documentation of that parameter.

    Args:
        step: the step (command) name, a key of `s1flood.steps.STEPS`.
        parameter: the parameter name.
    """
    for name in (step, *COMPOSED.get(step, ())):
        text = parameter_docs(STEPS[name]).get(parameter)
        if text:
            return text
    raise KeyError(f"{step}: parameter {parameter!r} is not documented")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"s1flood {__version__}")
        raise typer.Exit()


@app.callback()
def _configure(
    verbose: Annotated[
        int,
        typer.Option(
            "--verbose", "-v", count=True, help="Log what is done (-v: INFO, -vv: DEBUG)."
        ),
    ] = 0,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Only errors; no progress bars.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Configure logging for every command."""
    levels = {0: logging.WARNING, 1: logging.INFO}
    level = logging.ERROR if quiet else levels.get(verbose, logging.DEBUG)
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    if verbose < 2:
        for noisy in ("rasterio", "numba", "matplotlib", "PIL", "urllib3"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    State.progress = not quiet
    # before any command imports numba or matplotlib (their caches are read at import)
    os.environ.update(tool_cache_environment())
