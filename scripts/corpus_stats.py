"""Print the corpora of a data dir as the markdown table of docs/data.md (counts read from the
games themselves; engines and splits from the manifest, so refresh it first).

    .venv/bin/python scripts/corpus_stats.py [data]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.corpus import read_records  # noqa: E402


def row(name: str, entry: dict, root: Path) -> str:
    games = list(read_records(root / entry["file"]))
    n = len(games)
    results = [g.result.upper() for g in games]
    black = sum(r.startswith("B+") for r in results)
    white = sum(r.startswith("W+") for r in results)
    draws = sum(r in ("0", "DRAW") for r in results)
    resigned = sum(r.endswith("+R") for r in results)
    cfg = entry["source"].get("config", {})
    opening = f"{cfg.get('opening_min', '?')}-{cfg.get('opening_max', '?')}"
    split = entry["splits"]
    return (f"| {name} | {n:,} (train {split['train']:,} / val {split['val']:,} / test {split['test']:,}) | "
            f"{sum(len(g.moves) for g in games):,} ({statistics.median(len(g.moves) for g in games):g}) | "
            f"{', '.join(cfg.get('engines', []))} | {opening} | "
            f"{100 * black / n:.1f} / {100 * white / n:.1f} / {100 * draws / n:.1f} %"
            f"{f' ({resigned} by resignation)' if resigned else ''} |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", nargs="?", type=Path, default=Path("data"), help="data dir holding manifest.json")
    root = ap.parse_args(argv).data
    if not (root / "manifest.json").is_file():
        ap.error(f"{root} holds no manifest.json")
    manifest = json.loads((root / "manifest.json").read_text())
    print("| corpus | games | moves (median a game) | engines | opening stones | Black / White / draw |")
    print("|---|---|---|---|---|---|")
    total = 0
    for name, entry in sorted(manifest["corpora"].items()):
        print(row(name, entry, root))
        total += entry["games"]
    print(f"| **all** | **{total:,}** | | | | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
