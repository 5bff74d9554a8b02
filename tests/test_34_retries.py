"""Retries in the project's words: one INFO line per retry, the failure one error line.

A refused connection used to print urllib3's own ``Retrying (Retry(total=4, ...))`` warnings
(one per retry) before the one-line error; every catalogue now logs its retries itself.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from s1flood.cli import main

AOI = "POLYGON ((12.44 42.03, 12.52 42.03, 12.52 42.09, 12.44 42.09, 12.44 42.03))"
RETRIES = 3


@pytest.fixture
def refused_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens (the connection is refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No config file or netrc; DHuS credentials; logging restored after the CLI set it."""
    monkeypatch.setenv("S1FLOOD_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    monkeypatch.setenv("S1FLOOD_DHUS_USERNAME", "user")
    monkeypatch.setenv("S1FLOOD_DHUS_PASSWORD", "dhus-secret")
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in ("urllib3", "s1flood")}
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)
    for name, value in levels.items():
        logging.getLogger(name).setLevel(value)


def _discover(url: str, kind: str, *flags: str) -> list[str]:
    catalogue = {"stac": f"stac:{url}", "dhus": f"dhus:{url}/dhus/"}.get(kind, kind)
    return [
        *flags,
        "discover",
        "--aoi",
        AOI,
        "--start",
        "2026-10-01",
        "--end",
        "2026-10-05",
        "--catalogue",
        catalogue,
        "--odata-url",
        f"{url}/odata/v1",
        "--set",
        f"asf_url={url}/services/search/param",
        "--set",
        f"retries={RETRIES}",
        "--set",
        "backoff=0.01",
    ]


KINDS = ["stac", "dhus", "cdse", "asf"]


@pytest.mark.parametrize("kind", KINDS)
def test_refused_connection_is_one_line(
    kind: str, refused_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(_discover(refused_url, kind))
    out = capsys.readouterr()
    assert code == 1
    assert out.out == ""
    lines = out.err.splitlines()
    assert len(lines) == 1, out.err
    assert lines[0].startswith("s1flood: error: ")
    assert "connection refused" in lines[0]
    assert f"after {RETRIES} retries" in lines[0]
    assert "Retrying" not in out.err


@pytest.mark.parametrize("kind", KINDS)
def test_retries_logged_in_our_words(
    kind: str, refused_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(_discover(refused_url, kind, "-v"))
    lines = capsys.readouterr().err.splitlines()
    assert code == 1
    retries = [line for line in lines if " INFO " in line and "; retry " in line]
    assert len(retries) == RETRIES, lines
    for n, line in enumerate(retries, start=1):
        assert " INFO s1flood.discovery." in line
        assert f"connection refused; retry {n}/{RETRIES} in " in line
    assert not [line for line in lines if "urllib3" in line or "Retrying (" in line]
    assert lines[-1].startswith("s1flood: error: ")
    assert [line for line in lines if line not in retries] == [lines[-1]]


def test_retry_lines_are_info_and_urllib3_is_quiet(
    refused_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Through the library: urllib3 logs no warning; every retry is one s1flood INFO record."""
    from s1flood.discovery import discover, load_config
    from s1flood.errors import CatalogueError

    caplog.set_level(logging.DEBUG)
    config = load_config({"retries": 2, "backoff": 0.01})
    with pytest.raises(CatalogueError, match="connection refused"):
        discover(AOI, "2026-10-01", "2026-10-05", catalogue=f"stac:{refused_url}", config=config)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == []
    retries = [r for r in caplog.records if "; retry " in r.getMessage()]
    assert [r.levelname for r in retries] == ["INFO", "INFO"]
    assert all(r.name.startswith("s1flood.") for r in retries)


def _raised(exc: BaseException, cause: BaseException | None = None) -> BaseException:
    try:
        raise exc from cause
    except BaseException as caught:
        return caught


def test_transport_problem_words() -> None:
    import requests
    import urllib3.exceptions

    from s1flood.discovery.retries import transport_problem

    refused = _raised(
        urllib3.exceptions.NewConnectionError(None, "failed"),  # type: ignore[arg-type]
        ConnectionRefusedError(111, "Connection refused"),
    )
    wrapped = requests.ConnectionError(urllib3.exceptions.MaxRetryError(None, "/", refused))  # type: ignore[arg-type]
    assert transport_problem(wrapped, 2.0) == "connection refused"
    context = _raised(RuntimeError("APIError: HTTPConnectionPool(...)"))
    context.__context__ = wrapped
    assert transport_problem(context, 2.0) == "connection refused"
    assert transport_problem(requests.ReadTimeout(), 2.0) == "timed out after 2 s"
    assert transport_problem(requests.exceptions.ChunkedEncodingError(), 2.0) == "connection broken"
    statuses = urllib3.exceptions.ResponseError("too many 503 error responses")
    assert (
        transport_problem(urllib3.exceptions.MaxRetryError(None, "/", statuses), 2.0)  # type: ignore[arg-type]
        == "too many 503 error responses"
    )
    assert transport_problem(ValueError("not JSON"), 2.0) is None
