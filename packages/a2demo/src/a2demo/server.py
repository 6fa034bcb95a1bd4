"""Run the demo in a background thread on loopback (benchmarks, load and browser tests).

Example:

A demo whose photo model is a stand-in that gives every class the same probability, asked
over real HTTP on loopback:

>>> import io
>>> import numpy as np
>>> from PIL import Image
>>> from a2demo.app import DemoConfig, create_app
>>> class Uniform:
...     def predict(self, batch):
...         return np.full((len(batch), 3), 1 / 3)
>>> png = io.BytesIO()
>>> Image.new("RGB", (32, 32), "orange").save(png, format="PNG")
>>> app = create_app(DemoConfig(predictors={"animals": Uniform()}))
>>> with serve_in_thread(app) as base_url:
...     status, body = post_image(base_url + "/api/photo", png.getvalue())
>>> status, body["label"], [round(item["probability"], 3) for item in body["top_k"]]
(200, 'cats', [0.333, 0.333, 0.333])
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager
from typing import Any, Iterator


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve_in_thread(
    app: Any, host: str = "127.0.0.1", port: int | None = None, startup_timeout_s: float = 30.0
) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a daemon thread; yields the base URL; stops on exit."""
    import uvicorn

    port = port or free_port(host)
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, name="a2demo-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(
                f"The demo server did not start on {host}:{port} within {startup_timeout_s} s."
            )
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def multipart_body(
    field: str, filename: str, data: bytes, content_type: str = "application/octet-stream"
) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body with one file; returns ``(body, content_type_header)``.

    Example:

    >>> body, header = multipart_body("image", "a.png", b"123")
    >>> header.startswith("multipart/form-data; boundary="), b'name="image"' in body
    (True, True)
    """
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
        f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'
    ).encode()
    return (
        head + data + f"\r\n--{boundary}--\r\n".encode(),
        f"multipart/form-data; boundary={boundary}",
    )


def post_image(
    url: str, data: bytes, filename: str = "image.png", timeout_s: float = 60.0
) -> tuple[int, dict[str, Any]]:
    """POST one file as form field ``image`` (stdlib only); returns ``(status, json_body)``."""
    body, content_type = multipart_body("image", filename, data)
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": content_type}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        payload = error.read()
        try:
            return error.code, json.loads(payload or b"{}")
        except json.JSONDecodeError:
            return error.code, {"detail": payload.decode(errors="replace")}
