"""3D convolutional classifiers (AdrenalMNIST3D) in Keras and PyTorch.

Status: package skeleton only; the models come with their own issue.
"""
__version__ = "0.1.0"
