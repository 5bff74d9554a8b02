# Entry points for a fresh machine (Python >= 3.11 with venv, make):
#   make demo   install into .venv, simulate the demo products (once), run the CWL workflow
#               (cwltool, no containers) on them and print where the map is
#   make test   install into .venv (and Toil into .venv-toil), run lint, type checks, tests
#   make lab    open the notebooks in JupyterLab on the project's kernel
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_DIR ?= demo-output
# The offline demo's simulated products, DEM and STAC catalog (parameters/demo.yml points here)
DEMO_DATA ?= demo-data
DEMO_SCENES ?= 4
DEMO_SIZE ?= small
KERNEL ?= s1flood
# Toil pins cwltool exactly, so it lives in its own venv
TOIL_VENV ?= .venv-toil
TOIL_STAMP := $(TOIL_VENV)/.installed-stamp
# The ADES's runner code, Toil's WES server and the package validators: the `ades` extra's pins
# (pyproject.toml), in their own venv (they pin cwltool through Toil)
ADES_VENV ?= .venv-ades
ADES_STAMP := $(ADES_VENV)/.installed-stamp
# The tools call `s1flood` from PATH (no containers here; the images are issue 12)
RUN_PATH := PATH="$(abspath $(BIN)):$$PATH"
# One cache (DEM tiles, orbits, matplotlib's and IPython's) for every job of a run: cwltool
# gives each job a fresh HOME, so the run's environment carries the user's own cache folder
RUN_CACHE := S1FLOOD_CACHE_DIR="$${S1FLOOD_CACHE_DIR:-$${XDG_CACHE_HOME:-$$HOME/.cache}/s1flood}"
CWLTOOL := $(RUN_PATH) $(RUN_CACHE) $(BIN)/cwltool --enable-ext --no-container --parallel \
	--preserve-environment S1FLOOD_CACHE_DIR

# numba compiles the kernels on their first call and caches them beside the sources: a tiny
# demo at install pays that once, instead of the first workflow job (and the Dockerfiles do
# the same at build time, see docker/base.Dockerfile)
WARM_DIR := $(VENV)/.warm-kernels
WARM_KERNELS = $(BIN)/s1flood -q demo --size tiny --scenes 2 --out-dir $(WARM_DIR) --overwrite \
	>/dev/null && rm -rf $(WARM_DIR)

.PHONY: install demo demo-data demo-python lab toil ades test lint bench clean images package infra-stop

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,sar,discovery,notebooks,cwl,ogc,browser]'
	$(BIN)/python -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (s1flood)"
	$(WARM_KERNELS)
	touch $(STAMP)

demo-data: $(DEMO_DATA)/dem.tif

$(DEMO_DATA)/dem.tif: | $(STAMP)
	$(BIN)/python scripts/demo_data.py $(DEMO_DATA) --scenes $(DEMO_SCENES) --size $(DEMO_SIZE)

demo: $(STAMP) demo-data
	rm -rf $(DEMO_DIR)/workflow && mkdir -p $(DEMO_DIR)
	$(CWLTOOL) --outdir $(DEMO_DIR)/workflow cwl/workflow.cwl parameters/demo.yml > $(DEMO_DIR)/workflow.json
	@echo "map (PNG):      $(DEMO_DIR)/workflow/results/frequency/classes.png"
	@echo "COGs:           $(DEMO_DIR)/workflow/results/frequency/"
	@echo "flood record:   $(DEMO_DIR)/workflow/results/frequency/{first,last}_flooded.tif, duration_{min,max}_days.tif, depth_max.tif, flooded_area.png"
	@$(BIN)/python -m s1flood.flood.report $(DEMO_DIR)/workflow/results/frequency/summary.json
	@echo "STAC catalog:   $(DEMO_DIR)/workflow/results/catalog.json (every result file)"
	@echo "notebooks:      $(DEMO_DIR)/workflow/results/notebooks/, results/scenes/*/"

# The same steps called in one Python process, with accuracy against the simulated truth
demo-python: $(STAMP)
	$(BIN)/s1flood -v demo --out-dir $(DEMO_DIR)/python --overwrite

# JupyterLab on 127.0.0.1 with a token (printed with the URL), no browser opened: the same
# script the browser test starts (tests/test_56_lab_browser.py)
lab: $(STAMP) demo-data
	VENV=$(VENV) scripts/lab.sh notebooks $(LAB_FLAGS)

toil: $(TOIL_STAMP)

$(TOIL_STAMP): cwl/requirements-toil.txt
	$(PYTHON) -m venv $(TOIL_VENV)
	$(TOIL_VENV)/bin/python -m pip install --quiet -r cwl/requirements-toil.txt
	touch $(TOIL_STAMP)

ades: $(ADES_STAMP)

$(ADES_STAMP): pyproject.toml
	$(PYTHON) -m venv $(ADES_VENV)
	$(PYTHON) -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['optional-dependencies']['ades']))" > $(ADES_VENV)/requirements.txt
	$(ADES_VENV)/bin/python -m pip install --quiet -r $(ADES_VENV)/requirements.txt
	touch $(ADES_STAMP)

# Step images (docker/) on the project's own Docker engine, started by hand (root; see
# scripts/docker-local.sh); the base from debootstrap here (S1FLOOD_BASE_IMAGE=default: Debian's)
DOCKER_ENV := DOCKER_HOST=unix://$${S1FLOOD_DOCKER_SOCK:-/run/s1flood-docker.sock} S1FLOOD_DOCKER=/usr/bin/docker

images:
	scripts/docker-local.sh start >/dev/null
	scripts/docker-build-images.sh
	@echo "the steps' images are built; run the workflow in them (venv active):"
	@echo "  export DOCKER_HOST=unix://$${S1FLOOD_DOCKER_SOCK:-/run/s1flood-docker.sock}"
	@echo "  cwl-runner cwl/workflow.cwl parameters/demo.yml"

# The application package, its images pushed to the registry on 127.0.0.1 and pinned by digest
package: images $(STAMP)
	scripts/registry-local.sh start >/dev/null
	$(DOCKER_ENV) $(BIN)/s1flood package --registry "$$(scripts/registry-local.sh address)" \
		--output dist/s1flood-water-frequency.cwl

# Stop what images/package/tests started (by the PIDs the scripts recorded)
infra-stop:
	scripts/registry-local.sh stop
	scripts/slurm-local.sh stop
	scripts/docker-local.sh stop

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks notebooks scripts
	$(BIN)/ruff format --check src tests benchmarks scripts
	$(BIN)/mypy

# The browser test installs Debian's chromium itself (root; it skips where apt cannot)
test: lint $(TOIL_STAMP) $(ADES_STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_classify.py
	$(BIN)/python benchmarks/bench_aggregate.py
	$(BIN)/python benchmarks/bench_preprocess.py
	$(BIN)/python benchmarks/bench_preprocess_accuracy.py
	$(BIN)/python benchmarks/bench_simulate.py
	$(BIN)/python benchmarks/bench_simulate_accuracy.py
	$(BIN)/python benchmarks/bench_workflow.py

clean:
	rm -rf $(VENV) $(TOIL_VENV) $(ADES_VENV) $(DEMO_DIR) $(DEMO_DATA) benchmarks/.cache
