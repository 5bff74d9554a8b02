"""The three notebooks in a real browser: JupyterLab as `make lab` starts it, headless Chromium.

JupyterLab runs through ``scripts/lab.sh`` (127.0.0.1, a token, no browser) on a copy of the
notebooks beside freshly simulated demo data; Debian's ``chromium`` and ``chromium-driver``
(``scripts/chromium-local.sh``) are driven by selenium. Each notebook is opened, run with
Run > Run All Cells from the menu, saved with Ctrl-S; the test asserts that the ``s1flood``
kernel was picked without a dialog, no cell shows an error, every figure rendered, and the
outputs landed where the notebooks say. Run in order with their defaults, the notebooks end at
the demo event's map: every scene aggregated, flood candidates present. Screenshots are kept
in ``$S1FLOOD_TEST_ARTEFACTS/lab-browser`` (default: the test's temporary folder; the path
is printed). Skipped where Chromium cannot be installed (not root, no Debian archive).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pystac
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"
VENV = Path(sys.executable).parent.parent
KERNEL_DISPLAY = "Python (s1flood)"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
]
RUN_TIMEOUT = 300.0
"""Seconds a notebook may take to run all its cells (about 25 s at low load)."""

pytestmark = pytest.mark.slow


@dataclass
class Lab:
    url: str
    token: str
    work: Path
    """The folder holding notebooks/ (served), demo-data/ and demo-output/."""


def _browser_paths() -> tuple[str, str]:
    """Chromium and its driver; installed with apt where that is possible, else a skip."""
    script = str(SCRIPTS / "chromium-local.sh")
    found = subprocess.run([script, "paths"], capture_output=True, text=True, check=False)
    if found.returncode != 0 and os.geteuid() == 0:
        found = subprocess.run([script, "install"], capture_output=True, text=True, check=False)
    if found.returncode != 0:
        reason = (found.stderr.strip().splitlines() or ["scripts/chromium-local.sh failed"])[-1]
        pytest.skip(f"no Chromium: {reason}")
    paths = dict(line.split("=", 1) for line in found.stdout.split())
    return paths["CHROMIUM"], paths["CHROMEDRIVER"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _settings(folder: Path) -> Path:
    """JupyterLab user settings: every cell in the page (no windowing), no news fetched."""
    values = {
        "notebook-extension/tracker": {"windowingMode": "none"},
        "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    }
    for name, value in values.items():
        path = folder / "@jupyterlab" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    work = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "notebooks", work / "notebooks")
    subprocess.run(
        [sys.executable, str(SCRIPTS / "demo_data.py"), str(work / "demo-data"), "--size", "tiny"],
        check=True,
        capture_output=True,
    )
    port, token = _free_port(), "s1flood-browser-test"
    env = {**os.environ, "VENV": str(VENV), "LAB_PORT": str(port), "LAB_TOKEN": token}
    env["JUPYTER_CONFIG_DIR"] = str(work / "jupyter-config")
    env["JUPYTER_RUNTIME_DIR"] = str(work / "jupyter-runtime")
    log = (work / "lab.log").open("w")
    proc = subprocess.Popen(
        [
            str(SCRIPTS / "lab.sh"),
            str(work / "notebooks"),
            f"--LabApp.user_settings_dir={_settings(work / 'lab-settings')}",
            f"--LabApp.workspaces_dir={work / 'lab-workspaces'}",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start: {(work / 'lab.log').read_text()}")
                time.sleep(0.5)
        yield Lab(url, token, work)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    chromium, chromedriver = _browser_paths()
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = os.environ.get("S1FLOOD_TEST_ARTEFACTS")
    folder = Path(base) / "lab-browser" if base else tmp_path_factory.mktemp("lab-browser")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"screenshots: {folder}")
    return folder


def _wait(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


PAGE_STATE = """
const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
if (!panel) return null;
const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
    .map(p => p.textContent.trim());
