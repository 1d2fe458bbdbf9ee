"""`videoworld-go eval`: oracle labels for held-out positions, and the paper's metrics for any player.

    videoworld-go eval label [--positions 300] [--searched 50]   # KataGo labels the test split
    videoworld-go eval run --player random --player gnugo:1      # metrics with 95 % intervals

A player is a ``engine.player.Player`` (``random``, or ``py:module:factory`` returning one)
or a GTP engine (a preset ``gnugo:L`` / ``katago:V`` / ``katago-greedy:V``, or
``gtp:COMMAND LINE``). GTP engines get each position by ``clear_board`` and ``play``
(no loadsgf: not every engine has it), then ``genmove`` and ``undo``; positions of one
game are visited in order, so the board only ever grows by the moves in between.
"""

from __future__ import annotations

import argparse
import importlib
import json
import shlex
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Callable, Iterator, Optional

from engine.blunders import in_atari
from engine.coords import RESIGN, CoordError, Move, color_name, from_gtp, opponent, to_gtp
from engine.engines import REPO, spec_from_preset
from engine.eval_answers import pick_player, read_answers, write_answers
from engine.labels import Label, LabelConfig, candidates, label_positions, load_labels
from engine.metrics import Answer, Scores, compare, score
from gtp.client import EngineSpec, GtpClient, GtpClientError, GtpCrash, GtpTimeout

# --only: subsets of the labels by what is at stake on the board (tactics the games show matter)
ONLY: dict[str, Callable[[Label], bool]] = {
    "atari": lambda lb: in_atari(lb.game().position, lb.to_play),
    "capture": lambda lb: in_atari(lb.game().position, opponent(lb.to_play)),
}

GTP_PRESETS = ("gnugo", "katago", "katago-greedy")


def _legal(label: Label, move: Optional[Move]) -> Optional[bool]:
    if move is None:
        return None
    return move is not RESIGN and label.game().position.is_legal(move, label.to_play)


# ---------------------------------------------------------------- Player-protocol players
def answers_player(player, labels: list[Label]) -> Iterator[Answer]:
    """Ask a Player for each position; also its raw (unmasked) move when it offers ``raw_move``."""
    if hasattr(player, "analyze_many"):  # one batched pass gives the move and the raw move together
        for i in range(0, len(labels), 64):
            chunk = labels[i:i + 64]
            for lb, a in zip(chunk, player.analyze_many([(lb.game(), lb.to_play) for lb in chunk])):
                yield Answer(lb.id, a.move, a.raw_move, _legal(lb, a.raw_move), _legal(lb, a.move))
        return
    raw_fn: Optional[Callable] = getattr(player, "raw_move", None)
    for lb in labels:
        move = player.genmove(lb.game(), lb.to_play)
        raw = raw_fn(lb.game(), lb.to_play) if raw_fn else None
        yield Answer(lb.id, move, raw, _legal(lb, raw) if raw_fn else None, _legal(lb, move))


# ---------------------------------------------------------------- GTP engines
def _by_game(labels: list[Label]) -> list[Label]:
    """Positions grouped by game, in move order, so the engine's board only grows."""
    groups: dict[str, list[Label]] = defaultdict(list)
    for lb in labels:
        groups[lb.source.get("game") or lb.id.split(":")[0]].append(lb)
    return [lb for g in groups.values() for lb in sorted(g, key=lambda x: len(x.moves))]


def answers_gtp(spec: EngineSpec, labels: list[Label], move_timeout: float = 60.0,
                stderr_path: Optional[str] = None) -> Iterator[Answer]:
    """genmove on every position; a crash or timeout is an unanswered position and a restart."""
    client = GtpClient(spec, timeout=move_timeout, stderr_path=stderr_path)
    board: Optional[list] = None  # moves the engine holds now (None: unknown, clear first)
    size = komi = None
    try:
        for lb in _by_game(labels):
            try:
                if (lb.size, lb.komi) != (size, komi):
                    client.send(f"boardsize {lb.size}")
                    client.send(f"komi {lb.komi:g}")
                    size, komi, board = lb.size, lb.komi, None
                if board is None or lb.moves[:len(board)] != board:
                    client.send("clear_board")
                    board = []
                for c, m in lb.moves[len(board):]:
                    client.send(f"play {color_name(c)} {to_gtp(m, lb.size)}")
                    board.append((c, m))
                text = client.send(f"genmove {color_name(lb.to_play)}")
            except (GtpTimeout, GtpCrash) as e:
                yield Answer(lb.id, None, error=f"{type(e).__name__}: {e}")
                client.restart()
                board = size = komi = None
                continue
            except GtpClientError as e:  # e.g. the engine refuses a move of the game
                yield Answer(lb.id, None, error=str(e))
                board = None
                continue
            try:
                move: Optional[Move] = from_gtp(text, lb.size)
            except CoordError:
                move = None
            yield Answer(lb.id, move, legal=_legal(lb, move), error="" if move is not None else f"answer {text!r}")
            if move is not None and move is not RESIGN:
                try:
                    client.send("undo")
                except GtpClientError:
                    board = None  # no undo: replay from an empty board next time
    finally:
        client.close()


