#!/usr/bin/env bash
# Gradescope image setup for the assignment2 autograder (runs once, as root, when the image is
# built). Installs the pinned stack of constraints.txt into /autograder/venv, like `make setup`
# does locally. Assumes a Debian/Ubuntu base image; Python 3.11 is required by the packages.
set -euo pipefail
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${PYTHON:-python3.11}"

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends make python3.11 python3.11-venv
# Fashion-MNIST (a2common.data finds it under /usr/share/datasets); Debian/Ubuntu package.
apt-get install -y --no-install-recommends dataset-fashion-mnist \
    || echo "setup.sh: dataset-fashion-mnist is not available here; Fashion-MNIST tasks will fail"

"$PYTHON" -m venv "$ROOT/venv"
PIP=("$ROOT/venv/bin/python" -m pip install --disable-pip-version-check -c "$SOURCE/constraints.txt"
     --extra-index-url https://download.pytorch.org/whl/cpu)
# The same distributions and grading extras as the Makefile's setup target (contrastive: the
# text tower that task animals3_contrastive needs); keep the two lists in step.
# Not editable: run_autograder puts the submission's packages first on PYTHONPATH, so these
# installs only provide the dependencies (and a fallback copy of the reference packages).
"${PIP[@]}" "$SOURCE/packages/a2common" "$SOURCE/packages/autograd" \
    "$SOURCE/packages/keras_models" "$SOURCE/packages/lightning_cnn[contrastive]" \
    "$SOURCE/packages/modern_convnets" "$SOURCE/packages/conv3d" "$SOURCE/harness"
