"""``python -m sandbox.web --lake DIR --month M --port P``: serve the synthetic web (tools, benchmarks).

The product's entry point is ``propensity sandbox serve``; this one needs no CLI wiring.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from propensity.settings import load_settings
from sandbox.web.server import run_server


def main(argv: list[str] | None = None) -> None:
    """Parse arguments and serve until interrupted."""
    ap = argparse.ArgumentParser(prog="python -m sandbox.web", description=__doc__)
    ap.add_argument("--lake", type=Path, default=None, help="lake root (default: settings)")
    ap.add_argument("--month", default=None, help="serve the web as of this month (YYYY-MM)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--seed", type=int, default=None, help="override the sandbox seed")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = load_settings(lake=args.lake)
    spec = settings.sandbox
    if args.seed is not None:
        spec = spec.model_copy(update={"seed": args.seed})
    run_server(Path(settings.lake), args.month or spec.end_month, spec, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
