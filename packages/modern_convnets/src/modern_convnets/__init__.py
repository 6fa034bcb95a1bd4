"""SqueezeNet and Xception written from scratch with Keras 3.

Status: package skeleton only; the models come with their own issue.
"""
__version__ = "0.1.0"
