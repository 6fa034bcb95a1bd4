"""Seed 001 part (b): a published custom dataset and the same CNN in Keras and PyTorch Lightning.

Modules (frameworks are imported only by the modules that need them):

* ``dataset``: publish animals3 as an image-folder release (PNG tree, SHA256SUMS, DATASHEET.md);
* ``acquire``: download images from a list of URLs into a clean, deduplicated class folder;
* ``config``: the framework-neutral network and training configuration;
* ``torch_pooling`` / ``keras_pooling``: generalized-mean pooling with a learnable exponent;
* ``lightning_data`` / ``lightning_model`` / ``lightning_callbacks``: the Lightning side;
* ``keras_model``: the Keras side;
* ``tasks``: the graded task functions (they return test-set probabilities; the autograder
  computes the metrics and writes the model cards);
* ``train``: command line that opens (or makes) the graded runs.
"""
__version__ = "0.1.0"
