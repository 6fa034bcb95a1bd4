"""Web demo of the graded models: draw a digit, upload a photo, browse the model cards.

``make demo`` (or ``python -m a2demo``) serves it on http://127.0.0.1:8000. The models come
from the autograder's graded runs, read-only; nothing here trains.

Example:

>>> import tempfile
>>> from pathlib import Path
>>> from starlette.testclient import TestClient
>>> from a2demo import DemoConfig, create_app
>>> app = create_app(DemoConfig(runs_root=Path(tempfile.mkdtemp())))  # no graded runs there
>>> states = TestClient(app).get("/api/models").json()
>>> {key: model["state"] for key, model in states.items()}
{'mlp': 'not_trained', 'cnn': 'not_trained', 'animals': 'not_trained'}
"""

from a2demo.app import DemoConfig, create_app
from a2demo.images import ImageError, ImageLimits, decode_image
from a2demo.models import DEMO_MODELS, ModelSlot, ModelUnavailable

__all__ = [
    "DEMO_MODELS",
    "DemoConfig",
    "ImageError",
    "ImageLimits",
    "ModelSlot",
    "ModelUnavailable",
    "create_app",
    "decode_image",
]
