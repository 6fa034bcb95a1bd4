"""Download dataset files for users with internet (never used by the tests against the internet).

Every file is fetched to a ``.part`` file, verified against the registry's sha256 and only then
renamed into place, so an interrupted or corrupt download never leaves a file the loader would
accept. A partly downloaded ``.part`` file is resumed with an HTTP ``Range`` request.

Sources: each file's own ``url`` (the original distribution, when its bytes are identical to the
registry's), or a mirror of the ``shared/data`` layout named by ``ASSIGNMENT2_DATA_URL``.

Example (shell)::

    python -m a2common.download fashion_mnist          # into ~/.cache/assignment2/data
    ASSIGNMENT2_DATA_URL=https://example.org/a2data python -m a2common.download mnist
"""

from __future__ import annotations

import argparse
import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path

from a2common.data import (
    DataFile,
    DatasetChecksumError,
    DatasetError,
    cache_dir,
    get_spec,
    sha256_of,
)

MIRROR_ENV = "ASSIGNMENT2_DATA_URL"


def source_urls(data_file: DataFile, mirror: str | None = None) -> list[str]:
    """Candidate URLs for ``data_file``: the mirror first (if any), then the original source."""
    urls = []
    mirror = mirror or os.environ.get(MIRROR_ENV)
    if mirror:
        urls.append(mirror.rstrip("/") + "/" + data_file.relpath)
    if data_file.url:
        urls.append(data_file.url)
    return urls


def download_file(
    url: str, destination: Path, data_file: DataFile, timeout_s: float = 60.0
) -> Path:
    """Fetch ``url`` to ``destination`` (resuming a ``.part`` file) and verify its checksum."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".part")
    offset = partial.stat().st_size if partial.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={offset}-"} if offset else {})
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        resumed = offset and response.status == 206
        with open(partial, "ab" if resumed else "wb") as out:
            shutil.copyfileobj(response, out, length=1 << 20)
    actual = sha256_of(partial, decompress=data_file.hashes_decompressed)
    if actual != data_file.sha256:
        partial.unlink()
        raise DatasetChecksumError(
            f"Downloaded {url} but its sha256 is {actual}, expected {data_file.sha256}. "
            "The source changed or the transfer was corrupted; the bad file was deleted. "
            f"Try again, or use another mirror via {MIRROR_ENV}."
        )
    partial.replace(destination)
    return destination


def download_dataset(
    name: str, destination_root: Path | None = None, mirror: str | None = None
) -> list[Path]:
    """Download every missing file of dataset ``name`` into ``destination_root`` (the cache)."""
    spec = get_spec(name)
    root = destination_root or cache_dir()
    written = []
    for data_file in spec.files:
        target = root / data_file.relpath
        if (
            target.is_file()
            and sha256_of(target, data_file.hashes_decompressed) == data_file.sha256
        ):
            written.append(target)
            continue
        urls = source_urls(data_file, mirror)
        if not urls:
            raise DatasetError(
                f"{name}: no public source serves a file identical to {data_file.relpath!r}. "
                f"Set {MIRROR_ENV} to a mirror of the project's shared/data folder. "
                f"{spec.how_to_get}"
            )
        errors = []
        for url in urls:
            try:
                written.append(download_file(url, target, data_file))
                break
            except (urllib.error.URLError, OSError, DatasetChecksumError) as error:
                errors.append(f"{url}: {error}")
        else:
            raise DatasetError(
                f"{name}: could not download {data_file.relpath}: " + "; ".join(errors)
            )
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+", help="dataset names, e.g. mnist fashion_mnist")
    parser.add_argument("--to", type=Path, default=None, help="destination (default: cache)")
    parser.add_argument("--mirror", default=None, help=f"mirror base URL (or ${MIRROR_ENV})")
    args = parser.parse_args(argv)
    for name in args.names:
        for path in download_dataset(name, args.to, args.mirror):
            print(f"{name}: {path}")


if __name__ == "__main__":
    main()