# ---------------------------------------------------------------- which player
def player_options(options: str) -> dict:
    """"top_k=16,temperature=0.5" -> {"top_k": 16, "temperature": 0.5} (values read as JSON, else strings)."""
    out = {}
    for item in filter(None, options.split(",")):
        key, eq, value = item.partition("=")
        if not eq or not key.isidentifier():
            raise ValueError(f"player option {item!r}: expected name=value")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


UNKNOWN_PLAYER = "unknown player {name!r}: random, gnugo:L, katago:V, katago-greedy:V, gtp:CMD, py:MODULE:FACTORY"


def _py_parts(name: str) -> tuple[str, str, str]:
    """"py:MODULE:FACTORY[:k=v,...]" -> (module, factory, options)."""
    module, _, rest = name[3:].partition(":")
    attr, _, options = rest.partition(":")
    return module, attr, options


def resolve(name: str, size: int, seed: int) -> tuple[str, object]:
    """("player", Player) or ("gtp", EngineSpec) for a --player value."""
    kind = name.partition(":")[0]
    if name == "random":
        from engine.player import RandomPlayer

        return "player", RandomPlayer(seed)
    if kind in GTP_PRESETS:
        return "gtp", spec_from_preset(name, size=size)
    if kind == "gtp":
        return "gtp", EngineSpec(name=name, command=shlex.split(name[4:]))
    if kind == "py":
        module, attr, options = _py_parts(name)
        return "player", getattr(importlib.import_module(module), attr)(**player_options(options))
    raise ValueError(UNKNOWN_PLAYER.format(name=name))


def check_player(name: str, size: int) -> None:
    """Raise ValueError with a reason if ``name`` cannot be resolved, without starting anything
    (so a typo in the last --player fails before the first one has run for minutes)."""
    import inspect

    kind = name.partition(":")[0]
    if name == "random" or kind == "gtp":
        return
    if kind in GTP_PRESETS:
        spec_from_preset(name, size=size)
        return
    if kind != "py":
        raise ValueError(UNKNOWN_PLAYER.format(name=name))
    module, attr, options = _py_parts(name)
    try:
        factory = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as e:
        raise ValueError(f"player {name!r}: no factory {attr!r} in module {module!r} ({e})") from None
    try:
        inspect.signature(factory).bind(**player_options(options))
    except TypeError as e:
        raise ValueError(f"player {name!r}: {e}") from None


def evaluate(name: str, labels: list[Label], seed: int = 0, move_timeout: float = 60.0,
             log_dir: Optional[Path] = None) -> tuple[Scores, float, list[Answer]]:
    """Scores of one player on the labels, the seconds it took, and its answers."""
    size = labels[0].size if labels else 9
    kind, obj = resolve(name, size, seed)
    t0 = time.monotonic()
    if kind == "player":
        answers = list(answers_player(obj, labels))
    else:
        log = str(log_dir / (name.replace(":", "_").replace("/", "_")[:60] + ".stderr.log")) if log_dir else None
        answers = list(answers_gtp(obj, labels, move_timeout, log))  # type: ignore[arg-type]
    return score({lb.id: lb for lb in labels}, answers), time.monotonic() - t0, answers


