"""The FastAPI application: a page, JSON endpoints, and the guards in front of the models.

Endpoints (all JSON except ``/`` and ``/cards/<name>``):

========================  ====================================================================
``GET /``                 the page: draw a digit, upload a photo, browse the model cards
``GET /api/health``       ``{"status": "ok"}`` (no model is loaded)
``GET /api/models``       each model's state: ``ready``, ``available``, ``not_trained``, ``error``
``POST /api/digit``       form file ``image`` (the canvas PNG): MLP and CNN side by side
``POST /api/photo``       form file ``image``, query ``k`` (1-3): animals3 top-k probabilities
``POST /api/predict/{m}`` one model (``mlp``, ``cnn``: digit; ``animals``: photo); 503 if absent
``GET /api/cards``        the cards to browse; ``GET /cards/{name}`` one card (HTML)
========================  ====================================================================

Bad input gets a 4xx with ``{"error": <kind>, "detail": <message>}`` (see :mod:`a2demo.images`);
a model without a graded run gets a 503 naming the command that trains it. Request bodies are
capped by :class:`BodyLimit` before any parsing.

Example:

>>> from starlette.testclient import TestClient
>>> client = TestClient(create_app(DemoConfig(runs_root=Path("/nonexistent"))))
>>> client.get("/api/health").json()
{'status': 'ok'}
>>> client.post("/api/predict/cnn", files={"image": ("d.png", b"x")}).status_code
415
"""

from __future__ import annotations

import base64
import io
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Mapping

import numpy as np
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from PIL import Image
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from a2demo.cards import CardCatalogue
from a2demo.digits import mnist_digit
from a2demo.images import ImageError, ImageLimits, decode_image
from a2demo.models import (
    ANIMALS3_SIDE,
    DEMO_MODELS,
    RUN_KINDS,
    ModelSlot,
    ModelUnavailable,
    Predictor,
)

STATIC_DIR = Path(__file__).with_name("static")
DIGIT_MODELS = ("mlp", "cnn")
PHOTO_MODEL = "animals"
FORM_OVERHEAD_BYTES = 64 * 1024
"""Multipart boundaries and headers on top of the file itself."""


@dataclass
class DemoConfig:
    """Where the models and cards come from, and the input limits.

    Attributes:
        runs_root: graded runs folder (default: ``a2common.runs.runs_root()``, which honours
            ``$ASSIGNMENT2_RUNS_DIR``).
        run_kinds: run kinds to try, in order (``full`` then ``quick`` by default).
        cards_root: folder whose ``*/model_cards/*.html`` are browsable (default: the
            repository's ``packages`` folder, when the demo runs from a checkout).
        limits: upload limits.
        predictors: ready models by key (``mlp``, ``cnn``, ``animals``), replacing the runs.

    Example:

    >>> DemoConfig.from_env({"A2DEMO_RUNS": "quick", "A2DEMO_MAX_BYTES": "1000"}).run_kinds
    ('quick',)
    """

    runs_root: Path | None = None
    run_kinds: tuple[str, ...] = RUN_KINDS
    cards_root: Path | None = None
    limits: ImageLimits = field(default_factory=ImageLimits)
    predictors: Mapping[str, Predictor] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "DemoConfig":
        """``A2DEMO_RUNS`` (e.g. ``full,quick``), ``A2DEMO_CARDS_ROOT``, ``A2DEMO_MAX_BYTES``,
        ``A2DEMO_MAX_PIXELS``; the runs folder is ``$ASSIGNMENT2_RUNS_DIR`` as everywhere."""
        environ = os.environ if environ is None else environ
        kinds = tuple(
            kind.strip()
            for kind in environ.get("A2DEMO_RUNS", "full,quick").split(",")
            if kind.strip()
        )
        limits = ImageLimits(
            max_bytes=int(environ.get("A2DEMO_MAX_BYTES", ImageLimits.max_bytes)),
            max_pixels=int(environ.get("A2DEMO_MAX_PIXELS", ImageLimits.max_pixels)),
        )
        cards = environ.get("A2DEMO_CARDS_ROOT")
        return cls(run_kinds=kinds, limits=limits, cards_root=Path(cards) if cards else None)


