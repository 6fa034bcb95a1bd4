"""Shared plumbing for the assignment2 packages.

Modules: ``data`` (one loader for every dataset), ``download`` (for users with internet),
``seeding``, ``grading`` (the task contract with the harness), ``plotting``, ``keras_training``
(resumable cached Keras fits), ``model_cards`` and ``notebooks``.
"""
__version__ = "0.1.0"
