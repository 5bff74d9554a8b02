"""Run the application package through one of the ADES's runners, as ZOO-Project-DRU does.

Runs in ``.venv-ades`` (the ``ades`` extra's pins): ``python run_runner.py calrissian|wes
PACKAGE WORK SCHEMA_URL INPUTS_JSON``. The runner's own code loads the package, checks the
inputs, wraps it with the stage-in/stage-out CWLs of this folder (named by the
``WRAPPER_STAGE_*`` variables, as the chart sets them), runs it and hands the outputs to its
execution handler; what a ZOO kernel would see is printed as one JSON object: the exit value,
the statuses, the outputs object and the handler's output values.

- ``calrissian``: zoo-calrissian-runner with its Kubernetes classes (`CalrissianContext`,
  `CalrissianJob`, `CalrissianExecution`) replaced by `LocalContext`, `LocalJob` and
  `LocalExecution`, which run the wrapped workflow with cwltool on this machine (in the step
  images when S1FLOOD_ADES_CONTAINERS=1, else ``--no-container`` with the images' paths mapped,
  local_run.py).
- ``wes``: zoo-wes-runner posting to the WES server at ``WES_URL`` (Toil's).

eoap-cwlwrap writes an import of the EOAP string-format schema's GitHub address into the
wrapped workflow; offline, its address constant is set to SCHEMA_URL (a 127.0.0.1 server of
string_format.yaml), the stage CWLs import the same address.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import zoo  # noqa: E402  (the stand-in, before the runners import theirs)
from local_run import local_document  # noqa: E402

WORKFLOW_ID = "s1flood-water-frequency"
NOTEBOOKS = HERE.parents[1] / "notebooks"
CONTAINERS = os.environ.get("S1FLOOD_ADES_CONTAINERS") == "1"


class LocalContext:
    """CalrissianContext's part the runner uses, on this machine (no namespace, no volume)."""

    calrissian_wdir = "calrissian-wdir"

    def __init__(self, namespace: str, **_kwargs: Any) -> None:
        self.namespace = namespace
        self.work = Path(os.environ["S1FLOOD_ADES_WORK"]) / namespace

    @classmethod
    def from_existing_namespace(cls, **kwargs: Any) -> LocalContext:
        return cls(**kwargs)

    def initialise(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)

    def dispose(self) -> None:
        """Kept for the test to read (a namespace would be deleted)."""


class LocalJob:
    """CalrissianJob: the wrapped workflow, its parameters and the runner's limits."""

    def __init__(
        self, cwl: dict[str, Any], params: dict[str, Any], runtime_context: LocalContext,
        cwl_entry_point: str = "main", max_cores: Any = None, max_ram: Any = None,
        **_kwargs: Any,
    ) -> None:  # fmt: skip
        self.cwl, self.params, self.context = cwl, params, runtime_context
        self.entry, self.max_cores, self.max_ram = cwl_entry_point, max_cores, max_ram


