"""The acquisition tool against a real HTTP server on 127.0.0.1 (no outside network).

The server serves files generated into ``tmp_path``: good PNG/JPEG images, an exact duplicate,
garbage bytes, a truncated JPEG, a CMYK JPEG, a tiny image, and one missing path (HTTP 404).
"""

from __future__ import annotations

import functools
import io
import json
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lightning_cnn.acquire import REPORT_FILE, STATE_FILE, acquire, fetch_url, main, parse_url_list


def _image_bytes(mode: str, size: tuple[int, int], fmt: str, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    image = Image.fromarray(pixels, "RGB")
    if mode != "RGB":
        image = image.convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture()
def server(tmp_path):
    """Serve ``tmp_path/site`` on 127.0.0.1; yields (base URL, request counts per path)."""
    site = tmp_path / "site"
    site.mkdir()
    good_png = _image_bytes("RGB", (120, 90), "PNG", 0)
    files = {
        "cat1.png": good_png,
        "cat1_copy.png": good_png,  # same bytes, different URL
        "dog1.jpg": _image_bytes("RGB", (100, 100), "JPEG", 1),
        "gray.png": _image_bytes("L", (80, 64), "PNG", 2),  # accepted, converted to RGB
        "notes.jpg": b"this is not an image at all",
        "broken.jpg": _image_bytes("RGB", (200, 200), "JPEG", 3)[:600],  # truncated
        "cmyk.jpg": _image_bytes("CMYK", (64, 64), "JPEG", 4),
        "tiny.png": _image_bytes("RGB", (8, 8), "PNG", 5),
    }
    for name, data in files.items():
        (site / name).write_bytes(data)
    hits: dict[str, int] = {}

    class CountingHandler(SimpleHTTPRequestHandler):
        def do_GET(self):
            hits[self.path] = hits.get(self.path, 0) + 1
            return super().do_GET()

        def log_message(self, *args):  # keep pytest output clean
            pass

    handler = functools.partial(CountingHandler, directory=str(site))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", hits
    finally:
        httpd.shutdown()
        httpd.server_close()


def _url_list(base: str) -> list[str]:
    return [
        "# label url",
        f"cats {base}/cat1.png",
        f"cats {base}/cat1_copy.png",
        f"dogs {base}/dog1.jpg",
        f"dogs {base}/gray.png",
        f"cats {base}/notes.jpg",
        f"cats {base}/broken.jpg",
        f"dogs {base}/cmyk.jpg",
        f"dogs {base}/tiny.png",
        f"dogs {base}/missing.png",
        f"cats {base}/cat1.png",  # the same URL twice
    ]


def test_acquire_saves_dedupes_and_reports_each_rejection(server, tmp_path):
    base, hits = server
    out = tmp_path / "out"
    report = acquire(_url_list(base), out, size=64, min_size=32)

    assert report.counts() == {"saved": 3, "duplicate": 1, "rejected": 5, "skipped": 1}
    reasons = {Path(o.url).name: o.reason for o in report.by_status("rejected")}
    assert "not an image" in reasons["notes.jpg"]
    assert "corrupt" in reasons["broken.jpg"]
    assert "unsupported mode CMYK" in reasons["cmyk.jpg"]
    assert "too small: 8x8" in reasons["tiny.png"]
    assert "HTTP 404" in reasons["missing.png"]
    assert "cat1.png" in report.by_status("duplicate")[0].reason

    saved = sorted(out.rglob("*.png"))
    assert [p.parent.name for p in saved].count("cats") == 1
    assert [p.parent.name for p in saved].count("dogs") == 2
    for path in saved:
        with Image.open(path) as image:
            assert image.size == (64, 64) and image.mode == "RGB"
    assert not list(out.rglob("*.tmp"))  # atomic writes leave no temporary files
    written = json.loads((out / REPORT_FILE).read_text())
    assert written["counts"] == report.counts() and len(written["outcomes"]) == 10
    assert hits["/cat1.png"] == 1  # the repeated URL was not downloaded twice


def test_interrupted_run_resumes_without_downloading_again(server, tmp_path):
    base, hits = server
    out = tmp_path / "out"
    calls = []

    def flaky_fetch(url, timeout_s, max_bytes):
        if len(calls) == 3:
            raise KeyboardInterrupt  # the user pressed Ctrl-C during the 4th download
        calls.append(url)
        return fetch_url(url, timeout_s, max_bytes)

    with pytest.raises(KeyboardInterrupt):
        acquire(_url_list(base), out, fetcher=flaky_fetch)
    first_hits = dict(hits)
    assert len((out / STATE_FILE).read_text().splitlines()) == 3  # all 3 outcomes were kept

    report = acquire(_url_list(base), out)
    assert [o.status for o in report.outcomes[:3]] == ["skipped"] * 3
    assert hits["/cat1.png"] == first_hits["/cat1.png"] == 1  # not fetched again
    assert hits["/dog1.jpg"] == first_hits["/dog1.jpg"] == 1
    assert report.counts()["saved"] == 1  # only gray.png is new
    assert len(list(out.rglob("*.png"))) == 3

    again = acquire(_url_list(base), out)  # a third run has nothing left to do
    assert again.counts() == {"skipped": 10}
    assert "done earlier: rejected" in again.outcomes[8].reason  # HTTP 404 is final


def test_network_errors_are_retried_on_the_next_run(tmp_path):
    out = tmp_path / "out"
    report = acquire(["http://127.0.0.1:9/nothing-listens-here.png"], out, timeout_s=2)
    assert report.counts() == {"error": 1}
    assert not (out / STATE_FILE).exists() or not (out / STATE_FILE).read_text().strip()


def test_unsupported_scheme_is_rejected(tmp_path):
    report = acquire(["file:///etc/passwd"], tmp_path / "out")
    assert report.by_status("rejected")[0].reason.startswith("unsupported URL scheme 'file'")


def test_url_list_errors_are_clear():
    with pytest.raises(ValueError, match="Line 1: expected 'URL' or 'LABEL URL'"):
        parse_url_list(["a b c"])
    with pytest.raises(ValueError, match="Line 2: expected a label"):
        parse_url_list(["# ok", "../etc http://x/y.png"])
    with pytest.raises(ValueError, match="size >= 1"):
        acquire([], "unused", size=0)


def test_command_line(server, tmp_path, capsys):
    base, _ = server
    urls = tmp_path / "urls.txt"
    urls.write_text("\n".join(_url_list(base)) + "\n")
    assert main([str(urls), str(tmp_path / "out"), "--size", "32", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "10 URLs: 1 duplicate, 5 rejected, 3 saved, 1 skipped" in printed
    assert "unsupported mode CMYK" in printed
    with Image.open(next((tmp_path / "out" / "cats").glob("*.png"))) as image:
        assert image.size == (32, 32)
