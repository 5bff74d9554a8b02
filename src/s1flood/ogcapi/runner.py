"""The job runner: CWL runs (cwltool or Toil), each in its own job folder.

At most N run at once (the rest are queued, at most `ServerConfig.max_queued_jobs`); each is
stopped at its timeout or when its job is dismissed. A running job's runner process group is
recorded in ``JOB/runner.pid`` (PID and start time) so that a server killed with SIGKILL can
end the orphaned group when it starts again (`stop_orphans`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from s1flood.atomic import write_text_atomic
from s1flood.discovery.credentials import redact
from s1flood.ogcapi.config import ServerConfig

__all__ = ["JobCancelledError", "JobFailedError", "JobRunner", "QueueFullError", "stop_orphans"]

logger = logging.getLogger(__name__)

T = TypeVar("T")
STEP_DONE = re.compile(r"\[step ([^\]]+)\] completed success|CWL step complete: (\S+)")
"""cwltool's and Toil's lines for a finished workflow step."""
ProgressCallback = Callable[[int, str], None]


class JobFailedError(Exception):
    """The workflow run failed; the message is one line and names no secret."""


class JobCancelledError(Exception):
    """The job was dismissed while queued or running."""


class QueueFullError(Exception):
    """As many jobs wait as the queue holds; the message says how many."""


class JobRunner:
    """Runs CWL jobs through a pool of `config.max_running_jobs` threads.

    Args:
        config: the server configuration (runner, containers, timeout, credentials).
    """

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.pool = ThreadPoolExecutor(config.max_running_jobs, thread_name_prefix="s1flood-job")
        self.lock = threading.Lock()
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.cancelled: set[str] = set()
        self.done: dict[str, threading.Event] = {}
        self.waiting = 0
        self.admitting = 0

    @contextlib.contextmanager
    def admission(self) -> Iterator[None]:
        """Hold a queue place while a job is created (`QueueFullError` if none is free)."""
        limit = self.config.max_queued_jobs
        with self.lock:
            if self.waiting + self.admitting >= limit:
                raise QueueFullError(f"the job queue is full ({limit} jobs waiting)")
            self.admitting += 1
        try:
            yield
        finally:
            with self.lock:
                self.admitting -= 1

    def submit(self, job_id: str, work: Callable[[], T]) -> Future[T]:
        """Queue `work` (which runs the job) behind the running jobs.

        Args:
            job_id: the job.
            work: what a worker thread calls.
        """
        event = threading.Event()
        with self.lock:
            self.done[job_id] = event
            self.waiting += 1

        def wrapped() -> T:
            with self.lock:
                self.waiting -= 1
            try:
                return work()
            finally:
                event.set()

        return self.pool.submit(wrapped)

    def is_cancelled(self, job_id: str) -> bool:
        """Whether the job was dismissed.

        Args:
            job_id: the job.
        """
        with self.lock:
            return job_id in self.cancelled

    def cancel(self, job_id: str, wait: float = 15.0) -> None:
        """Stop a job: forget it if queued, end its process group if running.

        Args:
            job_id: the job.
            wait: seconds to wait for the run to end.
        """
        with self.lock:
            self.cancelled.add(job_id)
            process = self.processes.get(job_id)
            event = self.done.get(job_id)
        if process is not None:
            _stop(process)
        if event is not None and process is not None:
            event.wait(wait)

    def run_cwl(
        self,
        job_id: str,
        package: Path,
        process_id: str,
        job_order: dict[str, Any],
        job_dir: Path,
        progress: ProgressCallback,
        steps: int,
        secrets: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Run a package's entry workflow; return the CWL outputs object.

        Args:
            job_id: the job (for dismissal).
            package: the CWL file.
            process_id: the entry workflow id.
            job_order: the inputs.
            job_dir: the job's folder (``job.json``, ``job.log``, ``outputs/``, ``tmp/``).
            progress: called with a percentage and a message as steps complete.
            steps: how many steps the workflow has (for the percentage).
            secrets: credential inputs from the server's configuration; they reach the
                runner through a pipe, never a file (``job.json`` holds the rest).
        """
        if self.is_cancelled(job_id):
            raise JobCancelledError(job_id)
        command, env = self._prepare(job_dir, job_order, package, process_id)
        started = time.monotonic()
        returncode = self._run_process(
            job_id, command, env, job_dir, {**job_order, **(secrets or {})}, progress, steps
        )
        logger.info(
            "job %s: %s exited %s after %.1f s",
            job_id,
            self.config.runner,
            returncode,
            time.monotonic() - started,
        )
        if self.is_cancelled(job_id):
            raise JobCancelledError(job_id)
        return _collect_result(job_dir, returncode)

    def _prepare(
        self, job_dir: Path, job_order: dict[str, Any], package: Path, process_id: str
    ) -> tuple[list[str], dict[str, str]]:
        """Make the job's folders, write ``job.json``; the runner's command and environment.

        Args:
            job_dir: the job's folder.
            job_order: the inputs (no secrets).
            package: the CWL file.
            process_id: the entry workflow id.
        """
        outdir, tmp = job_dir / "outputs", job_dir / "tmp"
        outdir.mkdir(parents=True, exist_ok=True)
        tmp.mkdir(parents=True, exist_ok=True)
        order_file = job_dir / "job.json"
        order_file.write_text(json.dumps(job_order, indent=2), encoding="utf-8")
        command = [*self._command(job_dir, outdir, tmp), f"{package}#{process_id}", "-"]
        env = dict(os.environ)
        env.update(self.config.credentials)
        # one cache (DEM tiles, orbits, the kernels' font cache) for every job of every run
        env.setdefault("S1FLOOD_CACHE_DIR", str(self.config.data_dir / "cache"))
        # the runner's own folder first: Toil starts its workers (_toil_worker) from PATH
        folders = dict.fromkeys([str(Path(command[0]).parent), str(Path(sys.executable).parent)])
        env["PATH"] = os.pathsep.join([*folders, env.get("PATH", "")])
        return command, env

    def _run_process(
        self,
        job_id: str,
        command: list[str],
        env: dict[str, str],
        job_dir: Path,
        stdin_order: dict[str, Any],
        progress: ProgressCallback,
        steps: int,
    ) -> int:
        """Run the runner to its end (or the job timeout); its exit code.

        Args:
            job_id: the job (its process is registered for dismissal while it runs).
            command: the runner's command line.
            env: the runner's environment.
            job_dir: the job's folder (``job.log`` and ``cwl.output.json`` are written there).
            stdin_order: the inputs, secrets included, sent through the runner's stdin.
            progress: called with a percentage and a message as steps complete.
            steps: how many steps the workflow has (for the percentage).
        """
        with (
            (job_dir / "job.log").open("w", encoding="utf-8") as log,
            (job_dir / "cwl.output.json").open("wb") as out,
        ):
            process = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=out,
                stderr=subprocess.PIPE,
                cwd=job_dir,
                env=env,
                start_new_session=True,
            )
            with self.lock:
                self.processes[job_id] = process
            _record_group(job_dir, process.pid)
            assert process.stdin is not None
            try:
                process.stdin.write(yaml_safe_json(stdin_order).encode())
                process.stdin.close()
            except BrokenPipeError:
                pass
            reader = threading.Thread(
                target=_follow, args=(process, log, progress, max(steps, 1)), daemon=True
            )
            reader.start()
            try:
                process.wait(timeout=self.config.job_timeout)
            except subprocess.TimeoutExpired:
                _stop(process)
                reader.join(10)
                raise JobFailedError(
                    f"stopped after the job timeout of {self.config.job_timeout:.0f} s"
                ) from None
            finally:
                with self.lock:
                    self.processes.pop(job_id, None)
                (job_dir / RUNNER_PID).unlink(missing_ok=True)
            reader.join(10)
        return process.returncode

    def _command(self, job_dir: Path, outdir: Path, tmp: Path) -> list[str]:
        config = self.config
        bindir = Path(sys.executable).parent
        # a container sees neither the host's cache folder nor its environment: it gets only
        # the credentials (its images carry their compiled kernels)
        shared = sorted(config.credentials) + ([] if config.containers else ["S1FLOOD_CACHE_DIR"])
        preserve = [a for name in shared for a in ("--preserve-environment", name)]
        container = [] if config.containers else ["--no-container"]
        if config.runner == "toil":
            exe = config.runner_command or str(bindir / "toil-cwl-runner")
            # Toil's --preserve-environment takes several names: keep it before other options
            return [
                exe, *preserve, "--batchSystem", "single_machine",
                "--jobStore", str(job_dir / "jobstore"), "--workDir", str(tmp),
                "--outdir", str(outdir), "--logInfo", *container,
            ]  # fmt: skip
        exe = config.runner_command or str(bindir / "cwltool")
        return [
            exe, "--disable-color", "--enable-ext", "--outdir", str(outdir),
            "--tmpdir-prefix", f"{tmp}/", "--tmp-outdir-prefix", f"{tmp}/",
            *container, *preserve,
        ]  # fmt: skip