class LocalExecution:
    """CalrissianExecution: the job run by cwltool in a child process, polled like a pod."""

    def __init__(self, job: LocalJob, runtime_context: LocalContext) -> None:
        self.job, self.work = job, runtime_context.work
        self.process: subprocess.Popen[bytes] | None = None

    def submit(self) -> None:
        document = self.job.cwl if CONTAINERS else local_document(self.job.cwl, str(NOTEBOOKS))
        (self.work / "wrapped.cwl").write_text(yaml.safe_dump(self.job.cwl), encoding="utf-8")
        (self.work / "job.cwl").write_text(yaml.safe_dump(document), encoding="utf-8")
        (self.work / "params.json").write_text(json.dumps(self.job.params), encoding="utf-8")
        for name in ("tmp", "out"):
            (self.work / name).mkdir(exist_ok=True)
        command = [
            str(Path(sys.executable).with_name("cwltool")), "--parallel", "--disable-color",
            *([] if CONTAINERS else ["--no-container"]),
            "--tmpdir-prefix", f"{self.work}/tmp/", "--outdir", str(self.work / "out"),
            f"{self.work / 'job.cwl'}#{self.job.entry}", str(self.work / "params.json"),
        ]  # fmt: skip
        with (self.work / "stdout.json").open("wb") as out, (self.work / "log").open("wb") as log:
            self.process = subprocess.Popen(command, stdout=out, stderr=log, cwd=self.work)

    def monitor(self, interval: float = 1, wall_time: Any = None) -> None:
        assert self.process is not None
        while self.process.poll() is None:
            time.sleep(min(float(interval), 1.0))

    def is_complete(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def is_succeeded(self) -> bool:
        return self.is_complete() and self.process is not None and self.process.returncode == 0

    def get_output(self) -> dict[str, Any]:
        text = (self.work / "stdout.json").read_text(encoding="utf-8")
        return json.loads(text) if text.strip() else {}

    def get_log(self) -> str:
        return (self.work / "log").read_text(encoding="utf-8", errors="replace")

    def get_usage_report(self) -> dict[str, Any]:
        return {}

    def get_tool_logs(self) -> list[str]:
        # zoo-template-common 0.1.8's handle_outputs fails (KeyError: 'service_logs') when a
        # run has no tool log: the cwltool log is the one (Calrissian gives one per step)
        return [str(self.work / "log")]


def stage_cwls(work: Path, schema: str) -> None:
    """The stage-in/out CWLs importing `schema`, named by the chart's variables."""
    folder = work / "stage"
    folder.mkdir(parents=True, exist_ok=True)
    for name, variable in (
        ("stagein.cwl", "WRAPPER_STAGE_IN"),
        ("stagein-file.cwl", "WRAPPER_STAGE_IN_FILE"),
        ("stageout.cwl", "WRAPPER_STAGE_OUT"),
    ):
        text = (HERE / name).read_text(encoding="utf-8").replace("@SCHEMA@", schema)
        (folder / name).write_text(text, encoding="utf-8")
        os.environ[variable] = str(folder / name)
    # no File output, no File stage-out (a missing file: the runner leaves it out)
    os.environ["WRAPPER_STAGE_OUT_FILE"] = str(folder / "no-file-stage-out.cwl")


def main(kind: str, package: Path, work: Path, schema: str, inputs_file: Path) -> int:
    import eoap_cwlwrap
    import eoap_cwlwrap.types

    eoap_cwlwrap.URL_SCHEMA = eoap_cwlwrap.types.URL_SCHEMA = schema
    eoap_cwlwrap.types.URL_TYPE = f"{schema}#URI"
    stage_cwls(work, schema)
    os.environ["S1FLOOD_ADES_WORK"] = str(work)
    (work / "temp").mkdir(parents=True, exist_ok=True)
    usid = f"{kind}-{os.getpid()}"
    conf: dict[str, Any] = {
        "lenv": {"Identifier": WORKFLOW_ID, "usid": usid, "message": "", "cwd": str(work)},
        "main": {"tmpPath": str(work / "tmp"), "tmpUrl": "http://127.0.0.1/tmp"},
        "additional_parameters": {
            "stage_out_root": str(work / "bucket"),
            "region_name": "local",
            "endpoint_url": "http://127.0.0.1:9",
        },
    }
    inputs = json.loads(inputs_file.read_text(encoding="utf-8"))
    outputs: dict[str, Any] = {
        "results": {"mimeType": "application/json"},
        "identifiers": {},
        "scene_count": {},
    }
    cwl = yaml.safe_load(package.read_text(encoding="utf-8"))
    started = time.monotonic()
    if kind == "calrissian":
        import zoo_calrissian_runner as runners

        runners.CalrissianContext = LocalContext
        runners.CalrissianJob = LocalJob
        runners.CalrissianExecution = LocalExecution
        runners.copy_to_volume = lambda **_kwargs: None
        handler = runners.ExecutionHandler(conf=conf, inputs=inputs, outputs=outputs)
        runner: Any = runners.ZooCalrissianRunner(
            cwl=cwl, conf=conf, inputs=inputs, outputs=outputs, execution_handler=handler
        )
        runner.monitor_interval = 1
        exit_value = runner.execute()
        cwl_outputs = runner.execution.get_output() if runner.execution else {}
    else:
        from zoo_calrissian_runner import ExecutionHandler
        from zoo_wes_runner import ZooWESRunner

        handler = ExecutionHandler(conf=conf, inputs=inputs, outputs=outputs)
        runner = ZooWESRunner(
            cwl=cwl, conf=conf, inputs=inputs, outputs=outputs, execution_handler=handler
        )
        runner.monitor_interval = 1
        exit_value = runner.execute()
        cwl_outputs = getattr(runner, "demo_outputs", {})
    print(
        json.dumps(
            {
                "exit_value": exit_value,
                "seconds": round(time.monotonic() - started, 1),
                "statuses": zoo.progress,
                "cwl_outputs": cwl_outputs,
                "outputs": outputs,
                "usid": usid,
            },
            default=str,
        )
    )
    return 0


if __name__ == "__main__":
    kind, package, work, schema, inputs = sys.argv[1:6]
    sys.exit(main(kind, Path(package), Path(work), schema, Path(inputs)))
