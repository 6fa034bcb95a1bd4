"""Latency of the demo's endpoints over real HTTP on loopback: p50 / p95 per endpoint.

``python -m a2demo.bench [-n 200] [--runs full,quick]`` (``make bench-demo``) starts the
server in this process with the graded runs (``$ASSIGNMENT2_RUNS_DIR`` or ``runs/``), warms
each model up once (the first request loads it), then times ``n`` sequential requests per
endpoint. It prints the machine (CPU count, load average before and after) because on a
shared machine the numbers mean little without it. Endpoints whose model has no graded run are
reported as such, not timed.

Example:

>>> percentile([1.0, 2.0, 3.0, 4.0], 50)
2.5
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import sys
import time
from typing import Any

import numpy as np
from PIL import Image, ImageDraw


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (linear interpolation, numpy's default)."""
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def sample_digit_png() -> bytes:
    """A drawn "7", white on black, as the page's canvas sends it."""
    canvas = Image.new("L", (280, 280), 0)
    ImageDraw.Draw(canvas).line([(70, 70), (210, 70), (120, 230)], fill=255, width=18)
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG")
    return buffer.getvalue()


def sample_photo_jpeg(side: int = 480, seed: int = 0) -> bytes:
    """A synthetic ``side`` x ``side`` JPEG (latency does not depend on the content)."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(side, side, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def machine() -> dict[str, Any]:
    """CPU count, load average, this process's niceness and the platform."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {
        "cpus": os.cpu_count(),
        "load_average_1_5_15": [round(x, 2) for x in load],
        "niceness": os.nice(0) if hasattr(os, "nice") else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def time_endpoint(url: str, data: bytes, filename: str, requests: int) -> dict[str, Any]:
    """Warm up once, then ``requests`` sequential POSTs; client-side milliseconds."""
    from a2demo.server import post_image

    status, body = post_image(url, data, filename)
    if status != 200:
        return {"status": status, "detail": body.get("detail", body)}
    client_ms, server_ms = [], []
    for _ in range(requests):
        start = time.perf_counter()
        status, body = post_image(url, data, filename)
        client_ms.append((time.perf_counter() - start) * 1000)
        if status != 200:
            return {"status": status, "detail": body.get("detail", body)}
        models = body.get("models", {"one": body})
        server_ms.append(sum(m.get("inference_ms", 0.0) for m in models.values()))
    return {
        "status": 200,
        "requests": requests,
        "runs": _runs(body),
        "p50_ms": round(percentile(client_ms, 50), 1),
        "p95_ms": round(percentile(client_ms, 95), 1),
        "max_ms": round(max(client_ms), 1),
        "inference_p95_ms": round(percentile(server_ms, 95), 1),
    }


def _runs(body: dict[str, Any]) -> dict[str, Any]:
    models = body.get("models", {body.get("key", "model"): body})
    return {key: model.get("run") for key, model in models.items()}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one JSON report."""
    parser = argparse.ArgumentParser(
        prog="python -m a2demo.bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument("-n", "--requests", type=int, default=200)
    parser.add_argument("--runs", default="full,quick", help="run kinds to try, in order")
    args = parser.parse_args(argv)
    if args.requests < 1:
        parser.error(f"Expected --requests >= 1. Received: {args.requests}")
    from a2demo.app import DemoConfig, create_app
    from a2demo.server import serve_in_thread

    config = DemoConfig.from_env({**os.environ, "A2DEMO_RUNS": args.runs})
    report: dict[str, Any] = {
        "machine_before": machine(),
        "requests": args.requests,
        "concurrency": 1,
        "endpoints": {},
    }
    with serve_in_thread(create_app(config)) as base_url:
        for name, path, data, filename in (
            ("digit (mlp + cnn)", "/api/digit", sample_digit_png(), "digit.png"),
            ("photo (animals)", "/api/photo", sample_photo_jpeg(), "photo.jpg"),
        ):
            print(f"timing {name}: {args.requests} requests ...", file=sys.stderr, flush=True)
            report["endpoints"][name] = time_endpoint(
                base_url + path, data, filename, args.requests
            )
    report["machine_after"] = machine()
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
