"""``python -m a2demo [--host H] [--port P]``: serve the demo with uvicorn.

The port defaults to ``$PORT`` (set by Render), else 8000; the host to 127.0.0.1 (use
``--host 0.0.0.0`` in a container).
"""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    """Parse the options and run uvicorn until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m a2demo", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default=os.environ.get("A2DEMO_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument(
        "--runs",
        default=None,
        help="run kinds to use, in order (default full,quick; env A2DEMO_RUNS)",
    )
    args = parser.parse_args(argv)
    if args.runs:
        os.environ["A2DEMO_RUNS"] = args.runs
    import uvicorn

    from a2demo.app import DemoConfig, create_app

    app = create_app(DemoConfig.from_env())
    print(f"assignment2 demo on http://{args.host}:{args.port} (Ctrl-C stops it)", flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


if __name__ == "__main__":
    sys.exit(main())
