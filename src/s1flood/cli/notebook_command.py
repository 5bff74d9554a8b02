"""``s1flood notebook run``: execute a notebook with papermill, its scraps as CWL outputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from s1flood.cli.app import app

notebook_app = typer.Typer(
    help="Run the workflow notebooks (papermill) and read their outputs (scrapbook).",
    no_args_is_help=True,
)
app.add_typer(notebook_app, name="notebook")


def _pairs(args: list[str]) -> list[tuple[str, str]]:
    """``-p NAME VALUE`` pairs from the arguments click left unparsed."""
    from s1flood.errors import InvalidOptionError

    pairs, rest = [], list(args)
    while rest:
        flag = rest.pop(0)
        if flag not in ("-p", "--parameter") or len(rest) < 2:
            raise InvalidOptionError("parameter", flag, "expected -p NAME VALUE")
        pairs.append((rest.pop(0), rest.pop(0)))
    return pairs


@notebook_app.command(
    "run", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def run(
    ctx: typer.Context,
    notebook: Annotated[Path, typer.Argument(help="The notebook to run (.ipynb).")],
    output: Annotated[
        Path, typer.Argument(help="The executed notebook to write (kept when a cell fails).")
    ],
    parameters_file: Annotated[
        Path | None,
        typer.Option(
            "--parameters-file",
            "-f",
            help="YAML or JSON parameters (a CWL job object too: Files become paths).",
        ),
    ] = None,
    kernel: Annotated[
        str, typer.Option("--kernel", "-k", help="Jupyter kernel to run on.")
    ] = "s1flood",
    cwl_output: Annotated[
        Path | None,
        typer.Option(help="Also write the scraps as a CWL output object (cwl.output.json)."),
    ] = None,
    ignore_unknown: Annotated[
        bool,
        typer.Option(
            help="Drop parameters the notebook does not have (a CWL job holds the whole job)."
        ),
    ] = False,
) -> None:
    """Execute a notebook and read its scraps. A failing cell: its one-line error.

    Parameters: -f FILE and any number of -p NAME VALUE (VALUE is JSON if it parses, else
    text), e.g. -p classes 2 -p aoi "POLYGON ((...))".
    """
    from s1flood.notebook import load_parameters, parse_values, run_notebook

    values = load_parameters(parameters_file, **parse_values(_pairs(ctx.args)))
    result = run_notebook(
        notebook,
        output,
        values,
        kernel=kernel,
        cwl_output=cwl_output,
        ignore_unknown=ignore_unknown,
    )
    typer.echo(
        f"{output}: executed in {result.seconds:.1f} s; scraps: {', '.join(result.scraps)}"
        f" (s1flood notebook scraps {output})"
    )


@notebook_app.command("scraps")
def scraps(
    notebook: Annotated[Path, typer.Argument(help="An executed notebook (.ipynb).")],
) -> None:
    """Print the scraps an executed notebook glued, as JSON."""
    from s1flood.notebook import read_scraps

    typer.echo(json.dumps(read_scraps(notebook), indent=2))
