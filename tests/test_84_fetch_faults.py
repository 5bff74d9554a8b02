"""``s1flood fetch`` killed mid-download, and 8 fetches at once through injected faults.

1. SIGKILL at seeded random moments of a throttled download: never a partial product under
   the final name; the rerun resumes the ``.part`` file with HTTP Range (the bytes sent
   again are counted: at most one request's worth in flight), ends verified, leaves nothing.
2. Eight ``s1flood fetch`` processes in parallel while the server draws a fault for 40 % of
   the download requests (latency, 429 with Retry-After, 5xx, cut bodies, truncated bodies
   with a matching Content-Length, a wrong checksum, every token expired): each product
   ends whole with its checksum verified, or the command fails in one line leaving nothing;
   retries are INFO lines, bounded in count (per stall) and time.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from faults import temporaries
from fetching import FAULTS, command, enlarge, environment, final_path, run_fetch, whole
from servers import MockServer
from servers.cdse import CdseState, start_cdse

pytestmark = pytest.mark.slow


@pytest.fixture
def cdse() -> Iterator[tuple[MockServer, CdseState]]:
    main, zipper, state = start_cdse()
    yield main, state
    main.close()
    zipper.close()


def test_sigkill_mid_download_resumes_by_range(
    cdse: tuple[MockServer, CdseState], tmp_path: Path
) -> None:
    main, state = cdse
    product = enlarge(state, 0, 3_000_000)
    size = len(product["_body"])
    main.throttle = 1_000_000.0
    env = environment(main, state, tmp_path, retries=3, backoff=0.05, timeout=5)
    out = tmp_path / "out"
    rng = random.Random(2023)
    resent = kills = 0
    for _ in range(3):
        shutil.rmtree(out, ignore_errors=True)
        process = subprocess.Popen(
            command(product, out, "-q"),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            process.wait(rng.uniform(0.8, 3.0))  # start-up about 0.5 s, the body 3 s
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            kills += 1
        target = final_path(product, out)
        assert not target.exists() or whole(target, product), "partial product, final name"
        if target.exists():
            continue  # finished before the kill
        part = target.with_name(target.name + ".part")
        kept = part.stat().st_size if part.exists() else 0
        settled = -1
        while settled != main.body_bytes:  # the killed request's server thread may still write
            settled = main.body_bytes
            time.sleep(0.3)
        main.body_bytes = 0
        log_start = len(main.log)
        done = subprocess.run(command(product, out, "-q"), env=env, capture_output=True,
                              text=True, check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert whole(target, product)
        assert not temporaries(out), temporaries(out)
        ranges = [r["headers"].get("Range") for r in main.log[log_start:]]
        if 0 < kept < size:
            assert f"bytes={kept}-" in ranges, ranges  # resumed where the kill left it
        resent += main.body_bytes - (size - kept)
    assert kills >= 2
    assert resent == 0  # the rerun sends only what the part file lacks


def test_eight_parallel_fetches_through_injected_faults(
    cdse: tuple[MockServer, CdseState], tmp_path: Path
) -> None:
    main, state = cdse
    products = [enlarge(state, i, 400_000 + 50_000 * i) for i in range(8)]
    main.throttle = 4_000_000.0
    main.inject_randomly("download", 0.4, FAULTS, seed=23)
    main.inject_randomly("product", 0.1, FAULTS[:5], seed=24)
    env = environment(main, state, tmp_path, retries=4, backoff=0.05, max_retry_after=2,
                      timeout=3)  # fmt: skip
    out = tmp_path / "out"
    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda p: run_fetch(p, out, env, limit=90), products))
    assert time.monotonic() - started < 120
    problems = [p for o in outcomes for p in o.problems]
    assert not problems, problems
    assert sum(o.returncode == 0 for o in outcomes) >= 6, [o.stderr[-300:] for o in outcomes]
    assert sum(o.retries for o in outcomes) > 0  # faults were met and retried
    assert not temporaries(out) or all(o.returncode for o in outcomes if o.returncode)