class BadParameter(ImageError):
    """A query parameter out of range."""

    status = 422


class BodyTooLarge(Exception):
    """Raised inside :class:`BodyLimit`'s ``receive`` when the body passes the cap."""


class BodyLimit:
    """ASGI middleware: 413 for request bodies over ``max_bytes`` (declared or streamed).

    Example:

    >>> from starlette.testclient import TestClient
    >>> from fastapi import FastAPI
    >>> client = TestClient(BodyLimit(FastAPI(), max_bytes=10))
    >>> client.post("/", content=b"x" * 11).status_code
    413
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self._refuse(send)
            return
        received, started = 0, False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        response = _error(
            413, "UploadTooLarge", f"The request body is larger than {self.max_bytes:,} bytes."
        )
        await response({"type": "http"}, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def _error(status: int, kind: str, detail: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": kind, "detail": detail, **extra}, status_code=status)


def _top_k(probabilities: np.ndarray, class_names: tuple[str, ...], k: int) -> list[dict]:
    order = np.argsort(-probabilities)[:k]
    return [
        {"label": class_names[i], "probability": round(float(probabilities[i]), 6)} for i in order
    ]


def _png_data_url(digit: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(np.rint(digit * 255).astype(np.uint8)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def create_app(config: DemoConfig | None = None) -> FastAPI:
    """The demo application (models load on first use; nothing is trained).

    Example:

    >>> app = create_app(DemoConfig(runs_root=Path("/nonexistent")))
    >>> sorted(app.state.slots)
    ['animals', 'cnn', 'mlp']
    """
    config = config or DemoConfig()
    from a2common.runs import repository_root, runs_root

    root = config.runs_root or runs_root()
    cards_root, repository = config.cards_root, repository_root()
    if cards_root is None and repository is not None:
        cards_root = repository / "packages"
    slots = {
        key: ModelSlot(spec, runs=config.run_kinds, root=root, predictor=config.predictors.get(key))
        for key, spec in DEMO_MODELS.items()
    }
    catalogue = CardCatalogue(cards_root, root, [spec.task for spec in DEMO_MODELS.values()])
    limits = config.limits
    app = FastAPI(
        title="assignment2 demo",
        version="0.1.0",
        summary="Digits (autograd MLP vs Keras CNN), animals3 photos, model cards.",
    )
    app.state.slots, app.state.config = slots, config
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    async def read_image(request: Request) -> bytes:
        try:
            form = await request.form(max_files=1, max_fields=4)
        except BodyTooLarge:
            raise  # BodyLimit answers 413
        except Exception as error:  # malformed multipart, wrong content type
            raise ImageError(
                f"Expected a multipart/form-data body with a file field 'image'. "
                f"Received: an unreadable body ({error})."
            ) from error
        upload = form.get("image")
        if not isinstance(upload, UploadFile):
            raise ImageError(
                "Expected a multipart/form-data body with a file field 'image'. "
                f"Received fields: {sorted(form.keys())}."
            )
        return await upload.read(limits.max_bytes + 1)

    def guarded(
        handler: Callable[[Request], Awaitable[JSONResponse]],
    ) -> Callable[[Request], Awaitable[JSONResponse]]:
        async def endpoint(request: Request) -> JSONResponse:
            try:
                return await handler(request)
            except ImageError as error:
                return _error(error.status, type(error).__name__, str(error))
            except ModelUnavailable as error:
                return _error(503, "ModelUnavailable", str(error), state=error.state)

        endpoint.__name__ = handler.__name__
        endpoint.__doc__ = handler.__doc__
        return endpoint

    def digit_input(data: bytes) -> np.ndarray:
        return mnist_digit(decode_image(data, "L", limits))

    def photo_input(data: bytes) -> np.ndarray:
        image = decode_image(data, "RGB", limits)
        # the animals3 release resized every photo to 64x64 with bilinear interpolation
        image = image.resize((ANIMALS3_SIDE, ANIMALS3_SIDE), Image.Resampling.BILINEAR)
        return np.asarray(image, dtype=np.float32)

    def answer(key: str, example: np.ndarray, k: int) -> dict[str, Any]:
        slot = slots[key]
        batch = example.reshape(1, *slot.spec.input_shape).astype(np.float32)
        slot.get()  # the first request loads the model: not part of the inference time
        start = time.perf_counter()
        probabilities = slot.predict(batch)[0]
        latency_ms = (time.perf_counter() - start) * 1000
        return {
            "key": key,
            "task": slot.spec.task,
            "title": slot.spec.title,
            "state": "ready",
            "run": slot.run_kind,
            "label": slot.spec.class_names[int(probabilities.argmax())],
            "top_k": _top_k(probabilities, slot.spec.class_names, k),
            "inference_ms": round(latency_ms, 2),
        }

    def parse_k(request: Request, key: str) -> int:
        classes = len(DEMO_MODELS[key].class_names)
        raw = request.query_params.get("k", str(min(3, classes)))
        if not raw.isdigit() or not 1 <= int(raw) <= classes:
            raise BadParameter(f"Expected k between 1 and {classes}. Received: k={raw!r}")
        return int(raw)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    @app.get("/api/health")
    async def health() -> dict[str, str]:
        """Liveness: answers without touching a model."""
        return {"status": "ok"}

    @app.get("/api/models")
    async def models() -> dict[str, Any]:
        """Each model's state (no model is loaded by this call)."""
        return {key: await run_in_threadpool(slot.status) for key, slot in slots.items()}

    @app.post("/api/digit")
    @guarded
    async def digit(request: Request) -> JSONResponse:
        """Both digit models on one drawing; 503 only when neither can answer."""
        data = await read_image(request)
        example = await run_in_threadpool(digit_input, data)
        results: dict[str, Any] = {}
        for key in DIGIT_MODELS:
            try:
                results[key] = await run_in_threadpool(answer, key, example, 3)
            except ModelUnavailable as error:
                results[key] = {
                    "key": key,
                    "task": DEMO_MODELS[key].task,
                    "title": DEMO_MODELS[key].title,
                    "state": error.state,
                    "detail": str(error),
                }
        body = {"input_28x28": _png_data_url(example), "models": results}
        if all(result["state"] != "ready" for result in results.values()):
            return _error(
                503, "ModelUnavailable", " ".join(r["detail"] for r in results.values()), **body
            )
        return JSONResponse(body)

    @app.post("/api/photo")
    @guarded
    async def photo(request: Request) -> JSONResponse:
        """The animals3 transfer model's top-k classes of one photo."""
        k = parse_k(request, PHOTO_MODEL)
        data = await read_image(request)
        example = await run_in_threadpool(photo_input, data)
        return JSONResponse(await run_in_threadpool(answer, PHOTO_MODEL, example, k))

    @app.post("/api/predict/{key}")
    async def predict_one(key: str, request: Request) -> JSONResponse:
        """One model by key; digit models take a drawing, ``animals`` a photo."""
        if key not in slots:
            return _error(
                404, "UnknownModel", f"Expected one of {sorted(slots)}. Received: {key!r}"
            )

        async def handler(request: Request) -> JSONResponse:
            k = parse_k(request, key)
            data = await read_image(request)
            prepare = photo_input if key == PHOTO_MODEL else digit_input
            example = await run_in_threadpool(prepare, data)
            return JSONResponse(await run_in_threadpool(answer, key, example, k))

        handler.__name__ = f"predict_{key}"
        return await guarded(handler)(request)

    @app.get("/api/cards")
    async def cards() -> list[dict[str, str]]:
        """The browsable model cards."""
        return [
            {"name": entry.name, "source": entry.source, "url": f"/cards/{entry.name}"}
            for entry in await run_in_threadpool(catalogue.listing)
        ]

    @app.get("/cards/{name}", response_class=HTMLResponse)
    async def card(name: str) -> HTMLResponse:
        """One model card (only names from ``/api/cards``)."""
        entry = await run_in_threadpool(catalogue.get, name)
        if entry is None:
            return HTMLResponse(
                f"<p>No model card called {name!r}. See /api/cards.</p>", status_code=404
            )
        return HTMLResponse(await run_in_threadpool(catalogue.html, entry))

    app.add_middleware(BodyLimit, max_bytes=limits.max_bytes + FORM_OVERHEAD_BYTES)
    return app
