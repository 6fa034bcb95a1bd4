"""SqueezeNet and Xception written from scratch with Keras 3 (stock layers only).

Modules:

* :mod:`modern_convnets.squeezenet`: Fire modules, SqueezeNet v1.0 / v1.1 builders.
* :mod:`modern_convnets.xception`: Xception with entry, middle and exit flows.
* :mod:`modern_convnets.training`: CIFAR-10 / animals3 training (tf.data, augmentation,
  warm-up + cosine schedule, resumable), returning test-set class probabilities.
* :mod:`modern_convnets.profiling`: parameters, multiply-adds and CPU inference latency.

Submodules import TensorFlow; import them explicitly (this package module does not).
"""

__version__ = "0.1.0"
