"""`videoworld-go gtp`: serve GTP v2 on stdin/stdout.

Answers go to stdout, flushed one by one; logs go to stderr only. The loop reads bytes
so that binary junk or a line of megabytes can neither crash it nor fill the memory:
lines over ``protocol.MAX_LINE`` bytes are refused with ``? line too long`` and skipped.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import threading
from dataclasses import replace
from typing import BinaryIO, Optional

from engine.analysis import can_analyze
from engine.coords import MAX_SIZE, MIN_SIZE
from engine.fallback import DEFAULT_FALLBACK, FALLBACK_MAX_SECONDS, FALLBACKS, fallback_analyzer
from engine.game import Game
from engine.mc_player import PLAYOUT_POLICIES, SEARCHES, MonteCarloConfig
from engine.player import Player, RandomPlayer
from engine.search import SEARCH_KINDS, SearchConfig, search_config, search_kind, with_search
from engine.symmetry import VIEW_COUNTS
from gtp import protocol
from gtp.engine import GtpEngine

log = logging.getLogger("gtp")

PLAYERS = ("random", "neural", "montecarlo")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("gtp", help="play over GTP v2 on stdin/stdout")
    add_arguments(p)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--player", choices=PLAYERS, default=None,
                   help="who chooses the moves: the video model (on its board size), the random player, or Monte "
                        "Carlo over the rules on every size (default: neural when the shipped weights exist, "
                        "else random)")
    p.add_argument("--fallback", choices=FALLBACKS, default=DEFAULT_FALLBACK,
                   help="with --player neural: who plays the board sizes the model was not trained on (it plays "
                        f"9x9): Monte Carlo over the rules, or the random player (default: {DEFAULT_FALLBACK})")
    p.add_argument("--mc-playouts", type=_mc_playouts, default=None, metavar="N",
                   help="Monte Carlo simulations per move: of --player montecarlo and the fallback (default "
                        f"{MonteCarloConfig.playouts}: the compiled tree with MoGo's playouts, ~3 s a move on 13x13, the "
                        "--mc-max-seconds cap on 19x19 here; the "
                        "flat search is Python, ~10x slower a playout: give it ~1500), and of --search mc on the "
                        "network's size (default: the bundle's player.mc_playouts, else 20000, ~2 s a move on 9x9)")
    p.add_argument("--mc-clock-playouts", type=_mc_playouts, default=None, metavar="N",
                   help="--search mc: simulations a move under a time control (time_settings), instead of "
                        "--mc-playouts; each move's share of the clock still stops the search, and a move the time "
                        "left cannot change is played at once (default: the bundle's player.mc_clock_playouts, "
                        "else --mc-playouts)")
    p.add_argument("--mc-threads", type=_threads, default=None, metavar="N",
                   help="the Monte Carlo tree searches (--search mc, --player montecarlo, the other board sizes): N "
                        "independent trees at once, one core each, their root statistics summed; the simulations a "
                        "move are shared among them, so on N free cores a move takes about 1/N of the time; not with "
                        "--mc-replies (default: 1, or the bundle's player.mc_threads for --search mc)")
    p.add_argument("--mc-max-seconds", type=_non_negative, default=FALLBACK_MAX_SECONDS, metavar="S",
                   help="seconds a move at most of --player montecarlo and the fallback (their simulations stop "
                        f"there or at the time control's limit, whichever comes first; default {FALLBACK_MAX_SECONDS:g}, "
                        "0: no cap)")
    p.add_argument("--mc-amaf", type=_share, default=MonteCarloConfig.amaf, metavar="SHARE",
                   help="Monte Carlo player: share of the playouts scored as 'all moves as first' (AMAF) from the "
                        f"position itself, with --mc-search flat (default {MonteCarloConfig.amaf}; 0: plain flat Monte Carlo)")
    p.add_argument("--mc-search", choices=SEARCHES, default=MonteCarloConfig.search,
                   help="Monte Carlo player: a tree search with RAVE, or flat Monte Carlo over the root moves "
                        f"(default {MonteCarloConfig.search}; engine/mc_tree.py, engine/mc_player.py)")
    p.add_argument("--search", choices=SEARCH_KINDS, default=None,
                   help="the neural player's search: puct, over the network's prior and the value model (--visits, "
                        "engine/search.py), or mc, the Monte Carlo tree search with the network's move distribution "
                        "steering its root (models/steered_mc.py) (default: the bundle's player.search, else puct)")
    p.add_argument("--mc-prior", type=_non_negative, default=None, metavar="W",
                   help="--search mc: weight of the network in the root's prior term, W * P(move) * sqrt(root visits "
                        "+ 1) / (visits + 1); 0: the playouts alone (default: the bundle's player.mc_prior, else 2)")
    p.add_argument("--mc-prefer-network", type=_share, default=None, metavar="SHARE",
                   help="--search mc: the network's favourite is played instead of the tree's most visited move when "
                        "it has at least SHARE of that move's simulations; 0: the most visited move (default: the "
                        "bundle's player.mc_prefer_network, else 0)")
    p.add_argument("--mc-replies", type=_replies, default=None, metavar="K",
                   help="--search mc: the network also steers the opponent's replies to the K most visited root "
                        "moves (read after a quarter of the simulations; one batch of K positions); 0: the root only "
                        "(default: the bundle's player.mc_replies, else 0)")
    p.add_argument("--mc-reply-views", type=int, choices=VIEW_COUNTS, default=None, metavar="S",
                   help="--search mc with --mc-replies: board views the replies are read in, one of "
                        f"{', '.join(map(str, VIEW_COUNTS))} (default: the bundle's player.mc_reply_views, else 1)")
    p.add_argument("--ponder", action="store_true",
                   help="think on the opponent's time: after each move it plays, the Monte Carlo tree search grows "
                        "its tree for the opponent's replies until the next command, and the next move starts from "
                        "the reply's subtree (implies --mc-reuse; takes the CPU the opponent does not use; gtp/ponder.py)")
    p.add_argument("--mc-reuse", action="store_true",
                   help="the Monte Carlo tree search keeps its tree between moves: a move starts from the subtree of "
                        "the moves played since the last one, its simulations added to those already there")
    p.add_argument("--mc-last-good-reply", choices=("on", "off"), default=None,
                   help="--search mc: playouts first play the reply that last won a simulation against the previous "
                        "move, forgetting it once it loses (LGRF-1; engine/fastboard.py) (default: the bundle's "
                        "player.mc_last_good_reply, else off)")
    p.add_argument("--weights", default=None, help="model bundle folder (default: the shipped weights/9x9)")
    p.add_argument("--temperature", type=float, default=0.0,
                   help="neural move sampling temperature (0: greedy); with --visits 1 only: a tree search "
                        "plays its most visited move")
    p.add_argument("--branches", type=_branches, default=None,
                   help="first codes the neural player imagines per move (default: the bundle's tuned value)")
    p.add_argument("--symmetries", type=int, choices=VIEW_COUNTS, default=None,
                   help="board symmetries the neural player averages over per move (default: the bundle's value)")
    p.add_argument("--visits", type=_visits, default=None,
                   help="the PUCT search (--search puct, which an explicit --visits implies): leaf evaluations per "
                        "move, the network's policy as prior and its value model as judge over the rules "
                        "(engine/search.py); 1: the network alone (default: the bundle's player.visits, else 1)")
    p.add_argument("--c-puct", type=_positive, default=None,
                   help="tree search: weight of the prior (default: the bundle's player.c_puct, else "
                        f"{SearchConfig.c_puct})")
    p.add_argument("--leaf-symmetries", type=int, choices=VIEW_COUNTS, default=None,
                   help="tree search: board views the network imagines the positions below the root in, a cheaper "
                        "prior for more visits (default: the bundle's player.leaf_symmetries, else as --symmetries)")
    p.add_argument("--leaf-branches", type=_branches, default=None,
                   help="tree search: first codes the network imagines per position below the root (default: the "
                        "bundle's player.leaf_branches, else as --branches)")
    p.add_argument("--quiescence", type=int, choices=(0, 1), default=None,
                   help="tree search: 1 judges a new leaf whose side to move can capture as the better of the value "
                        "model's view and its view after each capture (default: the bundle's player.quiescence, else 0)")
    p.add_argument("--tactics", type=_share, default=None, metavar="SHARE",
                   help="tree search: share of each position's prior moved onto the rules' urgent moves (captures, "
                        "escapes from atari), which the network rarely proposes (default: the bundle's "
                        "player.tactics, else 0)")
    p.add_argument("--playouts", type=_playouts, default=None, metavar="N",
                   help="tree search: random playouts over the rules from each judged position, mixed into the value "
                        "model's winrate (default: the bundle's player.playouts, else 0: the value model alone)")
    p.add_argument("--playout-weight", type=_weight, default=None, metavar="W",
                   help="tree search: the playouts' share of that mix (default: the bundle's player.playout_weight, "
                        "else 0.5)")
    p.add_argument("--playout-policy", choices=tuple(PLAYOUT_POLICIES), default=None,
                   help="how the playouts move: uniform over the acceptable points; tactical (capture or escape "
                        "atari after the last move first); with --search mc also patterns (MoGo's 3x3 shapes "
                        "around the last move first) or mogo (atari answers, then the shapes, then captures); "
                        "also the Monte Carlo player's and the other board sizes' playouts. Default: the bundle's "
                        "player.playout_policy (tree search) or player.mc_playout_policy (--search mc), else "
                        "uniform; the Monte Carlo player and the other sizes: mogo (--mc-search flat: uniform)")
    p.add_argument("--reuse", action=argparse.BooleanOptionalAction, default=True,
                   help="tree search: start each move from the subtree the last search left for it (default: on)")
    p.add_argument("--resign-below", type=_probability, default=None, metavar="P",
                   help="resign when the winrate stays below P (e.g. 0.05) on --resign-turns moves in a row "
                        "(default: never resign)")
    p.add_argument("--resign-turns", type=int, default=3, help="own moves in a row under --resign-below (default 3)")
    p.add_argument("--resign-min-moves", type=int, default=20, help="no resignation before this move number (default 20)")
    p.add_argument("--seed", type=int, default=None, help="seed of the random player (default: fresh)")
    p.add_argument("--size", type=_board_size, default=9, help="initial board size (2..25)")
    p.add_argument("--komi", type=_komi, default=7.0, help="initial komi")
    p.add_argument("--log-level", type=str.upper, default="WARNING",
                   choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="what goes to stderr")
    p.add_argument("--override-version", type=_version_text, default=None, metavar="TEXT",
                   help="answer GTP `version` with TEXT, as KataGo's -override-version. For Lizzie, which takes an "
                   "engine not named KataGo for Leela Zero and stops at a modal dialog when its version reads under "
                   "0.15 (ours is 0.1): --override-version 0.17 (docs/gtp.md)")
    p.set_defaults(func=run)


def _version_text(text: str) -> str:
    # one GTP answer line: printable, not empty (a newline would end the answer early)
    if not text.strip() or not text.isprintable():
        raise argparse.ArgumentTypeError("the version must be one line of printable text")
    return text.strip()


def _between(cast, low, high, what: str):
    """An argparse type: ``cast(text)`` within [low, high], else "<what> must be low..high"."""
    def parse(text: str):
        x = cast(text)
        if not low <= x <= high:
            raise argparse.ArgumentTypeError(f"{what} must be {low}..{high}")
        return x
    parse.__name__ = what.replace(" ", "_")  # argparse names the type in "invalid ... value"
    return parse


_board_size = _between(int, MIN_SIZE, MAX_SIZE, "board size")
_branches = _between(int, 1, 256, "branches")
_visits = _between(int, 1, 100_000, "visits")
_playouts = _between(int, 0, 10_000, "playouts")
_mc_playouts = _between(int, 1, 1_000_000, "playouts")
_replies = _between(int, 0, 64, "replies")
_threads = _between(int, 1, 64, "threads")
_weight = _between(float, 0.0, 1.0, "weight")


def _positive(text: str) -> float:
    x = float(text)
    if not (math.isfinite(x) and x > 0):
        raise argparse.ArgumentTypeError("must be a positive number")
    return x


def _non_negative(text: str) -> float:
    x = float(text)
    if not (math.isfinite(x) and x >= 0):
        raise argparse.ArgumentTypeError("must be a number >= 0")
    return x


def _probability(text: str) -> float:
    p = float(text)
    if not 0.0 < p < 1.0:
        raise argparse.ArgumentTypeError("must be a probability strictly between 0 and 1")
    return p


def _share(text: str) -> float:
    x = float(text)
    if not 0.0 <= x < 1.0:
        raise argparse.ArgumentTypeError("must be a share in [0, 1)")
    return x


def _komi(text: str) -> float:
    komi = float(text)
    if not math.isfinite(komi):
        raise argparse.ArgumentTypeError("komi must be a finite number")
    return komi


def make_player(kind: str | None, seed: int | None, weights: str | None = None, temperature: float = 0.0,
                branches: int | None = None, symmetries: int | None = None,
                visits: int | None = None, c_puct: float | None = None, leaf_symmetries: int | None = None,
                leaf_branches: int | None = None, reuse: bool = True, quiescence: int | None = None,
                tactics: float | None = None, playouts: int | None = None,
                playout_weight: float | None = None, playout_policy: str | None = None,
                fallback: str = DEFAULT_FALLBACK, mc_playouts: int | None = None,
                mc_amaf: float = MonteCarloConfig.amaf, mc_search: str = MonteCarloConfig.search,
                search: str | None = None, mc_prior: float | None = None,
                mc_max_seconds: float = FALLBACK_MAX_SECONDS, mc_replies: int | None = None,
                mc_reply_views: int | None = None, mc_last_good_reply: bool | None = None,
                mc_clock_playouts: int | None = None, mc_threads: int | None = None, mc_reuse: bool = False,
                mc_prefer_network: float | None = None) -> Player:
    """The random player, the Monte Carlo one, or the neural one (9x9 model; ``fallback`` plays the
    other sizes: engine/fallback.py).

    The neural player is served through a ``Batcher`` (with no wait: one game has nobody
    to wait for), the same path REST and arena games take; it can analyze, so GUI
    analysis commands (lz-analyze ...) are offered with it and not with the random player.
    """
    from pathlib import Path

    default_weights = Path(__file__).resolve().parent.parent / "weights" / "9x9"
    folder = Path(weights) if weights else default_weights
    if kind is None:
        kind = "neural" if (folder / "manifest.json").exists() else "random"
    if kind == "random":
        return RandomPlayer(seed)
    fallback_playouts = mc_playouts or MonteCarloConfig.playouts
    fallback_threads = mc_threads or MonteCarloConfig.threads
    mc_policy = playout_policy  # the Monte Carlo player's and the fallback's playouts (None: engine/fallback.py's)
    def reused(analyzer):  # --mc-reuse / --ponder: the tree searches keep their trees between moves
        reusing = getattr(analyzer, "reusing", None)
        return reusing() if mc_reuse and callable(reusing) else analyzer

    if kind == "montecarlo":
        return reused(fallback_analyzer("montecarlo", seed, fallback_playouts, mc_amaf, mc_search, mc_policy,
                                        mc_max_seconds, fallback_threads))
    if not (folder / "manifest.json").exists():
        raise ValueError(f"--player neural: no model bundle at {folder}")
    from engine.analysis import BySizeAnalyzer
    from engine.batcher import Batcher, BatchedPlayer
    from models.bundle import load_bundle
    from models.player import NeuralPlayer

    bundle = load_bundle(folder)
    neural = NeuralPlayer(bundle, temperature=temperature, top_k=branches, seed=seed or 0, symmetries=symmetries)
    tuned = bundle.manifest.get("player", {})
    search = search_kind(tuned, search, visits)
    if search == "mc":
        from models.steered_mc import tuned_steered

        model = reused(tuned_steered(neural, tuned, mc_playouts, mc_prior, seed or 0, playout_policy, mc_replies,
                                     mc_reply_views, mc_last_good_reply, mc_clock_playouts, mc_threads,
                                     mc_prefer_network))
    else:
        cfg = replace(search_config(tuned, visits, c_puct, leaf_symmetries, leaf_branches, quiescence, tactics,
                                    playouts, playout_weight, playout_policy), reuse=reuse)
        model = with_search(neural, cfg)
    analyzer = BySizeAnalyzer({bundle.board_size: model},
                              reused(fallback_analyzer(fallback, seed, fallback_playouts, mc_amaf, mc_search, mc_policy,
                                                       mc_max_seconds, fallback_threads)))
    return BatchedPlayer(Batcher(analyzer, max_batch=8, max_wait=0.0))


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(stream=sys.stderr, level=args.log_level,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        player = make_player(args.player, args.seed, args.weights, args.temperature, args.branches, args.symmetries,
                             args.visits, args.c_puct, args.leaf_symmetries, args.leaf_branches, args.reuse,
                             args.quiescence, args.tactics, args.playouts, args.playout_weight, args.playout_policy,
                             args.fallback, args.mc_playouts, args.mc_amaf, args.mc_search, args.search, args.mc_prior,
                             args.mc_max_seconds, args.mc_replies, args.mc_reply_views,
                             None if args.mc_last_good_reply is None else args.mc_last_good_reply == "on",
                             args.mc_clock_playouts, args.mc_threads, args.mc_reuse or args.ponder,
                             args.mc_prefer_network)
        if args.resign_below is not None and can_analyze(player):  # the random player has no winrate to judge by
            from engine.resign import ResignConfig, ResigningPlayer

            player = ResigningPlayer(player, ResignConfig(args.resign_below, args.resign_turns, args.resign_min_moves))
    except ValueError as e:
        log.error("%s", e)
        return 2
    engine = GtpEngine(lambda: Game(size=args.size, komi=args.komi), player)
    if args.override_version is not None:
        engine.version = args.override_version
    engine.ponder = args.ponder
    try:
        serve(engine, sys.stdin.buffer, sys.stdout.buffer)
    except (BrokenPipeError, KeyboardInterrupt):  # the controller went away: nothing to answer
        return 0
    finally:
        batcher = getattr(player, "batcher", None)
        if batcher is not None:
            batcher.close()
    return 0


def serve(engine: GtpEngine, instream: BinaryIO, outstream: BinaryIO) -> None:
    """Answer lines until ``quit`` or end of input.

    A streamed answer (``lz-analyze``) stays open while the next line is awaited: a
    ``Repeater`` thread prints its line at the requested interval meanwhile, and the next
    input line (or the end of input) closes it before that line is answered. A command may also
    print lines of its answer while it runs (``*-genmove_analyze`` during its search:
    ``GtpEngine.early_line``).
    """
    from gtp.ponder import Ponderer

    open_stream: Optional[Repeater] = None
    pondering: Optional[Ponderer] = None
    engine.write = lambda text: _write(outstream, text)  # lines of an answer sent while its command runs
    try:
        while not engine.quit_requested:
            raw = instream.readline(protocol.MAX_LINE + 1)
            if pondering is not None:  # the opponent has answered (or the GUI wants something): stop thinking
                pondering.close()
                pondering = None
            if open_stream is not None:
                open_stream.close()
                open_stream = None
            if not raw:
                return
            if len(raw) > protocol.MAX_LINE and not raw.endswith(b"\n"):
                _discard_rest_of_line(instream)
                answer = protocol.line_too_long(raw.decode("utf-8", "replace"))
            else:
                answer = engine.handle(raw.decode("utf-8", "replace"))
            if isinstance(answer, protocol.Streamed) and answer.until_input:
                open_stream = Repeater(answer, outstream)
            elif answer is not None:
                _write(outstream, answer)
            if engine.ponder_due:  # after the engine's own move, and after any command that left that position
                pondering = Ponderer(engine)
    finally:
        if pondering is not None:
            pondering.close()
        if open_stream is not None:
            open_stream.close()


def _write(outstream: BinaryIO, text: str) -> None:
    outstream.write(text.encode("utf-8", "replace"))
    outstream.flush()


class Repeater:
    """Prints a streamed answer's opening now, its repeat line every interval on a thread, its closing on ``close()``."""

    def __init__(self, answer: protocol.Streamed, outstream: BinaryIO) -> None:
        self.answer = answer
        self.outstream = outstream
        self._stop = threading.Event()
        _write(outstream, answer.opening)
        self._thread: Optional[threading.Thread] = None
        if answer.repeat is not None and answer.interval > 0:
            self._thread = threading.Thread(target=self._run, name="gtp-analyze", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        grow = self.answer.grow
        try:
            if grow is None:
                while not self._stop.wait(self.answer.interval):
                    _write(self.outstream, self.answer.repeat)  # type: ignore[arg-type]
                return
            while not self._stop.is_set():  # the search goes on: each interval's line is its state then
                try:
                    line = grow(self.answer.interval, self._stop)
                except Exception:  # a failed search must not kill the engine: the stream stays open, silent
                    log.exception("live analysis failed; no more lines until the next command")
                    return
                if self._stop.is_set():
                    return  # the next command has arrived: no line after it
                _write(self.outstream, protocol.answer_line(line))
        except (OSError, ValueError):  # the controller went away; the main loop will notice too
            log.info("analysis output closed", exc_info=True)

    def close(self) -> None:
        """Stop repeating (joined: no line may follow the closing), then end the answer."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        _write(self.outstream, self.answer.closing)


def _discard_rest_of_line(instream: BinaryIO) -> None:
    while True:
        chunk = instream.readline(65536)
        if not chunk or chunk.endswith(b"\n"):
            return
