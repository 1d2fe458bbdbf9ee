"""Train every stage of the model on a handful of random-player games, in seconds.

Shared by the model tests (a session fixture in conftest.py) and runnable as a script:
``python tests/tiny_pipeline.py OUT_DIR``. The configs are the shipped recipe shrunk to
the named "tiny" sizes; the point is that the whole walk SGF -> frames -> tokens ->
codes -> transformer -> IDM (+ value model) -> bundle -> NeuralPlayer runs, not that it plays well.
"""

from __future__ import annotations

import sys
from pathlib import Path


def make_corpus(data_dir: Path, games: int = 30, max_moves: int = 30, seed: int = 1) -> None:
    from engine.corpus import CorpusFile, game_key, update_manifest
    from engine.game import Game
    from engine.player import RandomPlayer
    from engine.sgf import dump_game

    corpus = CorpusFile(data_dir / "rand9")
    player = RandomPlayer(seed=seed)
    while corpus.count < games:
        g = Game(9)
        while not g.is_over() and g.move_number < max_moves:
            g.play(player.genmove(g, g.to_play), g.to_play)
        corpus.append(dump_game(g, "random", "random"), game_key(g), g.move_number)
    update_manifest(data_dir)


def train_tiny(root: Path, steps: int = 10) -> Path:
    """Returns the exported bundle folder."""
    import models.train.dynamics_stage as ds
    import models.train.idm_stage as ids
    import models.train.outcome_stage as ocs
    import models.train.tokenizer_stage as ts
    import models.train.transformer_stage as trs
    import models.train.value_stage as vs
    from models.bundle import export_bundle
    from models.dynamics import DYNAMICS_SIZES
    from models.idm import IDM_SIZES
    from models.tokenizer import TOKENIZER_SIZES
    from models.train.cli import apply_overrides
    from models.value import VALUE_SIZES

    data = root / "data"
    make_corpus(data)
    common = ["loop.progress=false", f"data_dir={data}", f"loop.steps={steps}", "eval_every=5"]
    up = [f"cache_dir={root / 'cache'}"]
    tok = ts.train(apply_overrides(ts.TokenizerTrainConfig(model=TOKENIZER_SIZES["tiny"]),
                                   common + [f"loop.run_dir={root / 'tok'}", "batch=8", "eval_boards=20"]))
    up.append(f"tokenizer_state={tok}")
    dyn = ds.train(apply_overrides(ds.DynamicsTrainConfig(model=DYNAMICS_SIZES["pixel-tiny"]),
                                   common + up + [f"loop.run_dir={root / 'dyn'}", "batch=8", "eval_windows=16"]))
    up.append(f"dynamics_state={dyn}")
    tr = trs.train(apply_overrides(trs.TransformerTrainConfig(size_name="tiny"),
                                   common + up + [f"loop.run_dir={root / 'tr'}", "batch=8", "eval_windows=16",
                                                  "vocab_windows=200"]))
    idm = ids.train(apply_overrides(ids.IdmTrainConfig(model=IDM_SIZES["tiny"]),
                                    [c for c in common + up if not c.startswith("cache_dir")]
                                    + [f"loop.run_dir={root / 'idm'}", "batch=16", "max_eval_games=2",
                                       "label_share=0.3"]))
    outcome = ocs.train(apply_overrides(ocs.OutcomeTrainConfig(), common[:3] + up[:2] + [
        f"loop.run_dir={root / 'outcome'}", f"transformer_state={tr}", "batch=16", "eval_windows=32"]))
    value = vs.train(apply_overrides(vs.ValueTrainConfig(model=VALUE_SIZES["tiny"]), common + [
        f"loop.run_dir={root / 'value'}", "batch=16", "eval_positions=64"]))
    out = root / "bundle"
    export_bundle(out, {"tokenizer": str(tok), "dynamics": str(dyn), "transformer": str(tr), "idm": str(idm),
                        "outcome": str(outcome), "value": str(value)},
                  str(root / "tr" / "vocab.npz"), 9, 0, {"corpus": "rand9 (random player, tiny test)"})
    return out


if __name__ == "__main__":
    print(train_tiny(Path(sys.argv[1])))
