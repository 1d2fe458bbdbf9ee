"""`videoworld-go export`: training states -> the shipped bundle (safetensors + manifest).

    videoworld-go export --runs runs --out weights/9x9 [--metrics docs/model_eval.json]
    videoworld-go export --base weights/9x9 --runs runs/new --out weights/9x9   # replace some stages
    videoworld-go export --base B --runs none --out B --metrics m.json [--branches 4] [--symmetries 8]  # manifest only

With ``--base``, only the stages whose states are in --runs are replaced: the IDM, the value model
(added if the base has none), or a tokenizer whose encoder is the base's (so every token, and what the transformer learned, is unchanged).
A pixel LDM reads frames through the tokenizer's decoder, and a new decoder changed 3 % of v4c's
codes, i.e. every later training target: so with a new tokenizer the LDM first gets its own
frozen copy of the base's decoder (its weights unchanged, its codes exactly the base's). Every
other file, its training record and the provenance are carried over from the base bundle
unchanged, and --metrics entries are merged into the base's metrics (with no stage in --runs, that
and the player settings --branches / --symmetries are all that changes: how a graded candidate gets its figures).

Provenance recorded: the corpora the token caches were built from (data/manifest.json:
names, game counts and SHA-256 of each games.sgf), the split rule, and every stage's
config and training steps. Old files in the output folder are replaced, not kept.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import tempfile
from pathlib import Path

from engine.symmetry import VIEW_COUNTS
from models.bundle import ALL_FILES, FILES, export_bundle


def add_parser(sub) -> None:
    p = sub.add_parser("export", help="write the shipped model bundle from training runs")
    p.add_argument("--runs", default="runs", help="folder holding tokenizer/ dynamics/ transformer/ idm/ outcome/ [value/]")
    p.add_argument("--out", default="weights/9x9")
    p.add_argument("--data-dir", default="data",
                   help="the (snapshot of the) data folder the stages were trained on: its manifest is the provenance")
    p.add_argument("--stages-from", default=None,
                   help="the bundle the tokenizer / LDM / IDM / value states were unpacked from (scripts/continue_9x9.sh): "
                        "its provenance is kept beside the new one, since those stages were trained on its data")
    p.add_argument("--size", type=int, default=9)
    p.add_argument("--metrics", default=None, help="JSON file of held-out metrics to embed in the manifest")
    p.add_argument("--branches", type=int, default=None,
                   help="the player's default number of imagined branches (chosen on validation labels)")
    p.add_argument("--symmetries", type=int, choices=VIEW_COUNTS, default=None,
                   help="the player's default number of board symmetries averaged per move (chosen on validation labels)")
    p.add_argument("--visits", type=int, default=None,
                   help="the GTP engine's default tree-search visits per move (engine/search.py; 1: the network alone)")
    p.add_argument("--c-puct", type=float, default=None, help="the tree search's prior weight that goes with --visits")
    p.add_argument("--leaf-symmetries", type=int, choices=VIEW_COUNTS, default=None,
                   help="the tree search's board views below the root (a cheaper prior for more visits)")
    p.add_argument("--leaf-branches", type=int, default=None,
                   help="the tree search's imagined branches below the root")
    p.add_argument("--quiescence", type=int, choices=(0, 1), default=None,
                   help="the tree search's capture quiescence at new leaves (1: on; engine/search.py)")
    p.add_argument("--tactics", type=float, default=None,
                   help="the tree search's prior share for the rules' urgent moves (captures, escapes; 0: off)")
    p.add_argument("--branches-note", default="",
                   help="how the player settings were chosen (goes into the manifest)")
    p.add_argument("--base", default=None,
                   help="an existing bundle: replace only the stages found in --runs, keep the rest")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    runs = Path(args.runs)
    stages = {s: str(runs / s / "state.pt") for s in ("tokenizer", "dynamics", "transformer", "idm", "outcome", "value")
              if (runs / s / "state.pt").exists()}
    if args.base:
        return _over_base(args, stages)
    missing = {"tokenizer", "dynamics", "transformer", "idm"} - stages.keys()
    if missing:
        print(f"export: missing training runs: {sorted(missing)}")
        return 1
    data_manifest = json.loads((Path(args.data_dir) / "manifest.json").read_text())
    provenance = {
        "corpora": {k: {kk: v[kk] for kk in ("games", "moves", "sha256", "splits")}
                    for k, v in data_manifest["corpora"].items()},
        "split_rule": data_manifest["split_rule"],
        "data_dir": str(args.data_dir),
        "note": "token caches were built from the corpora as they were when each stage started; "
                "the IDM saw move labels of a hash-chosen share of training games only",
    }
    if args.stages_from:
        # the corpora above are what the new stages read; the unpacked ones were trained on the older bundle's
        old = json.loads((Path(args.stages_from) / "manifest.json").read_text())
        provenance["stages_from"] = {"bundle": str(args.stages_from), "created": old.get("created"),
                                     "provenance": old["provenance"]}
    metrics = json.loads(Path(args.metrics).read_text()) if args.metrics else {}
    out = Path(args.out)
    for f in ALL_FILES.values():  # replace, don't pile up
        (out / f).unlink(missing_ok=True)
    manifest = export_bundle(out, stages, str(runs / "transformer" / "vocab.npz"), args.size,
                             _context(stages["transformer"]), provenance, metrics, _player_settings({}, args))
    total = sum(f["bytes"] for f in manifest["files"].values())
    print(f"exported {len(manifest['files'])} files ({total / 1e6:.1f} MB) to {out}")
    return 0


def _player_given(args: argparse.Namespace) -> bool:
    return any((args.branches, args.symmetries, args.visits, args.c_puct, args.leaf_symmetries, args.leaf_branches,
                getattr(args, "quiescence", None) is not None, getattr(args, "tactics", None) is not None))


def _player_settings(old: dict, args: argparse.Namespace) -> dict | None:
    """The manifest's ``player`` entry: the old one with the settings given on the command line."""
    given = {k: v for k, v in (("branches", args.branches), ("symmetries", args.symmetries),
                                ("visits", args.visits), ("c_puct", args.c_puct),
                                ("leaf_symmetries", args.leaf_symmetries),
                                ("leaf_branches", args.leaf_branches)) if v}
    for key in ("quiescence", "tactics"):  # 0 is a setting too: it turns the bundle's off
        if getattr(args, key, None) is not None:
            given[key] = getattr(args, key)
    if not given:
        return old or None
    return {**{k: v for k, v in old.items() if k != "chosen_on"}, **given, "chosen_on": args.branches_note}