return {
    kernel: (panel.querySelector('.jp-KernelName') || {}).textContent || '',
    prompts: prompts,
    dialogs: [...document.querySelectorAll('.jp-Dialog')].map(d => d.textContent.trim()),
    errors: [...panel.querySelectorAll(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
        .map(e => e.textContent.trim().slice(0, 300)),
    images: [...panel.querySelectorAll('.jp-OutputArea-output img')]
        .map(i => [i.complete, i.naturalWidth, i.naturalHeight]),
    dirty: panel.querySelector('.jp-mod-dirty') !== null
        || document.querySelector('.lm-TabBar-tab.jp-mod-current.jp-mod-dirty') !== null,
};
"""


def _kernels_idle(lab: Lab) -> bool:
    """Whether every kernel of the server reports ``idle``."""
    with urllib.request.urlopen(f"{lab.url}/api/kernels?token={lab.token}", timeout=10) as r:
        kernels = json.load(r)
    return bool(kernels) and all(k["execution_state"] == "idle" for k in kernels)


def _shut_down_kernels(lab: Lab) -> None:
    """End every session's kernel (through the server's REST API: clean-up, not under test)."""
    with urllib.request.urlopen(f"{lab.url}/api/sessions?token={lab.token}", timeout=10) as r:
        sessions = json.load(r)
    for session in sessions:
        request = urllib.request.Request(
            f"{lab.url}/api/sessions/{session['id']}?token={lab.token}", method="DELETE"
        )
        urllib.request.urlopen(request, timeout=30).close()


def _run_in_lab(driver: Any, lab: Lab, name: str, shots: Path) -> dict[str, Any]:
    """Open a notebook, Run All Cells from the menu, save it; the page's final state."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    # ?reset: a fresh workspace, so this notebook is the only panel
    driver.get(f"{lab.url}/lab/tree/{name}?reset&token={lab.token}")

    def session_started() -> dict[str, Any] | None:
        s = driver.execute_script(PAGE_STATE)
        kernel = s["kernel"].strip() if s else ""
        return s if s and (s["dialogs"] or kernel not in ("", "No Kernel")) else None

    _wait(session_started, 90, f"{name} to open on a kernel")
    time.sleep(1.0)  # a kernel-selection dialog, if any, shows as the session starts
    state = driver.execute_script(PAGE_STATE)
    driver.save_screenshot(str(shots / f"{Path(name).stem}-opened.png"))
    assert not state["dialogs"], f"{name}: a dialog opened: {state['dialogs']}"
    assert state["kernel"].strip() == KERNEL_DISPLAY, f"{name}: kernel {state['kernel']!r}"

    menu = _wait(
        lambda: [
            e
            for e in driver.find_elements(By.CSS_SELECTOR, ".lm-MenuBar-itemLabel")
            if e.text == "Run"
        ],
        10,
        "the Run menu",
    )
    menu[0].click()
    _wait(
        lambda: [
            e
            for e in driver.find_elements(By.CSS_SELECTOR, "#jp-mainmenu-run .lm-Menu-item")
            if e.text.startswith("Run All Cells")
        ],
        10,
        "Run > Run All Cells",
    )[0].click()
    started = time.monotonic()

    def finished() -> dict[str, Any] | None:
        s = driver.execute_script(PAGE_STATE)
        done = s and s["prompts"] and all(p.strip("[]: ").isdigit() for p in s["prompts"])
        return s if done and _kernels_idle(lab) else None

    state = _wait(finished, RUN_TIMEOUT, f"{name}: every cell to run")
    seconds = time.monotonic() - started
    driver.find_element(By.CSS_SELECTOR, ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook")
    driver.switch_to.active_element.send_keys(Keys.CONTROL, "s")
    _wait(lambda: not driver.execute_script(PAGE_STATE)["dirty"], 30, f"{name} to be saved")
    driver.execute_script(  # the last figure in view for the screenshot
        "const i = [...document.querySelectorAll('.jp-NotebookPanel .jp-OutputArea-output img')];"
        "if (i.length) i[i.length - 1].scrollIntoView({block: 'end'});"
    )
    time.sleep(0.5)
    driver.save_screenshot(str(shots / f"{Path(name).stem}-done.png"))
    _shut_down_kernels(lab)
    print(f"{name}: all cells in {seconds:.1f} s")
    state["seconds"] = seconds
    return dict(state)


def _saved_images(path: Path) -> int:
    """Image outputs in a saved notebook; it must hold no error output."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    images = 0
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error", f"{path.name}: {output.get('evalue')}"
            images += sum(1 for mime in output.get("data", {}) if mime.startswith("image/"))
    return images


def _check_cells(name: str, state: dict[str, Any], saved: Path) -> None:
    assert not state["errors"], f"{name}: a cell shows an error: {state['errors']}"
    assert not state["dialogs"], f"{name}: a dialog opened: {state['dialogs']}"
    images = state["images"]
    assert images, f"{name}: no figure"
    assert all(done and width > 0 and height > 0 for done, width, height in images), images
    assert len(images) == _saved_images(saved), f"{name}: figures shown != figures saved"


def test_notebooks_run_in_order_in_a_browser_end_at_the_demo_map(
    browser: Any, lab: Lab, screenshots: Path
) -> None:
    # `browser` first: where Chromium cannot be had, the test skips before simulating data
    notebooks, output = lab.work / "notebooks", lab.work / "demo-output" / "notebooks"
    catalog = pystac.Catalog.from_file(
        lab.work / "demo-data" / "simulation" / "catalog" / "catalog.json"
    )
    scenes = len(list(catalog.get_items(recursive=True)))

    state = _run_in_lab(browser, lab, "01-discover.ipynb", screenshots)
    _check_cells("01-discover.ipynb", state, notebooks / "01-discover.ipynb")
    identifiers = (notebooks / "identifiers.txt").read_text(encoding="utf-8").split()
    assert len(identifiers) == scenes >= 2, identifiers

    state = _run_in_lab(browser, lab, "02-classify.ipynb", screenshots)
    _check_cells("02-classify.ipynb", state, notebooks / "02-classify.ipynb")
    listed = (output / "scene" / "masks.txt").read_text(encoding="utf-8").split()
    assert len(listed) == len(identifiers)
    for name, mask in zip(identifiers, listed, strict=True):
        assert mask == f"masks/{name}_water.tif"
        assert (output / "scene" / mask).is_file()
    assert len(state["images"]) == len(identifiers) + 1  # a histogram each, the masks

    state = _run_in_lab(browser, lab, "03-aggregate.ipynb", screenshots)
    _check_cells("03-aggregate.ipynb", state, notebooks / "03-aggregate.ipynb")
    frequency = output / "frequency"
    for name in ("frequency.tif", "classes.tif", "classes.png", "catalog.json", "summary.json"):
        assert (frequency / name).is_file(), name
    summary = json.loads((frequency / "summary.json").read_text(encoding="utf-8"))
    assert summary["scene_count"] == len(identifiers), summary
    assert summary["area_km2"]["flood_candidate"] > 0, summary
