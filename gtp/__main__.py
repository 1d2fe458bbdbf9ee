"""`python -m gtp`: the same as `videoworld-go gtp`."""

import argparse
import sys

from gtp.cli import add_arguments


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gtp", description="play over GTP v2 on stdin/stdout")
    add_arguments(parser)
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