# a new LDM or encoder would rename the codes the transformer predicts; the IDM and the value
# model read frames (and codes) only, so either can be swapped, or the value model added
REPLACEABLE = ("tokenizer", "idm", "value")


def _same_encoder(base: Path, state_path: str) -> bool:
    """The new tokenizer state maps frames to the same ids as the base bundle's: equal encoder and FSQ."""
    import torch
    from safetensors.torch import load_file

    from models.checkpoint import load_training_state
    from models.tokenizer import id_tensors

    old = id_tensors(load_file(str(base / FILES["tokenizer"])))
    new = id_tensors(load_training_state(Path(state_path))["model"])
    return old.keys() == new.keys() and all(torch.equal(old[k], new[k]) for k in old)


def _over_base(args: argparse.Namespace, stages: dict[str, str]) -> int:
    base, out = Path(args.base), Path(args.out)
    if not (base / "manifest.json").exists():
        print(f"export: --base {base} holds no manifest.json")
        return 1
    if set(stages) - set(REPLACEABLE):
        print(f"export --base: --runs must hold only some of {list(REPLACEABLE)} (found {sorted(stages)}); "
              "a new transformer, outcome head or LDM goes out with the whole bundle")
        return 1
    if not stages and not (args.metrics or _player_given(args)):
        print(f"export --base: nothing to do: no {list(REPLACEABLE)} state in {args.runs}, no --metrics, "
              "no --branches / --symmetries / --visits / --c-puct / --leaf-symmetries / --leaf-branches / --quiescence / --tactics")
        return 1
    manifest = json.loads((base / "manifest.json").read_text())
    if "tokenizer" in stages and not _same_encoder(base, stages["tokenizer"]):
        print("export --base: the new tokenizer's encoder differs from the base's, so its tokens are not the ones "
              "the transformer learned: export the whole bundle instead")
        return 1
    with tempfile.TemporaryDirectory(dir=out.parent if out.parent.exists() else None) as tmp:
        # the new stages' files and records, written by the same code as a full export
        part = export_bundle(Path(tmp), stages, "", manifest["board_size"], 0, {}, {})
        for stage in stages:
            fname = ALL_FILES[stage]
            manifest["files"][fname] = part["files"][fname]
            manifest["training"][stage] = part["training"][stage]
            manifest["configs"][stage] = part["configs"][stage]
        written = set(stages)
        revision = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                    "replaced": sorted(stages), "base_created": manifest["created"]}
        if "tokenizer" in stages and _keep_ldm_reader(base, manifest, Path(tmp)):
            written.add("dynamics")
            revision["dynamics"] = "weights unchanged; given its own copy of the base's tokenizer decoder"
        if args.metrics:
            metrics = json.loads(Path(args.metrics).read_text())
            manifest["metrics"].update(metrics)
            revision["metrics"] = sorted(metrics)
        if _player_given(args):
            manifest["player"] = _player_settings(manifest.get("player", {}), args)
            revision["player"] = manifest["player"]
        manifest.setdefault("revisions", []).append(revision)
        out.mkdir(parents=True, exist_ok=True)
        for stage, fname in ALL_FILES.items():
            if stage not in written and fname not in manifest["files"]:
                continue  # an optional model the base does not have
            src = Path(tmp) / fname if stage in written else base / fname
            if src.resolve() != (out / fname).resolve():
                shutil.copyfile(src, out / fname)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"replaced {sorted(stages)} of {base} in {out}")
    return 0


def _keep_ldm_reader(base: Path, manifest: dict, tmp: Path) -> bool:
    """A pixel LDM reads frames through the tokenizer's decoder, so a new decoder would change its
    codes (3 % of v4c's), the targets every later training learns. Before the base's decoder is
    replaced, the LDM gets its own frozen copy of it (``reader.*`` in dynamics.safetensors, the
    ``reader_*`` config fields): its codes stay exactly the base's. True when dynamics was rewritten."""
    from safetensors.torch import load_file, save_file

    from models.checkpoint import sha256_file

    dyn, tok = manifest["configs"]["dynamics"], manifest["configs"]["tokenizer"]
    if dyn.get("kind", "latent") != "pixel" or dyn.get("reader_channels"):
        return False  # FSQ codes need no decoder; a reader already there is the LDM's original one
    tensors = load_file(str(base / FILES["dynamics"]))
    tensors.update({f"reader.{k}": v for k, v in load_file(str(base / FILES["tokenizer"])).items()
                    if k.startswith("decoder.")})
    path = tmp / FILES["dynamics"]
    save_file(tensors, str(path))
    manifest["configs"]["dynamics"] = {**dyn, "reader_channels": tok["channels"], "reader_levels": tok["levels"],
                                       "reader_res_blocks": tok["res_blocks"]}
    manifest["files"][FILES["dynamics"]] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
    return True


def _context(state_path: str) -> int:
    from models.checkpoint import load_training_state

    return int(json.loads(load_training_state(Path(state_path))["config"])["context"])
