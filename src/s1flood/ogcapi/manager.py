"""pygeoapi's process manager and processor for application packages.

`PackageManager` keeps pygeoapi's TinyDB job records and hands execution to the
`JobRunner` (bounded concurrency, queueing, timeout, dismissal); `PackageProcessor` is the
pygeoapi processor of one package, described by cwl2ogc and run with cwltool or Toil.

After a crash (SIGKILL of the server) the next start gives every job a definite state: jobs
that were queued or running are failed with the reason "the server stopped before the job
finished" (they are not re-run: re-executing is the client's choice), the runner processes a
killed server left are killed, a dismissal that was under way is completed (folder and record
gone), and job folders without a record are removed. The job database and ``result.json`` are
replaced atomically (never half-written).
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import tinydb
import yaml
from filelock import FileLock
from pygeoapi.process.base import BaseProcessor, JobNotFoundError
from pygeoapi.process.manager.tinydb_ import TinyDBManager
from pygeoapi.util import JobStatus, RequestedProcessExecutionMode, get_current_datetime

from s1flood.atomic import write_text_atomic
from s1flood.discovery.credentials import redact
from s1flood.ogcapi.config import ServerConfig
from s1flood.ogcapi.inputs import (
    check_domain,
    input_specs,
    secret_inputs,
    server_secrets,
    to_job_order,
)
from s1flood.ogcapi.packages import PackageStore, entry_workflow
from s1flood.ogcapi.problems import Problem
from s1flood.ogcapi.results import results_document
from s1flood.ogcapi.runner import (
    JobCancelledError,
    JobFailedError,
    JobRunner,
    QueueFullError,
    stop_orphans,
)
from s1flood.ogcapi.storage import AtomicJSONStorage

__all__ = ["PackageManager", "PackageProcessor"]

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
"""What a 503 for a full queue asks the client to wait."""


class PackageProcessor(BaseProcessor):  # type: ignore[misc]
    """The pygeoapi processor of one application package.

    Args:
        manager: the manager (store, runner, job records).
        process_id: the process (entry workflow) id.
    """

    def __init__(self, manager: PackageManager, process_id: str) -> None:
        package, description = manager.store.process(process_id)
        super().__init__({"name": process_id}, json.loads(json.dumps(description)))
        self.manager = manager
        self.process_id = process_id
        self.package = package
        self.job_id = ""

    def set_job_id(self, job_id: str) -> None:
        """Remember the job this processor instance runs.

        Args:
            job_id: the job id pygeoapi assigned.
        """
        self.job_id = job_id

    def workflow(self) -> dict[str, Any]:
        """The package's entry workflow as loaded from YAML."""
        document = yaml.safe_load(self.package.read_text(encoding="utf-8"))
        return entry_workflow(document)

    def job_order(self, data: dict[str, Any]) -> dict[str, Any]:
        """Check an execute request's inputs and return the CWL job order (`Problem` 400).

        Args:
            data: the request's ``inputs``.
        """
        workflow = self.workflow()
        order = to_job_order(
            data,
            input_specs(workflow),
            self.manager.settings.input_roots,
            secret_inputs(workflow),
        )
        check_domain(order)
        return order

    def execute(self, data: dict[str, Any], outputs: Any = None) -> tuple[str, Any]:
        """Run the workflow for the current job; return the results document.

        Args:
            data: the request's ``inputs``.
            outputs: requested outputs (all are returned).
        """
        manager = self.manager
        job_dir = manager.job_dir(self.job_id)
        workflow = self.workflow()
        steps = len(workflow.get("steps") or {}) or 1
        secrets = server_secrets(secret_inputs(workflow), manager.settings.credentials)

        def progress(percent: int, message: str) -> None:
            manager.update_job(
                self.job_id,
                {"progress": percent, "message": message, "updated": get_current_datetime()},
            )

        result = manager.runner.run_cwl(
            self.job_id,
            self.package,
            self.process_id,
            self.job_order(data),
            job_dir,
            progress,
            steps,
            secrets,
        )
        outdir = manager.job_dir(self.job_id) / "outputs"
        base = f"{manager.settings.base_url}/jobs/{self.job_id}/files"
        return "application/json", results_document(result, outdir, base)


class _Processes(OrderedDict[str, dict[str, Any]]):
    """pygeoapi's view of the processes: rebuilt from the store on each access."""


