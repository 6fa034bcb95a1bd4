"""The page in headless Chromium (system browser, Playwright): draw, upload, read the answers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from a2demo.app import DemoConfig, create_app
from a2demo.browser import SYSTEM_CHROMIUM, chromium_path, exercise_page
from a2demo.server import serve_in_thread

CHROMIUM = chromium_path()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason=f"browser test skipped: no Chromium at {SYSTEM_CHROMIUM} "
    f"(apt-get install chromium, or set $A2DEMO_CHROMIUM)",
)


def screenshot_dir(tmp_path: Path) -> Path:
    """``$A2DEMO_SCREENSHOTS_DIR`` keeps the screenshots; by default they go to tmp_path."""
    return Path(os.environ.get("A2DEMO_SCREENSHOTS_DIR", tmp_path))


def test_draw_upload_and_read_predictions(tiny_runs, tmp_path, photo_png):
    pytest.importorskip("playwright", reason="browser test skipped: playwright not installed")
    photo = tmp_path / "photo.png"
    photo.write_bytes(photo_png)
    shots = screenshot_dir(tmp_path)
    app = create_app(DemoConfig(runs_root=tiny_runs, cards_root=tmp_path))
    with serve_in_thread(app) as base_url:
        shown = exercise_page(base_url, photo, shots, CHROMIUM, prefix="test")
    for key in ("mlp", "cnn"):
        label, *bars = shown["digit"][key].splitlines()
        assert label in list("0123456789") and "%" in bars[0] and "full run" in bars[-1]
    assert shown["photo"].splitlines()[0] in ("cats", "dogs", "panda")
    assert "quick smoke run" in shown["photo"] and shown["photo_error"] == ""
    assert "autograd_mnist_mlp" in shown["cards"]
    for name in ("test_digit.png", "test_photo.png", "test_page.png"):
        assert (shots / name).stat().st_size > 1000


def test_page_says_not_trained_yet_and_keeps_working(tmp_path, photo_png):
    pytest.importorskip("playwright", reason="browser test skipped: playwright not installed")
    photo = tmp_path / "photo.png"
    photo.write_bytes(photo_png)
    app = create_app(DemoConfig(runs_root=tmp_path / "no_runs", cards_root=tmp_path))
    with serve_in_thread(app) as base_url:
        shown = exercise_page(
            base_url, photo, screenshot_dir(tmp_path), CHROMIUM, prefix="untrained"
        )
    lines = shown["status"].splitlines()
    assert len(lines) == 3 and all(": not trained yet. Model" in line for line in lines)
    assert "Not trained yet" in shown["digit"]["mlp"] and "make grade" in shown["digit"]["cnn"]
    assert shown["photo_error"].startswith("503") and "Not trained yet" in shown["photo"]
    assert "make grade" in shown["cards"]
