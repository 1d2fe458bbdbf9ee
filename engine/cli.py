"""The `videoworld-go` console script: one subcommand per job.

Each subcommand lives in its own package (``<pkg>/cli.py`` with ``add_parser`` and
``run``) and is imported only when chosen, so `videoworld-go gtp` starts without
loading what it does not need.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Optional

# subcommand -> module providing add_parser(subparsers) and run(args) -> int
SUBCOMMANDS = {
    "gtp": "gtp.cli",
    "render": "render.cli",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="videoworld-go", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, module in SUBCOMMANDS.items():
        importlib.import_module(module).add_parser(sub)
    return parser


def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
