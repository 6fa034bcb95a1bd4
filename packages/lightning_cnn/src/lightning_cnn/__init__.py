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

Example: publish a model the way the graded runs are published (here a tiny stand-in Keras
model in a temporary folder, instead of ``python -m lightning_cnn.classifier publish``), then
load it with the one documented call:

>>> import tempfile, types
>>> from pathlib import Path
>>> import numpy as np
>>> import a2common.tf_env  # quiet TensorFlow: before Keras loads
>>> import keras
>>> from lightning_cnn.classifier import publish_classifier
>>> work = Path(tempfile.mkdtemp())
>>> inputs = keras.Input((64, 64, 3))
>>> logits = keras.layers.Dense(3)(keras.layers.GlobalAveragePooling2D()(inputs))
>>> keras.Model(inputs, logits).save(work / "model.keras")
>>> run = types.SimpleNamespace(  # what publish_classifier reads of a graded run
...     task="demo", path=work, result={}, model_path=lambda: work / "model.keras"
... )
>>> folder = publish_classifier(work / "animals3_classifier", runs={"keras": run})
>>> classifier = load_classifier(folder)
>>> classifier.predict_labels([np.zeros((64, 64, 3), np.uint8)])  # black image: equal logits
['cats']
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
