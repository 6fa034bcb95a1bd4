"""Seed 001 part (b): a published custom dataset and the same CNN in Keras and PyTorch Lightning.

Modules (frameworks are imported only by the modules that need them):

* ``release``: write, verify and read the animals3 image-folder release (PNG tree, SHA256SUMS,
  DATASHEET.md from ``templates/datasheet.md.jinja``); ``dataset``: its command line;
* ``acquire``: download images from a list of URLs into a clean, deduplicated class folder;
* ``config``: the framework-neutral network and training configuration;
* ``torch_pooling`` / ``keras_pooling``: generalized-mean pooling with a learnable exponent;
* ``lightning_data`` / ``lightning_model`` / ``lightning_callbacks``: the Lightning side;
* ``keras_model``: the Keras side;
* ``tasks``: the graded task functions (they return test-set probabilities; the autograder
  computes the metrics and writes the model cards);
* ``train``: command line that opens (or makes) the graded runs;
* ``pretrained``, ``transfer_keras``, ``transfer_lightning``, ``contrastive``,
  ``domain_adaptation``: transfer learning (issue 16); ``transfer_tasks``: its graded tasks;
* ``classifier``: the published animals3 classifier (:func:`load_classifier`).

The published classifier loads with one call (the worked example, publishing a stand-in
model and loading it back, is in :mod:`lightning_cnn.classifier`)::

    from lightning_cnn import load_classifier
    classifier = load_classifier("animals3_classifier")
    classifier.predict_labels(["my_cat.png"])  # ['cats']
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__version__ = "0.1.0"


def load_classifier(path: str | Path | None = None, framework: str | None = None) -> Any:
    """Load the published animals3 classifier: :func:`lightning_cnn.classifier.load_classifier`.

    Imported lazily, so ``import lightning_cnn`` stays free of TensorFlow and torch.
    """
    from lightning_cnn.classifier import load_classifier as load

    return load(path, framework)
