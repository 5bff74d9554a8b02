"""Scraps glued in scrapbook's own format, without importing scrapbook in the notebook's kernel.

``import scrapbook`` costs a notebook job about 0.6 CPU seconds (pandas, jsonschema and its
schemas), for what `glue` does here: one display output whose MIME type and metadata are
those ``scrapbook.glue`` writes for its ``text`` and ``json`` encoders (scrap version 1), so
``scrapbook.read_notebook(...).scraps`` (and `s1flood.notebook.read_scraps`) read them back
as scrapbook's own. The notebooks use it as ``from s1flood import glue as sb``.
"""

from __future__ import annotations

import json
from typing import Any

SCRAP_VERSION = 1
"""scrapbook's ``LATEST_SCRAP_VERSION`` (scrapbook 0.5)."""


def glue(name: str, data: Any) -> None:
    """Record `data` under `name` in the running notebook, as ``scrapbook.glue(name, data)``.

    Anything else than text or JSON (None, a data frame, a display object) goes to
    ``scrapbook.glue`` itself.

    Args:
        name: the scrap's name.
        data: a string (scrapbook's ``text`` encoder) or a list, dict, int, float or bool
            holding only JSON values (its ``json`` encoder); else what scrapbook takes.
    """
    from IPython.display import display

    if isinstance(data, str):
        encoder = "text"
    elif isinstance(data, (list, dict, int, float, bool)):
        encoder = "json"
        json.dumps(data)  # what the notebook's JSON writer would refuse, refused here
    else:
        import scrapbook

        scrapbook.glue(name, data)
        return
    payload = {"name": name, "data": data, "encoder": encoder, "version": SCRAP_VERSION}
    display(  # type: ignore[no-untyped-call]
        {f"application/scrapbook.scrap.{encoder}+json": payload},
        metadata={"scrapbook": {"name": name, "data": True, "display": False}},
        raw=True,
    )
