"""KaTrain's own core (its KataGo engine client, game and nodes; no window) analysing a game with an engine that
speaks KataGo's analysis protocol. Run with the Python that has KaTrain (tests/test_katrain.py: .venv-katrain):

    .venv-katrain/bin/python tests/katrain/katrain_probe.py "ENGINE COMMAND" E5,C3 SECONDS

Prints one JSON line per node of the game (the empty board, then each move), one for pondering and its stop, one
for KaTrain's "find alternatives", then KaTrain's error log. Each step waits at most SECONDS.
"""

import json
import os
import sys
import time

os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")

from katrain.core.base_katrain import KaTrainBase  # noqa: E402
from katrain.core.constants import OUTPUT_ERROR, OUTPUT_KATAGO_STDERR  # noqa: E402
from katrain.core.engine import KataGoEngine  # noqa: E402
from katrain.core.game import Game  # noqa: E402
from pysgf import Move  # noqa: E402


class Probe(KaTrainBase):
    """KaTrain without its GUI: its log and its messages to the GUI (popups) are kept."""

    def __init__(self):
        self.messages = []
        super().__init__(force_package_config=True, debug_level=0)

    def log(self, message, level=0):
        if level in (OUTPUT_ERROR, OUTPUT_KATAGO_STDERR):
            self.messages.append(f"log {level}: {message}")

    def __call__(self, message, *args):
        self.messages.append(f"gui: {message} {args}")


def until(condition, seconds):
    end = time.time() + seconds
    while time.time() < end and not condition():
        time.sleep(0.05)
    return bool(condition())


def node_line(node, done):
    return {"move": node.move.gtp() if node.move else None, "complete": done, "visits": node.root_visits,
            "winrate": node.winrate, "score": node.score, "policy": len(node.policy or []),
            "ownership": len(node.ownership or []), "next": node.next_player,
            "candidates": [{k: c.get(k) for k in ("move", "visits", "winrate", "scoreLead", "pointsLost", "prior",
                                                   "pv")} for c in node.candidate_moves]}


def main():
    command, moves, seconds = sys.argv[1], sys.argv[2].split(","), float(sys.argv[3])
    kt = Probe()
    config = dict(kt.config("engine"), backend="custom", altcommand=command, max_visits=300, max_time=10.0)
    engine = KataGoEngine(kt, config)
    game = Game(kt, engine, game_properties={"SZ": 9, "KM": 7, "RU": "chinese"})
    nodes = [game.root]
    for move in moves:  # KaTrain analyses each node as it is played
        until(lambda: nodes[-1].analysis_complete, seconds)
        nodes.append(game.play(Move.from_gtp(move, player=nodes[-1].next_player)))
    for node in nodes:
        print(json.dumps(node_line(node, until(lambda: node.analysis_complete, seconds))), flush=True)

    # Pondering (KaTrain's "ponder" button): 10,000,000 visits, reports during the search, then "stop", which
    # sends terminate. The engine must come back: a normal query after it finishes.
    node = nodes[-1]
    before = node.root_visits
    game.analyze_extra("ponder")
    grew = until(lambda: node.root_visits > before + 1000, seconds)
    during = node.root_visits
    game.analyze_extra("stop")
    stopped = time.time()
    node.clear_analysis()  # so that only the next query's answer can complete it
    node.analyze(engine, visits=before)
    back = until(lambda: node.analysis_complete and engine.is_idle(), seconds)
    print(json.dumps({"ponder_grew": grew, "visits_before": before, "visits_pondering": during,
                      "back_after_stop": back, "seconds_to_answer_after_stop": round(time.time() - stopped, 2),
                      "visits_after_stop": node.root_visits}), flush=True)

    # "Find alternatives": the same node with the moves already analysed avoided at the root (KaTrain's query,
    # its callback kept so that the engine's own answer is seen, not KaTrain's merge of it into the node)
    seen = sorted(node.analysis["moves"])
    answers = []
    engine.request_analysis(node, callback=lambda result, partial: answers.append((result, partial)),
                            find_alternatives=True)
    got = until(lambda: any(not partial for _, partial in answers), seconds)
    final = next((result for result, partial in answers if not partial), {"moveInfos": []})
    print(json.dumps({"alternatives_answered": got, "avoided": seen,
                      "moves": [m["move"] for m in final["moveInfos"]]}), flush=True)
    print(json.dumps({"messages": kt.messages}), flush=True)
    # As KaTrain does on a restart: terminate, then wait for its threads. KaTrain runs a custom command under
    # `sh -c`, which does not exec it: give it as `exec ...`, else terminate stops the shell, the engine lives on
    # with KaTrain's pipes, and this join waits for ever (tests/test_katrain.py).
    engine.shutdown(finish=False)


if __name__ == "__main__":
    main()