SURROGATE_PAIR = re.compile(r"(?<!\\)((?:\\\\)*)\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})")


def yaml_safe_json(value: Any) -> str:
    """JSON that YAML readers (cwltool's) decode to the same text.

    ASCII-only JSON, except that a character beyond U+FFFF is written as a YAML 8-digit
    escape (backslash, U, hex digits): YAML decodes JSON's surrogate-pair escape into two
    lone surrogates, which no tool can be given.

    Args:
        value: the job order.
    """

    def join(match: re.Match[str]) -> str:
        high, low = int(match.group(2), 16), int(match.group(3), 16)
        code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
        return f"{match.group(1)}\\U{code:08x}"

    return SURROGATE_PAIR.sub(join, json.dumps(value))


def _follow(
    process: subprocess.Popen[bytes], log: Any, progress: ProgressCallback, steps: int
) -> None:
    """Copy the runner's log (secrets redacted) and report progress as steps complete."""
    assert process.stderr is not None
    done: set[str] = set()
    for raw in process.stderr:
        line = redact(raw.decode("utf-8", "replace"))
        log.write(line)
        log.flush()
        match = STEP_DONE.search(line)
        if match:
            step = (match.group(1) or match.group(2)).split("/")[-1]
            done.add(step)
            percent = min(95, 10 + int(85 * len(done) / steps))
            progress(percent, f"step {step} completed")


