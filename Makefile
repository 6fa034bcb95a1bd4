# assignment2 — one entry point for graders, students and CI. `make help` lists the targets.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
# pip's config here names local index folders that lack most packages: hide only those warnings
QUIET_PIP := { grep -v 'is ignored: it is neither' || true; }
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.setup-done
PACKAGES := common autograd keras_models lightning_cnn modern_convnets conv3d
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

.PHONY: help setup test lint tox grade notebooks cards bench clean

help:  ## list the targets
	@grep -hE '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

setup: $(STAMP)  ## create .venv and install every package editable, pinned by constraints.txt

$(STAMP): constraints.txt $(PYPROJECTS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -c constraints.txt \
	    -e 'packages/common[cards,notebooks]' -e 'packages/autograd[test,apps]' \
	    -e packages/keras_models -e packages/lightning_cnn -e packages/modern_convnets \
	    -e packages/conv3d -e harness \
	    pytest pytest-timeout hypothesis flake8 tox tox-uv 2>&1 | $(QUIET_PIP)
	$(PY) -m pip install -q --no-deps -c constraints.txt model-card-toolkit 2>&1 | $(QUIET_PIP)
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	$(PY) -m autograder check-env
	@touch $@

lint: $(STAMP)  ## PEP8 over the whole tree (flake8)
	$(PY) -m flake8

test: $(STAMP) lint  ## lint, then every package's and the harness's unit tests
	$(PY) -m pytest $(PYTEST_ARGS)

tox: $(STAMP)  ## the same checks in isolated per-package environments (tox + tox-uv)
	PATH=$(CURDIR)/$(VENV)/bin:$$PATH $(VENV)/bin/tox run-parallel --parallel 2 --parallel-no-spinner

grade: $(STAMP)  ## train (or reuse) + grade every task → assignment2/results (QUICK=1, PACKAGE=name, ALLOW_DIRTY=1)
	$(PY) -m autograder grade $(GRADE_FLAGS)

notebooks: $(STAMP)  ## execute every notebook headless (QUICK=1: small runs, for CI)
	$(PY) -m a2common.notebooks $(QUICK_FLAG) $(wildcard packages/*/notebooks/*.ipynb)

cards: $(STAMP)  ## model cards of every graded model from the last full grade's results
	$(PY) -m autograder cards

bench: $(STAMP)  ## autograd vs PyTorch epoch-time benchmark (one thread)
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) packages/autograd/benchmarks/bench_vs_torch.py $(QUICK_FLAG)

clean:  ## remove caches and build litter (keeps .venv, runs/ and committed results)
	rm -rf .cache .tox .pytest_cache .hypothesis assignment2/results/quick
	find . -name __pycache__ -type d -prune -not -path './.venv/*' -exec rm -rf {} +
	find . -name '*.egg-info' -type d -prune -not -path './.venv/*' -exec rm -rf {} +