class PackageManager(TinyDBManager):  # type: ignore[misc]
    """pygeoapi process manager for application packages (TinyDB job records).

    Args:
        manager_def: pygeoapi's manager definition plus ``settings`` (a `ServerConfig`)
            and ``store`` (a `PackageStore`).
    """

    def __init__(self, manager_def: dict[str, Any]) -> None:
        self.settings: ServerConfig = manager_def["settings"]
        self.store: PackageStore = manager_def["store"]
        super().__init__(manager_def)
        self.runner = JobRunner(self.settings)
        self._recover()

    @property
    def processes(self) -> OrderedDict[str, dict[str, Any]]:
        """The processes, built-in and deployed, as pygeoapi resource definitions."""
        return _Processes(
            (pid, {"type": "process", "processor": {"name": pid}}) for pid in self.store.ids()
        )

    @processes.setter
    def processes(self, value: Any) -> None:
        """Ignored: processes come from the package store."""

    def get_processor(self, process_id: str) -> PackageProcessor:
        """The processor of a process; `Problem` 404 if there is none.

        Args:
            process_id: the process id.
        """
        return PackageProcessor(self, process_id)

    def job_dir(self, job_id: str) -> Path:
        """The job's folder.

        Args:
            job_id: the job id.
        """
        return self.settings.jobs_dir / job_id

    @contextlib.contextmanager
    def _db(self) -> Iterator[tinydb.TinyDB]:
        """The job database under its file lock, stored atomically."""
        self.lock = FileLock(f"{self.connection}.lock")
        with self.lock, tinydb.TinyDB(self.connection, storage=AtomicJSONStorage) as db:
            yield db

    def _recover(self) -> None:
        """Give the jobs a previous server left unfinished a definite state (module docstring)."""
        with self._db() as db:
            jobs = db.all()
            known = {str(job["identifier"]) for job in jobs}
            for job in jobs:
                job_id = str(job["identifier"])
                stop_orphans(self.job_dir(job_id))
                if job.get("status") == JobStatus.dismissed.value:
                    shutil.rmtree(self.job_dir(job_id), ignore_errors=True)
                    db.remove(tinydb.where("identifier") == job_id)
                elif job.get("status") in (JobStatus.accepted.value, JobStatus.running.value):
                    db.update(
                        {
                            "status": JobStatus.failed.value,
                            "message": "the server stopped before the job finished",
                            "finished": get_current_datetime(),
                            "updated": get_current_datetime(),
                        },
                        tinydb.where("identifier") == job["identifier"],
                    )
        jobs_dir = self.settings.jobs_dir
        for folder in jobs_dir.iterdir() if jobs_dir.is_dir() else ():
            if folder.is_dir() and folder.name not in known:
                stop_orphans(folder)
                shutil.rmtree(folder, ignore_errors=True)

    def execute_process(
        self,
        process_id: str,
        data_dict: dict[str, Any],
        execution_mode: RequestedProcessExecutionMode | None = None,
        requested_outputs: dict[str, Any] | None = None,
        subscriber: Any = None,
        requested_response: Any = "raw",
    ) -> tuple[str, str, Any, JobStatus, dict[str, str] | None]:
        """Check the inputs (400 before any job exists), then let pygeoapi create the job.

        Args:
            process_id: the process.
            data_dict: the request's ``inputs``.
            execution_mode: ``respond-async`` or ``wait``/none (synchronous).
            requested_outputs: the request's ``outputs``.
            subscriber: callback URLs (not supported: refused with 400).
            requested_response: ``raw`` or ``document``.
        """
        if subscriber is not None:
            raise Problem(400, "subscriber callbacks are not supported by this server")
        self.get_processor(process_id).job_order(data_dict)
        try:
            with self.runner.admission():
                result: tuple[str, str, Any, JobStatus, dict[str, str] | None] = (
                    super().execute_process(
                        process_id,
                        data_dict,
                        execution_mode,
                        requested_outputs,
                        None,
                        requested_response,
                    )
                )
        except QueueFullError as exc:
            raise Problem(
                503, f"{exc}; retry later", headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
            ) from None
        job_id, _, _, status, _ = result
        if status == JobStatus.failed:
            raise self.failure(self.get_job(job_id))
        return result

    def failure(self, job: dict[str, Any]) -> Problem:
        """The problem document of a failed job: its one-line reason and its log's URL.

        Args:
            job: the job record.
        """
        job_id = str(job["identifier"])
        return Problem(
            500,
            str(job.get("message") or "the job failed"),
            title="Job failed",
            jobID=job_id,
            jobLog=f"{self.settings.base_url}/jobs/{job_id}/log",
        )

    def _execute_handler_async(
        self,
        p: PackageProcessor,
        job_id: str,
        data_dict: dict[str, Any],
        requested_outputs: dict[str, Any] | None = None,
        subscriber: Any = None,
        requested_response: Any = "raw",
    ) -> tuple[str, None, JobStatus]:
        """Queue the job behind the running ones; it stays ``accepted`` until it starts."""
        self.update_job(
            job_id,
            {
                "message": "queued: waiting for a free job slot",
                "progress": 0,
                "mimetype": "application/json",
            },
        )
        self.runner.submit(
            job_id,
            lambda: self._run(p, job_id, data_dict, requested_response),
        )
        return "application/json", None, JobStatus.accepted

    def _execute_handler_sync(
        self,
        p: PackageProcessor,
        job_id: str,
        data_dict: dict[str, Any],
        requested_outputs: dict[str, Any] | None = None,
        subscriber: Any = None,
        requested_response: Any = "raw",
    ) -> tuple[str, Any, JobStatus]:
        """Run the job in a job slot (waiting for one) and return its results."""
        future = self.runner.submit(
            job_id, lambda: self._run(p, job_id, data_dict, requested_response)
        )
        return future.result()

    def _run(
        self, p: PackageProcessor, job_id: str, data_dict: dict[str, Any], requested_response: Any
    ) -> tuple[str, Any, JobStatus]:
        """Run one job in a worker thread and record its outcome (never raises)."""
        if self.runner.is_cancelled(job_id):
            return "application/json", None, JobStatus.dismissed
        job_dir = self.job_dir(job_id)
        job_dir.mkdir(parents=True, exist_ok=True)
        self.update_job(
            job_id,
            {
                "status": JobStatus.running.value,
                "message": "running",
                "progress": 10,
                "started": get_current_datetime(),
                "updated": get_current_datetime(),
            },
        )
        try:
            # raw and document responses alike: the OGC results document, keyed by output id
            mimetype, outputs = p.execute(data_dict)
            location = job_dir / "result.json"
            write_text_atomic(location, redact(json.dumps(outputs, indent=2)))
            self.update_job(
                job_id,
                {
                    "status": JobStatus.successful.value,
                    "message": "job complete",
                    "progress": 100,
                    "location": str(location),
                    "mimetype": mimetype,
                    "finished": get_current_datetime(),
                    "updated": get_current_datetime(),
                },
            )
            return mimetype, outputs, JobStatus.successful
        except JobCancelledError:
            return "application/json", None, JobStatus.dismissed
        except (JobFailedError, Problem) as exc:
            message = str(exc)
        except Exception as exc:  # a defect: logged with its traceback, one line in the job
            logger.exception("job %s failed unexpectedly", job_id)
            message = f"internal error ({type(exc).__name__}); see the job log"
        if self.runner.is_cancelled(job_id):
            return "application/json", None, JobStatus.dismissed
        self.update_job(
            job_id,
            {
                "status": JobStatus.failed.value,
                "message": redact(message),
                "finished": get_current_datetime(),
                "updated": get_current_datetime(),
            },
        )
        return "application/json", None, JobStatus.failed

    def delete_job(self, job_id: str) -> bool:
        """Dismiss a job: stop its run, remove its folder and its record.

        Args:
            job_id: the job id (`JobNotFoundError` if unknown).
        """
        self.get_job(job_id)
        self.update_job(job_id, {"status": JobStatus.dismissed.value})  # completed at restart
        self.runner.cancel(job_id)
        shutil.rmtree(self.job_dir(job_id), ignore_errors=True)
        with self._db() as db:
            if not db.remove(tinydb.where("identifier") == job_id):
                raise JobNotFoundError()  # a concurrent dismissal removed it first
        return True

    def get_job(self, job_id: str) -> dict[str, Any]:
        """The job record (`JobNotFoundError` if there is none or it is being dismissed).

        Args:
            job_id: the job id.
        """
        with self._db() as db:
            found = db.search(tinydb.Query().identifier == job_id)
        if not found or found[0].get("status") == JobStatus.dismissed.value:
            raise JobNotFoundError()  # a job being dismissed is gone for its clients
        return dict(found[0])