# ---------------------------------------------------------------- CLI
def add_parser(sub) -> None:
    from engine.eval_breakdown import add_parser as add_breakdown_parser

    p = sub.add_parser("eval", help="oracle labels (KataGo) and the paper's metrics for any player")
    ev = p.add_subparsers(dest="eval_command", required=True)
    lab = ev.add_parser("label", help="label held-out positions with KataGo's analysis engine (resumable)")
    lab.add_argument("--data-dir", default=str(REPO / "data"))
    lab.add_argument("--split", choices=("test", "val"), default="test",
                     help="test: the reported metrics; val: for tuning players (never tune on test)")
    lab.add_argument("--corpora", default=None, help="comma-separated corpus folders (default: all)")
    lab.add_argument("--size", type=int, default=9)
    lab.add_argument("--labels", default=None, help="cache file (default DATA_DIR/oracle/{split}{size}.jsonl)")
    lab.add_argument("--positions", type=int, default=LabelConfig.positions, help="policy labels wanted in total")
    lab.add_argument("--searched", type=int, default=LabelConfig.searched, help="searched labels wanted in total")
    lab.add_argument("--search-visits", type=int, default=LabelConfig.search_visits)
    lab.add_argument("--seed", type=int, default=0, help="position order (keep it fixed for one cache)")
    lab.add_argument("--no-progress", action="store_true")
    lab.set_defaults(func=run_label)
    r = ev.add_parser("run", help="metrics (legal rate, Best-Action Acc, Action-Value) with 95 %% intervals")
    r.add_argument("--player", action="append", required=True,
                   help="random | gnugo:L | katago:V | katago-greedy:V | gtp:CMD | py:MODULE:FACTORY[:k=v,...] (repeatable)")
    r.add_argument("--data-dir", default=str(REPO / "data"))
    r.add_argument("--size", type=int, default=9)
    r.add_argument("--split", choices=("test", "val"), default="test", help="which label cache (see eval label)")
    r.add_argument("--labels", default=None, help="label cache (default DATA_DIR/oracle/{split}{size}.jsonl)")
    r.add_argument("--corpora", default=None, help="only positions from these corpora (comma-separated)")
    r.add_argument("--limit", type=int, default=None, help="first N labels only")
    r.add_argument("--only", choices=tuple(ONLY), default=None,
                   help="only positions where the side to move has a group of >= 2 stones in atari "
                        "(atari) or can take one of the opponent's (capture)")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--move-timeout", type=float, default=60.0)
    r.add_argument("--out", default=None, help="results JSON (default runs/eval/eval.json)")
    r.add_argument("--answers", default=None, metavar="FILE",
                   help="also write each position's answer, one JSON line per player and position, for "
                        "`eval paired` later (engine/eval_answers.py)")
    r.set_defaults(func=run_eval)
    pr = ev.add_parser("paired", help="B minus A, paired position by position, from two `eval run --answers` files")
    pr.add_argument("a", help="answers file of the reference (A)")
    pr.add_argument("b", help="answers file of the player compared with it (B)")
    pr.add_argument("--player-a", default=None, help="A's player name (needed when its file holds several)")
    pr.add_argument("--player-b", default=None, help="B's player name (needed when its file holds several)")
    pr.add_argument("--data-dir", default=str(REPO / "data"))
    pr.add_argument("--size", type=int, default=9)
    pr.add_argument("--split", choices=("test", "val"), default="test", help="which label cache (see eval label)")
    pr.add_argument("--labels", default=None, help="label cache (default DATA_DIR/oracle/{split}{size}.jsonl)")
    pr.add_argument("--out", default=None, help="also write the differences as JSON here")
    pr.set_defaults(func=run_paired)
    add_breakdown_parser(ev)


def _labels_path(args: argparse.Namespace) -> Path:
    return Path(args.labels) if args.labels else Path(args.data_dir) / "oracle" / f"{args.split}{args.size}.jsonl"


def run_label(args: argparse.Namespace) -> int:
    from engine.oracle import KataGoAnalysis

    path = _labels_path(args)
    cands = candidates(Path(args.data_dir), args.size, args.seed,
                       args.corpora.split(",") if args.corpora else None, split=args.split)
    print(f"{len(cands)} {args.split}-split positions available; labelling into {path}")
    cfg = LabelConfig(positions=args.positions, searched=args.searched, search_visits=args.search_visits,
                      seed=args.seed)
    log = REPO / "runs" / "eval" / "katago-analysis.stderr.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with KataGoAnalysis(size=args.size, stderr_path=str(log)) as oracle:
        stats = label_positions(oracle, path, cands, cfg, progress=not args.no_progress)
    print(json.dumps(stats))
    return 0


def _pct(d: dict) -> str:
    if not d["n"]:
        return "-"
    lo, hi = d["ci95"]
    return f"{100 * d['value']:5.1f} [{100 * lo:4.1f}, {100 * hi:5.1f}]"


def format_table(results: dict[str, dict]) -> str:
    head = f"{'player':<22} {'n':>5}  {'raw legal %':>19}  {'BAA policy %':>19}  {'BAA search % (n)':>25}  " \
           f"{'Action-Value %':>19}"
    lines = [head]
    for name, r in results.items():
        bs = r["best_search"]
        searched = f"{_pct(bs)} ({bs['n']})"
        lines.append(f"{name:<22} {r['positions']:>5}  {_pct(r['raw_legal']):>19}  {_pct(r['best_policy']):>19}  "
                     f"{searched:>25}  {_pct(r['action_value']):>19}")
    return "\n".join(lines)


