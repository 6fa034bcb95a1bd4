"""Acquire images from a list of URLs into a clean, deduplicated, resized image folder.

This is how new data gets into a custom dataset like animals3: collect image URLs (an image
search, a photo site's API ...), one per line, optionally with a class label, and run::

    python -m lightning_cnn.acquire URLS.txt OUT_DIR --size 64

``URLS.txt`` lines are ``URL`` or ``LABEL URL`` (whitespace between); blank lines and lines
starting with ``#`` are ignored. Every image is

* downloaded (http/https only, with a timeout and a size limit);
* **rejected**, with the reason, if it is not an image, is corrupt or truncated, has an
  unsupported mode (CMYK, 16-bit, float, 1-bit ...) or is smaller than ``--min-size`` pixels;
* **deduplicated** by content hash: the sha256 of the downloaded bytes and of the resized pixels,
  so the same file under two URLs is kept once;
* converted to RGB, resized to ``--size`` x ``--size`` (bilinear, like the animals3 release) and
  written **atomically** (temporary file, then rename) as ``OUT_DIR/[LABEL/]<sha256[:16]>.png``.

Every outcome is appended (and flushed) to ``OUT_DIR/acquire_state.jsonl`` as soon as it is known,
so an interrupted run loses nothing: the next run skips URLs that were already saved, found to be
duplicates or rejected, and retries only network failures. ``OUT_DIR/acquire_report.json`` lists
every URL of the run with its status and reason.

Example (a stand-in ``fetcher`` instead of the network: every URL gives the same PNG, except
the ``.html`` one):

>>> def fetch(url, timeout_s, max_bytes):
...     if url.endswith(".html"):
...         return b"<html>a web page, not an image</html>"
...     buffer = io.BytesIO()
...     Image.new("RGB", (80, 60), "orange").save(buffer, format="PNG")
...     return buffer.getvalue()
>>> out_dir = Path(tempfile.mkdtemp())
>>> urls = ["cats http://x.org/cat.png", "cats http://x.org/copy.png", "http://x.org/page.html"]
>>> report = acquire(urls, out_dir, size=64, fetcher=fetch)
>>> report.counts()
{'saved': 1, 'duplicate': 1, 'rejected': 1}
>>> report.by_status("rejected")[0].reason
'not an image (Pillow cannot identify the format)'
>>> saved = out_dir / report.by_status("saved")[0].path
>>> saved.parent.name, Image.open(saved).size
('cats', (64, 64))
>>> acquire(urls, out_dir, fetcher=fetch).counts()  # a second run skips what is done
{'skipped': 3}
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
from PIL import Image, UnidentifiedImageError

STATE_FILE = "acquire_state.jsonl"
REPORT_FILE = "acquire_report.json"
ACCEPTED_MODES = ("RGB", "RGBA", "L", "LA", "P")
"""Pillow modes that convert to RGB without guessing (others, e.g. CMYK or I;16, are rejected)."""
FINAL_STATUSES = ("saved", "duplicate", "rejected")
"""Outcomes recorded for good; a URL with any other outcome (``error``) is retried next run."""
USER_AGENT = "assignment2-lightning-cnn-acquire/0.1"
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")

Fetcher = Callable[[str, float, int], bytes]


class Rejected(Exception):
    """The downloaded bytes are not an acceptable image; the message says why."""


class FetchError(Exception):
    """The download failed (HTTP error, timeout, connection refused, too large ...)."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass
class Entry:
    """One line of the URL list."""

    url: str
    label: str | None = None
    line: int = 0


@dataclass
class Outcome:
    """What happened to one URL: ``saved``, ``duplicate``, ``rejected``, ``error``, ``skipped``."""

    url: str
    status: str
    reason: str = ""
    label: str | None = None
    path: str | None = None
    sha256: str | None = None
    pixels_sha256: str | None = None


