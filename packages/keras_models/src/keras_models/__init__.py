"""Keras models for the assignment: MLPs and CNNs on MNIST, Fashion-MNIST and CIFAR-10.

Modules: ``data`` (shaping and ``tf.data`` pipelines), ``models`` (builders), ``training``
(schedules, chunked evaluation), ``losses`` (hand-written label smoothing), ``calibration``
(expected calibration error), ``search`` (grid search), ``recipes`` (training recipes),
``recipe_runs`` (train or load a recipe) and ``tasks`` (graded tasks). Model cards are written by
the autograder from the graded runs.

Seed 000, the four Keras problems: ``binary`` (Pima diabetes, binary cross-entropy),
``cifar7`` (7 CIFAR-10 classes, sparse categorical cross-entropy), ``logistic`` (Adult income,
a single-unit logistic regression compared with scikit-learn) and ``multihead`` (wine colour and
quality band, two heads), built on ``tabular`` (pandas in, preprocessing inside the model,
checked input), ``callbacks`` (macro-F1 callback, early stopping, TensorBoard), ``fitting``
(one training run) and ``tuning`` (keras-tuner).

Importing this package applies :mod:`a2common.tf_env` (oneDNN kernels on, quiet C++ logs)
unless the environment already says otherwise; set ``TF_ENABLE_ONEDNN_OPTS=0`` to opt out.
"""

import a2common.tf_env  # noqa: F401  (must precede the first TensorFlow import)

# isort: split

__version__ = "0.1.0"
