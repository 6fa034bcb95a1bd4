"""A bounded load test on loopback: 500 requests, 8 at a time, good and bad mixed: no 5xx."""

from __future__ import annotations

import io
import json
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from PIL import Image

from a2demo.app import DemoConfig, create_app
from a2demo.server import post_image, serve_in_thread

REQUESTS = 500
CONCURRENCY = 8


def test_500_requests_at_concurrency_8_give_no_5xx(tiny_runs, digit_png, photo_png):
    buffer = io.BytesIO()
    Image.new("L", (200, 200), 0).save(buffer, format="PNG")
    cases = [  # (path, bytes, the status it must get)
        ("/api/digit", digit_png, 200),
        ("/api/photo", photo_png, 200),
        ("/api/predict/mlp", digit_png, 200),
        ("/api/photo", b"not an image", 415),
        ("/api/digit", buffer.getvalue(), 422),  # empty canvas
        ("/api/photo", photo_png[:300], 422),  # truncated
    ]
    app = create_app(DemoConfig(runs_root=tiny_runs))
    with serve_in_thread(app) as base_url:

        def one(index: int) -> tuple[int, int]:
            path, data, expected = cases[index % len(cases)]
            status, _ = post_image(base_url + path, data, timeout_s=120)
            return status, expected

        with ThreadPoolExecutor(CONCURRENCY) as pool:
            outcomes = list(pool.map(one, range(REQUESTS)))
        with urllib.request.urlopen(base_url + "/api/health", timeout=30) as response:
            health = json.loads(response.read())
    statuses = Counter(status for status, _ in outcomes)
    assert sum(count for status, count in statuses.items() if status >= 500) == 0, statuses
    assert all(status == expected for status, expected in outcomes), statuses
    assert health == {"status": "ok"}  # still serving
