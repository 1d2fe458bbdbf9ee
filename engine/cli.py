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
    "selfplay": "engine.selfplay",
    "train": "models.train.cli",
    "export": "models.train.export",
    "unpack": "models.train.unpack",
    "arena": "engine.arena",
    "eval": "engine.evaluate",
    "blunders": "engine.blunders",
    "serve": "server.cli",
    "analysis": "server.analysis_engine",
}


def build_parser(only: Optional[str] = None) -> argparse.ArgumentParser:
    """The parser; with ``only``, just that subcommand's module is imported (fast start-up)."""
    parser = argparse.ArgumentParser(prog="videoworld-go", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, module in SUBCOMMANDS.items():
        if only is None or name == only:
            importlib.import_module(module).add_parser(sub)
    return parser


def main(argv: Optional[list[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    only = argv[0] if argv and argv[0] in SUBCOMMANDS else None
    args = build_parser(only).parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
