"""Command line for the animals3 release: write one, or verify one.

The code lives in :mod:`lightning_cnn.release`; its public names are re-exported here, so
``from lightning_cnn.dataset import verify_release`` keeps working. Progress goes to stderr::

    python -m lightning_cnn.dataset release OUT_DIR [--limit-per-class N] [--force]
    python -m lightning_cnn.dataset verify OUT_DIR

Example:

>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp()) / "animals3"
>>> main(["release", str(root), "--limit-per-class", "1", "--quiet"])  # doctest: +ELLIPSIS
11 files written and listed in .../SHA256SUMS
0
>>> main(["verify", str(root)])  # doctest: +ELLIPSIS
OK: 11 files match .../SHA256SUMS
0
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from lightning_cnn.release import (
    DATASHEET,
    IMAGE_SUFFIXES,
    MANIFEST,
    METADATA,
    RELEASE_VERSION,
    SPLITS,
    ReleaseError,
    ReleaseInfo,
    SplitImages,
    animals3_splits,
    ensure_release,
    list_split,
    read_split,
    release_animals3,
    render_datasheet,
    verify_release,
    write_release,
)

__all__ = [
    "DATASHEET",
    "IMAGE_SUFFIXES",
    "MANIFEST",
    "METADATA",
    "RELEASE_VERSION",
    "SPLITS",
    "ReleaseError",
    "ReleaseInfo",
    "SplitImages",
    "animals3_splits",
    "ensure_release",
    "list_split",
    "main",
    "read_split",
    "release_animals3",
    "render_datasheet",
    "verify_release",
    "write_release",
]


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point (``python -m lightning_cnn.dataset --help``)."""
    parser = argparse.ArgumentParser(
        prog="python -m lightning_cnn.dataset",
        description="Publish the animals3 dataset as an image-folder release, or verify one.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    release = commands.add_parser(
        "release", help="write OUT_DIR/{train,val,test}/<class>/*.png, SHA256SUMS and DATASHEET.md"
    )
    release.add_argument("out_dir", type=Path, help="folder to create")
    release.add_argument(
        "--limit-per-class",
        type=int,
        default=None,
        metavar="N",
        help="only the first N images per class and split (for quick tests)",
    )
    release.add_argument("--force", action="store_true", help="replace an earlier release")
    release.add_argument("--quiet", action="store_true", help="print nothing but errors")
    verify = commands.add_parser("verify", help="check a release against its SHA256SUMS")
    verify.add_argument("out_dir", type=Path, help="release folder")
    args = parser.parse_args(argv)
    try:
        if args.command == "release":
            if args.limit_per_class is not None and args.limit_per_class < 1:
                parser.error(f"--limit-per-class must be >= 1. Received: {args.limit_per_class}")
            info = release_animals3(
                args.out_dir, args.limit_per_class, overwrite=args.force, quiet=args.quiet
            )
            print(f"{info.files} files written and listed in {info.root / MANIFEST}")
        else:
            print(f"OK: {verify_release(args.out_dir)} files match {args.out_dir / MANIFEST}")
    except (ReleaseError, FileExistsError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
