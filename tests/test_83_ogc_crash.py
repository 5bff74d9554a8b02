"""The OGC server killed with SIGKILL while jobs run and wait, then started again.

Every job gets a definite state (failed, with the reason), the runner processes the killed
server left are ended, the job database is whole, and a dismissal removes the job's files. A
full queue is refused with 503 and ``Retry-After``.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path

import pytest
import requests

from faults import Load
from test_70_ogc import ECHO, OgcServer, assert_problem

pytestmark = pytest.mark.slow
ASYNC = {"Prefer": "respond-async"}


def _execute(server: OgcServer, seconds: int) -> requests.Response:
    return requests.post(
        f"{server.url}/processes/s1flood-echo/execution",
        json={"inputs": {"message": "crash test", "seconds": seconds}},
        headers=ASYNC,
        timeout=60,
    )


def _group_alive(pgid: int) -> bool:
    """Whether a process of the group lives (zombies waiting for init to reap them do not)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


def test_sigkill_with_jobs_running_and_queued(tmp_path: Path) -> None:
    server = OgcServer(
        tmp_path, packages=[ECHO], max_running_jobs=1, max_queued_jobs=2, job_timeout=120
    ).start()
    jobs_dir = tmp_path / "data" / "jobs"
    try:
        job_ids = []
        for _ in range(3):
            response = _execute(server, 60)
            assert response.status_code == 201, response.text
            job_ids.append(response.json()["jobID"])
        full = _execute(server, 60)
        problem = assert_problem(full, 503)
        assert int(full.headers["Retry-After"]) > 0
        assert "queue is full" in problem["detail"]
        record = jobs_dir / job_ids[0] / "runner.pid"
        deadline = time.monotonic() + 60
        while not record.exists():
            assert time.monotonic() < deadline, server.log.read_text()[-2000:]
            time.sleep(0.1)
        runner_group = int(record.read_text().split()[0])
        assert server.process is not None
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(10)
        assert _group_alive(runner_group)  # the orphan a killed server leaves
        (jobs_dir / "stray-folder").mkdir()

        server.start()

        assert not _group_alive(runner_group)
        database = json.loads((tmp_path / "data" / "jobs.db").read_text())
        assert database  # whole JSON
        for job_id in job_ids:
            status = requests.get(f"{server.url}/jobs/{job_id}", timeout=10).json()
            assert status["status"] == "failed", status
            assert status["message"] == "the server stopped before the job finished"
            assert_problem(requests.get(f"{server.url}/jobs/{job_id}/results", timeout=10), 500)
        assert not (jobs_dir / "stray-folder").exists()
        assert not (jobs_dir / job_ids[0] / "runner.pid").exists()
        gone = requests.delete(f"{server.url}/jobs/{job_ids[0]}", timeout=30)
        assert gone.status_code == 200
        assert not (jobs_dir / job_ids[0]).exists()
        assert_problem(requests.get(f"{server.url}/jobs/{job_ids[0]}", timeout=10), 404)
        after = _execute(server, 0)
        assert after.status_code == 201
        assert server.wait_job(after.json()["jobID"], 120)["status"] == "successful"
        assert not [p for p in jobs_dir.rglob("*") if p.name.startswith(".")]
    finally:
        server.stop()


def test_concurrent_clients_get_no_unexpected_5xx(tmp_path: Path) -> None:
    server = OgcServer(
        tmp_path, packages=[ECHO], max_running_jobs=2, max_queued_jobs=5, job_timeout=60
    ).start()
    try:
        load = Load(server, seed=83)
        until = time.monotonic() + 6
        clients = [threading.Thread(target=load.client, args=(until, i)) for i in range(20)]
        for client in clients:
            client.start()
        for client in clients:
            client.join()
        assert load.unexpected == []
        assert load.statuses["201"] > 0
        assert load.statuses["503"] > 0  # the queue filled and was refused with Retry-After
        assert server.peak_rss_mb() < 1000
    finally:
        server.stop()