RUNNER_PID = "runner.pid"
"""The file in a job folder naming its running runner's process group and start time."""


def _start_time(pid: int) -> int | None:
    """A process's start time in clock ticks since boot (``/proc/PID/stat``), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])


def _record_group(job_dir: Path, pid: int) -> None:
    write_text_atomic(job_dir / RUNNER_PID, f"{pid} {_start_time(pid) or 0}\n")


def _group_members(pgid: int, since: int) -> list[int]:
    """Live (not zombie) processes of group `pgid` started at or after `since` (ticks)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid and int(fields[19]) >= since:
            members.append(int(entry.name))
    return members


def stop_orphans(job_dir: Path) -> int:
    """Kill what is left of the runner a killed server started for this job; how many.

    The group's leader is trusted only if it still has the recorded start time (its PID was
    not reused); if it is gone, members of its group started after it are still its.

    Args:
        job_dir: the job's folder (``runner.pid``).
    """
    record = job_dir / RUNNER_PID
    try:
        pid, started = (int(v) for v in record.read_text().split())
    except (OSError, ValueError):
        return 0
    leader = _start_time(pid)
    members = [] if leader is not None and leader != started else _group_members(pid, started)
    for member in members:
        with contextlib.suppress(ProcessLookupError):
            os.kill(member, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while members and _group_members(pid, started) and time.monotonic() < deadline:
        time.sleep(0.05)  # SIGKILL is delivered asynchronously
    record.unlink(missing_ok=True)
    if members:
        logger.warning("job %s: killed %d orphaned runner processes", job_dir.name, len(members))
    return len(members)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End a run's whole process group: TERM, then KILL after 5 s."""
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _reason(log_path: Path) -> str:
    """The most telling line of a failed run's log."""
    try:
        lines = log_path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return "no log"
    for pattern in ("s1flood: error:", "Error:", "ERROR", "permanentFail"):
        hits = [i for i, ln in enumerate(lines) if pattern in ln]
        if hits:
            # a line ending in ':' announces its reason on the lines after it
            index = hits[-1]
            text = " ".join(ln.strip() for ln in lines[index : index + 4])
            return (text if lines[index].rstrip().endswith(":") else lines[index].strip())[:300]
    return (lines[-1].strip() if lines else "no log")[:300]


def _collect_result(job_dir: Path, returncode: int) -> dict[str, Any]:
    """The CWL outputs object a finished run wrote, or `JobFailedError` saying why not."""
    if returncode != 0:
        raise JobFailedError(
            f"the workflow failed (exit {returncode}): {_reason(job_dir / 'job.log')}"
        )
    try:
        result = json.loads((job_dir / "cwl.output.json").read_text(encoding="utf-8"))
    except ValueError:
        raise JobFailedError("the workflow wrote no outputs object") from None
    if not isinstance(result, dict):
        raise JobFailedError("the workflow wrote no outputs object")
    return result
