"""Keras models for the assignment: MLPs and CNNs on MNIST, Fashion-MNIST and CIFAR-10.

Modules: ``data`` (shaping and ``tf.data`` pipelines), ``models`` (builders), ``training``
(schedules, chunked evaluation), ``losses`` (hand-written label smoothing), ``calibration``
(expected calibration error), ``search`` (grid search), ``tasks`` (graded tasks) and ``cards``
(model cards).

Importing this package applies :mod:`a2common.tf_env` (oneDNN kernels on, quiet C++ logs)
unless the environment already says otherwise; set ``TF_ENABLE_ONEDNN_OPTS=0`` to opt out.
"""
import a2common.tf_env  # noqa: F401  (must precede the first TensorFlow import)

__version__ = "0.1.0"
