"""An arena run's game records, packed into one SGF collection that can be committed beside its results.

    .venv/bin/python scripts/pack_arena_games.py runs/arena/NAME/results.jsonl --out docs/NAME.games.sgf

The arena writes one SGF file a game under ``runs/``, which is not committed, so a later session can
compare two runs only by result and length. This writes every game of ``results.jsonl`` (in the order
of its ``index``) as one line of a single SGF collection (Sabaki and GoGui open such a file and list
its games; sgfmill reads each line), with the arena's game id ``hero|opponent|index`` as the game name
(GN), so ``scripts/paired_arena.py --games`` can pair two runs move by move.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sgfmill import sgf

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.arena import read_results  # noqa: E402


def pack(results: Path) -> list[bytes]:
    """One single-line SGF a game, index order; a game whose record names no SGF file is an error."""
    if not results.exists():
        raise ValueError(f"{results}: no such results file")
    rows = read_results(results)  # the arena's own reader: first record of each id, a torn last line skipped
    if not rows:
        raise ValueError(f"{results}: no games")
    out = []
    for row in sorted(rows, key=lambda r: int(r["index"])):
        if not row.get("sgf"):
            raise ValueError(f"{results}: game {row['index']} names no SGF file")
        game = sgf.Sgf_game.from_bytes((results.parent / row["sgf"]).read_bytes())
        game.get_root().set("GN", row["id"])
        out.append(game.serialise(wrap=None).strip())  # no line wrapping: one game, one line
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("results", type=Path, help="an arena run's results.jsonl (its games/ folder beside it)")
    p.add_argument("--out", type=Path, required=True, help="the SGF collection to write")
    args = p.parse_args(argv)
    try:
        lines = pack(args.results)
    except (OSError, ValueError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    args.out.write_bytes(b"\n".join(lines) + b"\n")
    print(f"{len(lines)} games -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
