"""Shared plumbing for the assignment2 packages.

Modules: ``data`` (one loader for every dataset), ``download`` (for users with internet),
``seeding``, ``grading`` (the task contract with the harness), ``runs`` (graded runs,
``open_graded_run``), ``progress`` (live training progress), ``plotting``, ``tables`` (Markdown
tables), ``keras_training`` (resumable cached Keras fits), ``model_cards``, ``notebooks`` and
``tf_env``. See ``packages/a2common/README.md``.
"""

__version__ = "0.1.0"