def format_difference(name: str, diff: dict) -> str:
    """One line: a player minus the first one, paired on the same positions, in points."""
    parts = []
    for key, title in (("raw_legal", "raw legal"), ("best_policy", "BAA policy"), ("best_search", "BAA search"),
                       ("action_value", "Action-Value")):
        d = diff[key]
        if d["n"] >= 2:
            lo, hi = d["ci95"]
            parts.append(f"{title} {100 * d['value']:+.1f} [{100 * lo:+.1f}, {100 * hi:+.1f}]")
    return f"{name} minus {diff['player']} (paired): " + ", ".join(parts)


def run_eval(args: argparse.Namespace) -> int:
    path = _labels_path(args)
    labels = list(load_labels(path).values())  # labelling order: any prefix is a uniform sample
    if args.corpora:
        labels = [lb for lb in labels if lb.source.get("corpus") in args.corpora.split(",")]
    if args.only:
        labels = [lb for lb in labels if ONLY[args.only](lb)]
    if args.limit:
        labels = labels[:args.limit]
    if not labels:
        print(f"no labels in {path}: run `videoworld-go eval label` first")
        return 2
    for name in args.player:
        try:
            check_player(name, args.size)
        except ValueError as e:
            print(f"videoworld-go eval run: --player: {e}", file=sys.stderr)
            return 2
    out = Path(args.out) if args.out else REPO / "runs" / "eval" / "eval.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    log_dir = REPO / "runs" / "eval" / "logs"  # engine stderr; never next to a results file in docs/
    log_dir.mkdir(parents=True, exist_ok=True)
    results, answers = {}, {}
    for name in args.player:
        scores, seconds, answers[name] = evaluate(name, labels, args.seed, args.move_timeout, log_dir)
        results[name] = {**scores.to_dict(), "seconds": round(seconds, 1)}
        print(f"{name}: {len(labels)} positions in {seconds:.0f} s")
    by_id = {lb.id: lb for lb in labels}
    first = args.player[0]
    for name in args.player[1:]:  # paired against the first player: what a ship decision needs
        diff = compare(by_id, answers[first], answers[name])
        results[name]["minus_first"] = {"player": first, **{k: d.to_dict() for k, d in diff.items()}}
    n_search = sum(1 for lb in labels if lb.search)
    corpora = sorted({str(lb.source.get("corpus")) for lb in labels})
    report = {"labels": str(path), "only": args.only, "corpora": corpora, "positions": len(labels), "searched": n_search,
              "games": len({lb.source.get("game") for lb in labels}), "players": results}
    out.write_text(json.dumps(report, indent=2) + "\n")
    if args.answers:
        write_answers(Path(args.answers), answers, args.size)
    print(format_table(results))
    for name in args.player[1:]:
        print(format_difference(name, results[name]["minus_first"]))
    print(f"(95 % intervals: Wilson for rates, normal for the Action-Value mean and for paired differences; wrote {out})")
    return 0


def run_paired(args: argparse.Namespace) -> int:
    """B minus A on the positions both files answered, as `eval run` pairs its players (paired intervals)."""
    labels = load_labels(_labels_path(args))
    try:
        picked = [pick_player(read_answers(Path(path), args.size), name, Path(path))
                  for path, name in ((args.a, args.player_a), (args.b, args.player_b))]
    except (OSError, ValueError) as e:
        print(f"videoworld-go eval paired: {e}", file=sys.stderr)
        return 2
    (name_a, a), (name_b, b) = picked
    unknown = [x.id for x in a + b if x.id not in labels]
    if unknown:
        print(f"videoworld-go eval paired: {len(unknown)} answers name positions not in {_labels_path(args)} "
              f"(first: {unknown[0]}): give the labels they were made on", file=sys.stderr)
        return 2
    moved = {x.id: x.move for x in a}
    both = [y for y in b if y.id in moved]
    diff = {"player": name_a, **{k: d.to_dict() for k, d in compare(labels, a, b).items()}}
    report = {"a": {"file": args.a, "player": name_a, "answers": len(a)},
              "b": {"file": args.b, "player": name_b, "answers": len(b)},
              "both": len(both), "same_move": sum(moved[y.id] == y.move for y in both), "minus_a": diff}
    print(f"{len(both)} positions answered by both; the same move in {report['same_move']}")
    print(format_difference(name_b, diff))
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    return 0