@dataclass
class AcquireReport:
    """All outcomes of one run (``skipped`` = done by an earlier run)."""

    out_dir: str
    outcomes: list[Outcome] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Number of URLs per status."""
        result: dict[str, int] = {}
        for outcome in self.outcomes:
            result[outcome.status] = result.get(outcome.status, 0) + 1
        return result

    def by_status(self, status: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == status]

    def to_json(self) -> str:
        return json.dumps(
            {
                "out_dir": self.out_dir,
                "counts": self.counts(),
                "outcomes": [asdict(o) for o in self.outcomes],
            },
            indent=2,
        )


def parse_url_list(lines: Iterable[str]) -> list[Entry]:
    """Parse ``URL`` / ``LABEL URL`` lines (see the module docstring).

    Raises:
        ValueError: a line has more than two fields, or a label is not a safe folder name.

    Example:

    >>> entries = parse_url_list(["# comment", "", "cats https://x.org/a.jpg", "https://x.org/b"])
    >>> entries[0]
    Entry(url='https://x.org/a.jpg', label='cats', line=3)
    >>> entries[1].label is None
    True
    """
    entries = []
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        if len(fields) > 2:
            raise ValueError(f"Line {number}: expected 'URL' or 'LABEL URL'. Received: {line!r}")
        label = fields[0] if len(fields) == 2 else None
        if label is not None and not _LABEL.match(label):
            raise ValueError(
                f"Line {number}: expected a label of letters, digits, '_', '-' or "
                f"'.' (a folder name). Received: {label!r}"
            )
        entries.append(Entry(url=fields[-1], label=label, line=number))
    return entries


def fetch_url(url: str, timeout_s: float = 10.0, max_bytes: int = 20 << 20) -> bytes:
    """Download ``url`` (http or https) and return its bytes.

    Raises:
        FetchError: unsupported scheme or HTTP 4xx (``permanent=True``: retrying will not help),
            or a timeout, connection problem, HTTP 5xx, or a body over ``max_bytes``.
    """
    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError(
            f"unsupported URL scheme {scheme!r} (expected http or https)", permanent=True
        )
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            data = response.read(max_bytes + 1)
    except urllib.error.HTTPError as error:
        raise FetchError(
            f"HTTP {error.code} {error.reason}", permanent=400 <= error.code < 500
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise FetchError(f"download failed: {reason}") from None
    if len(data) > max_bytes:
        raise FetchError(f"larger than {max_bytes} bytes", permanent=True)
    return data


def decode_image(
    data: bytes, min_size: int = 32, accepted_modes: Sequence[str] = ACCEPTED_MODES
) -> Image.Image:
    """Decode and check downloaded bytes; return the image converted to RGB.

    Raises:
        Rejected: not an image, corrupt/truncated, an unsupported mode, or smaller than
            ``min_size`` on a side.
    """
    if not data:
        raise Rejected("empty file")
    image_format = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                image_format = probe.format
                probe.verify()  # structure and checksums, without decoding all pixels
            image = Image.open(io.BytesIO(data))
            image.load()  # decodes every pixel: truncated files fail here
    except UnidentifiedImageError:
        raise Rejected("not an image (Pillow cannot identify the format)") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise Rejected(f"too many pixels: {error}") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise Rejected(f"corrupt {image_format or 'image'}: {error}") from None
    if image.mode not in accepted_modes:
        raise Rejected(f"unsupported mode {image.mode} (accepted: {', '.join(accepted_modes)})")
    width, height = image.size
    if min(width, height) < min_size:
        raise Rejected(f"too small: {width}x{height} (minimum side {min_size} px)")
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def write_atomic(path: Path, image: Image.Image) -> None:
    """Save ``image`` as PNG at ``path`` via a temporary file and a rename (never half-written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            image.save(stream, format="PNG")
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class _State:
    """The append-only log of final outcomes (``acquire_state.jsonl``)."""

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / STATE_FILE
        self.done: dict[str, Outcome] = {}
        self.hashes: dict[str, str] = {}  # byte or pixel sha256 -> "saved path (from URL)"
        if self.path.is_file():
            for line in self.path.read_text().splitlines():
                if line.strip():
                    self._remember(Outcome(**json.loads(line)), out_dir)

    def _remember(self, outcome: Outcome, out_dir: Path) -> None:
        if outcome.status == "saved" and not (out_dir / (outcome.path or "")).is_file():
            return  # the file was deleted since: download it again
        self.done[outcome.url] = outcome
        if outcome.status == "saved":
            for digest in (outcome.sha256, outcome.pixels_sha256):
                if digest:
                    self.hashes[digest] = f"{outcome.path} (from {outcome.url})"

    def record(self, outcome: Outcome, out_dir: Path) -> None:
        with open(self.path, "a") as stream:
            stream.write(json.dumps(asdict(outcome)) + "\n")
            stream.flush()
            os.fsync(stream.fileno())
        self._remember(outcome, out_dir)


def acquire(
    entries: Iterable[Entry | str],
    out_dir: Path | str,
    size: int = 64,
    min_size: int = 32,
    timeout_s: float = 10.0,
    max_bytes: int = 20 << 20,
    fetcher: Fetcher = fetch_url,
    quiet: bool = True,
) -> AcquireReport:
    """Download, check, deduplicate, resize and save every URL (see the module docstring).

    Args:
        entries: :class:`Entry` objects, or raw lines of a URL list.
        out_dir: output folder (created); images go to ``out_dir/[label/]``.
        size: side of the saved square images, in pixels.
        min_size: reject images whose shorter side is smaller.
        timeout_s: per-download timeout.
        max_bytes: reject downloads larger than this.
        fetcher: ``fetcher(url, timeout_s, max_bytes) -> bytes`` (tests may pass their own).
        quiet: do not print progress.

    Returns:
        The :class:`AcquireReport` of this run (also written to ``acquire_report.json``).
    """
    if size < 1 or min_size < 1:
        raise ValueError(
            f"Expected size >= 1 and min_size >= 1. Received: size={size}, min_size={min_size}"
        )
    items = list(entries)
    lines = [item for item in items if isinstance(item, str)]
    given = [item for item in items if isinstance(item, Entry)]
    if len(lines) != len(items) and len(given) != len(items):
        raise ValueError(
            "Expected Entry objects or lines of a URL list, all of one kind. Received: "
            f"{sorted({type(item).__name__ for item in items})}"
        )
    to_fetch = parse_url_list(lines) if lines else given
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    state = _State(out_dir)
    report = AcquireReport(str(out_dir))
    seen_this_run: set[str] = set()
    for index, entry in enumerate(to_fetch, start=1):
        if entry.url in state.done or entry.url in seen_this_run:
            earlier = state.done.get(entry.url)
            reason = f"done earlier: {earlier.status}" if earlier else "repeated URL in the list"
            outcome = Outcome(
                entry.url, "skipped", reason, entry.label, earlier.path if earlier else None
            )
        else:
            outcome = _acquire_one(
                entry, out_dir, state, size, min_size, timeout_s, max_bytes, fetcher
            )
            if outcome.status in FINAL_STATUSES:
                state.record(outcome, out_dir)
        seen_this_run.add(entry.url)
        report.outcomes.append(outcome)
        if not quiet:
            detail = outcome.path if outcome.status == "saved" else outcome.reason
            print(
                f"[{index}/{len(to_fetch)}] {outcome.status:9s} {entry.url} {detail}",
                file=sys.stderr,
                flush=True,
            )
    (out_dir / REPORT_FILE).write_text(report.to_json() + "\n")
    return report


def _acquire_one(
    entry: Entry,
    out_dir: Path,
    state: _State,
    size: int,
    min_size: int,
    timeout_s: float,
    max_bytes: int,
    fetcher: Fetcher,
) -> Outcome:
    try:
        data = fetcher(entry.url, timeout_s, max_bytes)
    except FetchError as error:
        status = "rejected" if error.permanent else "error"
        return Outcome(entry.url, status, str(error), entry.label)
    byte_hash = hashlib.sha256(data).hexdigest()
    if byte_hash in state.hashes:
        return Outcome(
            entry.url,
            "duplicate",
            f"same bytes as {state.hashes[byte_hash]}",
            entry.label,
            sha256=byte_hash,
        )
    try:
        image = decode_image(data, min_size)
    except Rejected as error:
        return Outcome(entry.url, "rejected", str(error), entry.label, sha256=byte_hash)
    resized = image.resize((size, size), Image.Resampling.BILINEAR)
    pixel_hash = hashlib.sha256(np.asarray(resized).tobytes()).hexdigest()
    if pixel_hash in state.hashes:
        return Outcome(
            entry.url,
            "duplicate",
            f"same pixels as {state.hashes[pixel_hash]}",
            entry.label,
            sha256=byte_hash,
            pixels_sha256=pixel_hash,
        )
    relative = Path(entry.label or ".") / f"{byte_hash[:16]}.png"
    write_atomic(out_dir / relative, resized)
    return Outcome(entry.url, "saved", "", entry.label, relative.as_posix(), byte_hash, pixel_hash)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (``python -m lightning_cnn.acquire --help``)."""
    parser = argparse.ArgumentParser(
        prog="python -m lightning_cnn.acquire",
        description="Download images from a URL list into a clean, deduplicated image folder.",
    )
    parser.add_argument("urls", type=Path, help="text file: one 'URL' or 'LABEL URL' per line")
    parser.add_argument("out_dir", type=Path, help="output folder (images, state, report)")
    parser.add_argument("--size", type=int, default=64, help="side of the saved images (px)")
    parser.add_argument(
        "--min-size", type=int, default=32, help="reject images with a shorter side (px)"
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="per-download timeout (s)")
    parser.add_argument("--quiet", action="store_true", help="only print the summary")
    args = parser.parse_args(argv)
    try:
        entries = parse_url_list(args.urls.read_text().splitlines())
        report = acquire(
            entries,
            args.out_dir,
            size=args.size,
            min_size=args.min_size,
            timeout_s=args.timeout,
            quiet=args.quiet,
        )
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    counts = ", ".join(f"{count} {status}" for status, count in sorted(report.counts().items()))
    print(f"{len(report.outcomes)} URLs: {counts}. Report: {args.out_dir / REPORT_FILE}")
    for outcome in report.by_status("rejected") + report.by_status("error"):
        print(f"  {outcome.status}: {outcome.url}: {outcome.reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
