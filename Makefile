# assignment2 — one entry point for graders, students and CI. `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
# pip's config here names local index folders that lack most packages: hide only those warnings
QUIET_PIP := { grep -v 'is ignored: it is neither' || true; }
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.setup-done
PACKAGES := a2common autograd keras_models lightning_cnn modern_convnets conv3d a2demo
PYPROJECTS := $(foreach p,$(PACKAGES),packages/$(p)/pyproject.toml) harness/pyproject.toml
# pip's find-links folder holds the CPU torch wheel; uv (tox-uv) must be told about it.
export UV_FIND_LINKS ?= $(shell $(PYTHON) -m pip config get global.find-links 2>/dev/null)
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export MPLBACKEND := Agg
QUICK ?=
QUICK_FLAG := $(if $(filter 1 true yes,$(QUICK)),--quick,)
PACKAGE ?=
ALLOW_DIRTY ?=
GRADE_FLAGS := $(QUICK_FLAG) $(if $(PACKAGE),--package $(PACKAGE),) \
    $(if $(filter 1 true yes,$(ALLOW_DIRTY)),--allow-dirty,)
PYTEST_ARGS ?=

.PHONY: help setup test lint tox grade notebooks cards tune bench clean

help:  ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

setup: $(STAMP)  ## create .venv and install every package editable, pinned by constraints.txt

$(STAMP): constraints.txt $(PYPROJECTS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@# metadata of distributions since renamed would still be found next to the sources
	rm -rf packages/*/src/*.egg-info harness/src/*.egg-info
	$(PY) -m pip uninstall -q -y assignment2-common assignment2-demo assignment2-harness \
	    2>/dev/null || true
	$(PY) -m pip install -q -c constraints.txt \
	    -e 'packages/a2common[cards,notebooks]' -e 'packages/autograd[test,apps]' \
	    -e packages/keras_models -e 'packages/lightning_cnn[contrastive]' \
	    -e 'packages/modern_convnets[diagrams]' -e packages/conv3d -e 'packages/a2demo[test]' \
	    -e 'harness[submission]' \
	    pytest pytest-timeout hypothesis ruff mypy pre-commit tox tox-uv 2>&1 | $(QUIET_PIP)
	$(PY) -m pip install -q --no-deps -c constraints.txt model-card-toolkit 2>&1 | $(QUIET_PIP)
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	$(PY) -m autograder check-env
	@touch $@

lint: $(STAMP)  ## ruff check (PEP8, pyflakes, import order) + ruff format --check + mypy, via pre-commit
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(VENV)/bin/pre-commit run --all-files

test: $(STAMP) lint  ## lint, then every package's and the harness's unit tests
	$(PY) -m pytest $(PYTEST_ARGS)

tox: $(STAMP)  ## the same checks in isolated per-package environments (tox + tox-uv)
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(VENV)/bin/tox run-parallel --parallel 2 --parallel-no-spinner

grade: $(STAMP)  ## train (or reuse) + grade every task → assignment2/results (QUICK=1, PACKAGE=name, ALLOW_DIRTY=1)
	$(PY) -m autograder grade $(GRADE_FLAGS)

notebooks: $(STAMP)  ## execute every notebook headless, in place (QUICK=1: small runs saved under build/notebooks-quick/)
	$(PY) -m a2common.notebooks $(QUICK_FLAG) $(wildcard packages/*/notebooks/*.ipynb)

cards: $(STAMP)  ## model cards of every graded model from the last full grade's results
	$(PY) -m autograder cards

tune: $(STAMP)  ## keras-tuner searches of the seed-000 problems → runs/tune/ (QUICK=1: two tiny trials, PROBLEM=pima|cifar7|adult|wine)
	$(PY) -m keras_models tune $(or $(PROBLEM),all) $(QUICK_FLAG)

bench: $(STAMP)  ## autograd vs PyTorch epoch-time benchmark (one thread)
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) packages/autograd/benchmarks/bench_vs_torch.py $(QUICK_FLAG)

clean:  ## remove caches and build litter (keeps .venv, runs/ and committed results)
	rm -rf .cache .tox .pytest_cache .hypothesis assignment2/results/quick
	find . -name __pycache__ -type d -prune -not -path './.venv/*' -exec rm -rf {} +
	find . -name '*.egg-info' -type d -prune -not -path './.venv/*' -exec rm -rf {} +

# --- issue 14: submission folder, API docs, Gradescope bundle (begin) ---
.PHONY: submission docs gradescope

submission: $(STAMP)  ## assignment2/: notebook HTML+PDF exports and README landing page from the last grade
	$(PY) -m autograder submission

docs: $(STAMP)  ## API reference (pdoc, from docstrings) + notebook links → assignment2/docs/api
	$(PY) -m autograder docs

gradescope: $(STAMP)  ## Gradescope autograder bundle → build/gradescope.zip (setup.sh, run_autograder)
	$(PY) -m autograder gradescope --out build/gradescope
# --- issue 14 (end) ---

# --- issue 14: web demo, packages/a2demo (begin) ---
.PHONY: demo bench-demo
DEMO_HOST ?= 127.0.0.1
DEMO_PORT ?= 8000
DEMO_REQUESTS ?= 200

demo: $(STAMP)  ## web demo on http://127.0.0.1:8000 from the graded runs (DEMO_HOST=, DEMO_PORT=)
	$(PY) -m a2demo --host $(DEMO_HOST) --port $(DEMO_PORT)

bench-demo: $(STAMP)  ## web demo latency p50/p95 per endpoint on loopback (DEMO_REQUESTS=200)
	$(PY) -m a2demo.bench -n $(DEMO_REQUESTS)
# --- issue 14: web demo (end) ---
