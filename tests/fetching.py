"""``s1flood fetch`` against the loopback CDSE server: bigger products, the command, checks.

Shared by tests/test_84_fetch_faults.py and benchmarks/bench_faults.py.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import blake3

from faults import S1FLOOD
from servers import Fault, MockServer
from servers.cdse import CdseState, product_zip

FAULTS = [
    Fault("latency", headers={"delay": "0.3"}),
    Fault("status", 429, {"Retry-After": "1"}),
    Fault("status", 500),
    Fault("status", 502),
    Fault("status", 503, {"Retry-After": "0"}),
    Fault("cut"),
    Fault("short"),
    Fault("corrupt"),
    Fault("expire"),
]
"""What the download route injects under load (each request draws one at the chosen rate)."""


def enlarge(state: CdseState, index: int, size: int) -> dict[str, Any]:
    """Give product `index` a body of about `size` bytes (its size and checksums follow)."""
    product = state.products[index]
    body = product_zip(product["Name"].removesuffix(".SAFE"), size, 1000 + index)
    product["_body"] = body
    product["ContentLength"] = len(body)
    product["Checksum"] = [
        {"Value": hashlib.md5(body).hexdigest(), "Algorithm": "MD5"},
        {"Value": blake3.blake3(body).hexdigest(), "Algorithm": "BLAKE3"},
    ]
    return product


def environment(
    main: MockServer, state: CdseState, tmp: Path, **settings: object
) -> dict[str, str]:
    """The command's environment: the loopback endpoints, credentials, no user config."""
    env = dict(os.environ)
    env.update(
        {
            "S1FLOOD_CONFIG": str(tmp / "none.toml"),
            "NETRC": str(tmp / "no-netrc"),
            "S1FLOOD_CDSE_USERNAME": state.username,
            "S1FLOOD_CDSE_PASSWORD": state.password,
            "S1FLOOD_CDSE_ODATA_URL": main.url + "/odata/v1",
            "S1FLOOD_CDSE_DOWNLOAD_URL": main.url + "/odata/v1",
            "S1FLOOD_CDSE_OIDC_URL": (
                main.url + "/auth/realms/CDSE/.well-known/openid-configuration"
            ),
            "S1FLOOD_TRUSTED_HOSTS": "localhost",
        }
    )
    env.update({f"S1FLOOD_{k.upper()}": str(v) for k, v in settings.items()})
    return env


def command(product: dict[str, Any], out: Path, *flags: str) -> list[str]:
    """``s1flood fetch ID --catalogue cdse -o OUT``."""
    return [str(S1FLOOD), *flags, "fetch", product["Id"], "--catalogue", "cdse", "-o", str(out)]


def final_path(product: dict[str, Any], out: Path) -> Path:
    """Where the fetched product lands (the name CDSE gives it)."""
    return out / (product["Name"] + ".zip")


def whole(path: Path, product: dict[str, Any]) -> bool:
    """Whether `path` holds the product's bytes (its MD5 is the catalogue's)."""
    md5 = next(c["Value"] for c in product["Checksum"] if c["Algorithm"] == "MD5")
    return path.is_file() and hashlib.md5(path.read_bytes()).hexdigest() == md5


@dataclass
class Outcome:
    """One fetch command's end."""

    product: str
    returncode: int
    seconds: float
    stderr: str
    retries: int = 0
    problems: list[str] = field(default_factory=list)


def run_fetch(product: dict[str, Any], out: Path, env: dict[str, str], limit: float) -> Outcome:
    """Run ``s1flood -v fetch`` and check its end: the whole product, or one error line and
    nothing under the final name; never a traceback, never longer than `limit` seconds.
    """
    started = time.monotonic()
    done = subprocess.run(
        command(product, out, "-v"),
        capture_output=True,
        text=True,
        env=env,
        timeout=limit + 60,
        check=False,
    )
    outcome = Outcome(product["Id"], done.returncode, time.monotonic() - started, done.stderr)
    lines = done.stderr.splitlines()
    outcome.retries = sum("; retry " in line for line in lines)
    target = final_path(product, out)
    if "Traceback" in done.stderr:
        outcome.problems.append(f"{product['Id']}: traceback")
    if done.returncode == 0:
        if not whole(target, product):
            outcome.problems.append(f"{product['Id']}: corrupt product under the final name")
        if not any("verified" in line for line in lines):
            outcome.problems.append(f"{product['Id']}: checksum verification not logged")
    else:
        errors = [line for line in lines if line.startswith("s1flood: error:")]
        if len(errors) != 1 or lines[-1] != errors[0]:
            outcome.problems.append(f"{product['Id']}: not one error line: {lines[-3:]}")
        if target.exists():
            outcome.problems.append(f"{product['Id']}: failed but left {target.name}")
    if outcome.seconds > limit:
        outcome.problems.append(f"{product['Id']}: took {outcome.seconds:.0f} s > {limit:.0f} s")
    retry_lines = [line for line in lines if "; retry " in line]
    if not all(" INFO " in line for line in retry_lines):
        outcome.problems.append(f"{product['Id']}: retries not logged at INFO")
    return outcome


@dataclass
class KillFigures:
    """A series of kills of ``s1flood fetch`` mid-download."""

    kills: int = 0
    finished_before_kill: int = 0
    partial_files: int = 0
    resent_bytes: int = 0
    not_resumed: int = 0
    problems: list[str] = field(default_factory=list)


def kill_series(
    main: MockServer, product: dict[str, Any], out: Path, env: dict[str, str], kills: int,
    seed: int, window: tuple[float, float] = (0.8, 3.0),
) -> KillFigures:  # fmt: skip
    """SIGKILL a throttled fetch `kills` times at seeded moments in `window` (seconds), rerun.

    After each kill nothing partial may be under the final name; the rerun must resume the
    ``.part`` with Range, end whole and leave no temporary; bytes sent twice are counted.
    """
    import random
    import shutil
    import signal

    from faults import temporaries

    rng = random.Random(seed)
    figures = KillFigures()
    size = len(product["_body"])
    target = final_path(product, out)
    part = target.with_name(target.name + ".part")
    for _ in range(kills):
        shutil.rmtree(out, ignore_errors=True)
        process = subprocess.Popen(
            command(product, out, "-q"),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            process.wait(rng.uniform(*window))
            figures.finished_before_kill += 1
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        figures.kills += 1
        if target.exists():
            if not whole(target, product):
                figures.partial_files += 1
                figures.problems.append(f"partial {target.name} under its final name")
            continue
        kept = part.stat().st_size if part.exists() else 0
        settled = -1
        while settled != main.body_bytes:  # the killed request's server thread may still write
            settled = main.body_bytes
            time.sleep(0.3)
        main.body_bytes = 0
        log_start = len(main.log)
        done = subprocess.run(command(product, out, "-q"), env=env, capture_output=True,
                              text=True, check=False)  # fmt: skip
        if done.returncode != 0 or not whole(target, product) or temporaries(out):
            figures.problems.append(f"rerun: exit {done.returncode}, {done.stderr[-300:]}")
            continue
        ranges = [r["headers"].get("Range") for r in main.log[log_start:]]
        if 0 < kept < size and f"bytes={kept}-" not in ranges:
            figures.not_resumed += 1
            figures.problems.append(f"not resumed at byte {kept}: {ranges}")
        figures.resent_bytes += main.body_bytes - (size - kept)
    return figures
