"""Command line: parses, calls the step functions, configures logging, maps errors to exits.

Each command's options are its step function's parameters (`s1flood.steps`), with the help
taken from the step's docstring; errors name parameters as the flags that set them.
"""

from __future__ import annotations

import errno
import logging
import sys
from pathlib import Path

import typer

from s1flood.cli import (
    catalogue_commands,
    classify_command,
    notebook_command,
    package_command,
    product_commands,
    results_command,
    scene_commands,
    serve_command,
)
from s1flood.cli.app import app
from s1flood.cli.extras import missing_extra_message
from s1flood.errors import DiskFullError, S1FloodError, cli_flag, first_line

__all__ = ["app", "flag_names", "main"]

COMMAND_MODULES = (
    catalogue_commands,
    classify_command,
    notebook_command,
    package_command,
    product_commands,
    results_command,
    scene_commands,
    serve_command,
)
"""Modules whose commands register on `app` when imported."""


def flag_names(command: typer.core.TyperGroup | object) -> dict[str, str]:
    """The flag of every option of every command by parameter name (``zip_products``: ``--zip``).

    Args:
        command: the click group built from `app`.
    """
    names: dict[str, str] = {}
    for sub in getattr(command, "commands", {}).values():
        for param in sub.params:
            flags = [o for o in param.opts if o.startswith("--")]
            if param.name and flags:
                names[param.name] = flags[0]
    return names


def command_words(command: typer.core.TyperGroup | object, args: list[str]) -> str:
    """The command as typed, without options or values (``s1flood notebook run``).

    Args:
        command: the click group built from `app`.
        args: the arguments after the program name.
    """
    words = ["s1flood"]
    group = command
    for arg in args:
        if arg.startswith("-"):
            continue
        sub = getattr(group, "commands", {}).get(arg)
        if sub is None:
            break
        words.append(arg)
        group = sub
    return " ".join(words)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `s1flood` console script; returns the exit code.

    Args:
        argv: the arguments after the program name; default ``sys.argv[1:]``.
    """
    args = sys.argv[1:] if argv is None else argv
    command = typer.main.get_command(app)
    try:
        command.main(args=args or ["--help"], prog_name="s1flood", standalone_mode=False)
    except S1FloodError as exc:
        flags = flag_names(command)
        message = exc.describe(lambda name: flags.get(name, cli_flag(name)))
        print(f"s1flood: error: {message}", file=sys.stderr)
        return exc.exit_code
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        print("s1flood: aborted", file=sys.stderr)
        return 130
    except typer.TyperException as exc:
        message = getattr(exc, "format_message", exc.__str__)()
        print(f"s1flood: error: {' '.join(str(message).split())}", file=sys.stderr)
        return int(getattr(exc, "exit_code", 2))
    except KeyboardInterrupt:
        print("s1flood: interrupted", file=sys.stderr)
        return 130
    except ImportError as exc:  # an optional extra not installed
        logging.getLogger("s1flood").debug("import failed", exc_info=True)
        print(
            f"s1flood: error: {missing_extra_message(exc, command_words(command, args))}",
            file=sys.stderr,
        )
        return 1
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            return _defect(exc)
        # a write no step turned into DiskFullError (papermill's notebook, a library's file)
        where = Path(exc.filename).parent if exc.filename else Path.cwd()
        print(f"s1flood: error: {DiskFullError(where)}", file=sys.stderr)
        return DiskFullError.exit_code
    except Exception as exc:  # a defect, not a user mistake: one line, the traceback at -vv
        return _defect(exc)
    return 0


def _defect(exc: Exception) -> int:
    """Say in one line that `exc` is a defect (the traceback at -vv); the exit code.

    Args:
        exc: the exception no handler expected.
    """
    logging.getLogger("s1flood").debug("unexpected error", exc_info=True)
    print(
        f"s1flood: error: unexpected {type(exc).__name__}: {first_line(exc)} "
        "(run with -vv for the traceback)",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
