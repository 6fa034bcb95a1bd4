"""Drive the demo page in headless Chromium (Playwright), as a person would.

Used by the browser test and by ``python -m a2demo.browser OUT_DIR`` (screenshots of the page
served with the real graded runs, for the package docs). The browser is the system Chromium
(Debian's ``chromium``, ``$A2DEMO_CHROMIUM`` to override): Playwright's own browser downloads
are never used.

Example:

>>> chromium_path({"A2DEMO_CHROMIUM": "/nonexistent/chromium"}) is None
True
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Mapping

SYSTEM_CHROMIUM = "/usr/bin/chromium"
TIMEOUT_MS = 60_000


def chromium_path(environ: Mapping[str, str] | None = None) -> str | None:
    """The Chromium executable to drive, or ``None`` when it is not installed."""
    environ = os.environ if environ is None else environ
    path = environ.get("A2DEMO_CHROMIUM", SYSTEM_CHROMIUM)
    return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


def draw_digit(page: Any) -> None:
    """Draw a "7" on the canvas with the mouse (three strokes' worth of moves)."""
    box = page.locator("#canvas").bounding_box()
    x, y, width, height = box["x"], box["y"], box["width"], box["height"]
    points = [(0.25, 0.25), (0.75, 0.25), (0.43, 0.82)]
    page.mouse.move(x + points[0][0] * width, y + points[0][1] * height)
    page.mouse.down()
    for fx, fy in points[1:]:
        page.mouse.move(x + fx * width, y + fy * height, steps=12)
    page.mouse.up()


def exercise_page(
    base_url: str, photo: Path, screenshots: Path, executable: str, prefix: str = "demo"
) -> dict[str, Any]:
    """Open the page, classify a drawn digit and ``photo``; save screenshots; return what the
    page shows (labels, the model-status lines, the card links).

    Screenshots: ``<prefix>_digit.png``, ``<prefix>_photo.png``, ``<prefix>_page.png`` (whole
    page) in ``screenshots``.
    """
    from playwright.sync_api import sync_playwright

    screenshots.mkdir(parents=True, exist_ok=True)
    shown: dict[str, Any] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(base_url + "/")
            page.wait_for_selector("#model-status li")
            page.wait_for_selector("#card-list li")
            draw_digit(page)
            page.click("#classify-digit")
            page.wait_for_selector("#digit-results .model .out > *")
            page.wait_for_function("document.getElementById('digit-input').naturalWidth > 0")
            shown["digit"] = {
                key: page.inner_text(f'#digit-results [data-model="{key}"] .out')
                for key in ("mlp", "cnn")
            }
            page.locator("#digits").screenshot(path=str(screenshots / f"{prefix}_digit.png"))
            page.set_input_files("#photo-file", str(photo))
            page.click("#classify-photo")
            page.wait_for_function(
                "document.querySelector('#photos .model .out').textContent.length > 0"
                " || document.getElementById('photo-error').textContent.length > 0"
            )
            shown["photo"] = page.inner_text("#photos .model .out")
            shown["photo_error"] = page.inner_text("#photo-error")
            page.locator("#photos").screenshot(path=str(screenshots / f"{prefix}_photo.png"))
            shown["status"] = page.inner_text("#model-status")
            shown["cards"] = page.inner_text("#card-list")
            page.screenshot(path=str(screenshots / f"{prefix}_page.png"), full_page=True)
        finally:
            browser.close()
    return shown


def main(argv: list[str] | None = None) -> int:
    """Serve the demo with the graded runs and save screenshots of the page to OUT_DIR."""
    parser = argparse.ArgumentParser(prog="python -m a2demo.browser", description=main.__doc__)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--photo", type=Path, required=True, help="an image to upload")
    parser.add_argument("--prefix", default="demo")
    args = parser.parse_args(argv)
    executable = chromium_path()
    if executable is None:
        parser.error(f"Chromium not found at {SYSTEM_CHROMIUM} (set $A2DEMO_CHROMIUM).")
    from a2demo.app import DemoConfig, create_app
    from a2demo.server import serve_in_thread

    with serve_in_thread(create_app(DemoConfig.from_env())) as base_url:
        shown = exercise_page(base_url, args.photo, args.out_dir, executable, args.prefix)
    for key, value in shown.items():
        print(f"{key}: {value!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
