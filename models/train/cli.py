"""`videoworld-go train --stage tokenizer|dynamics|transformer|idm|outcome|value [--set key=value ...]`.

Each stage has one dataclass config (defaults = the shipped recipe); ``--set`` overrides
any field by its dotted path, e.g. ``--set loop.steps=200 --set model.channels=[8,16,32]``.
Run it again with the same run dir to resume after a kill.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import sys
from typing import Any

STAGES = {
    "tokenizer": ("models.train.tokenizer_stage", "TokenizerTrainConfig"),
    "dynamics": ("models.train.dynamics_stage", "DynamicsTrainConfig"),
    "transformer": ("models.train.transformer_stage", "TransformerTrainConfig"),
    "idm": ("models.train.idm_stage", "IdmTrainConfig"),
    "outcome": ("models.train.outcome_stage", "OutcomeTrainConfig"),
    "value": ("models.train.value_stage", "ValueTrainConfig"),
}


def _coerce(value: str, current: Any) -> Any:
    """The command line's text -> the field's type. A string field takes the text as it is (a size
    named "tiny4" or a folder named "2026" is not JSON); other fields take JSON (numbers, true /
    false, lists)."""
    if isinstance(current, str):
        return value
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        raise ValueError(f"{value!r} is not a value for a field of type {type(current).__name__} "
                         "(numbers, true/false, [lists] in JSON)") from None
    if isinstance(current, tuple) and isinstance(parsed, list):
        return tuple(parsed)
    if isinstance(current, float) and isinstance(parsed, int):
        return float(parsed)
    return parsed


def apply_overrides(cfg: Any, overrides: list[str]) -> Any:
    """Return ``cfg`` with each ``a.b.c=value`` applied (frozen dataclasses are rebuilt)."""
    for item in overrides:
        path, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"--set needs key=value, got {item!r}")
        cfg = _replace(cfg, path.split("."), value)
    return cfg


def _replace(obj: Any, keys: list[str], value: str) -> Any:
    names = {f.name for f in dataclasses.fields(obj)}
    if keys[0] not in names:
        raise ValueError(f"{type(obj).__name__} has no field {keys[0]!r} (fields: {sorted(names)})")
    current = getattr(obj, keys[0])
    if len(keys) == 1 and dataclasses.is_dataclass(current):
        new = _named_config(type(current), value)  # e.g. model=pixel: a named size of that config
    else:
        new = _coerce(value, current) if len(keys) == 1 else _replace(current, keys[1:], value)
    return dataclasses.replace(obj, **{keys[0]: new})


def _named_config(kind: type, name: str) -> Any:
    from models.dynamics import DYNAMICS_SIZES
    from models.idm import IDM_SIZES
    from models.tokenizer import TOKENIZER_SIZES
    from models.value import VALUE_SIZES

    for table in (TOKENIZER_SIZES, DYNAMICS_SIZES, IDM_SIZES, VALUE_SIZES):
        if name in table and isinstance(table[name], kind):
            return table[name]
    raise ValueError(f"no {kind.__name__} named {name!r}")


def add_parser(sub) -> None:
    p = sub.add_parser("train", help="train one stage of the model (resumable)")
    p.add_argument("--stage", required=True, choices=sorted(STAGES))
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config field")
    p.add_argument("--print-config", action="store_true", help="print the resolved config and exit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    module_name, cls_name = STAGES[args.stage]
    module = importlib.import_module(module_name)
    try:
        cfg = apply_overrides(getattr(module, cls_name)(), args.set)
    except ValueError as err:
        print(f"videoworld-go train: --set: {err}", file=sys.stderr)
        return 2
    if args.print_config:
        print(json.dumps(dataclasses.asdict(cfg), indent=2))
        return 0
    try:
        out = module.train(cfg)
    except (ValueError, FileNotFoundError) as err:  # a config that cannot run: say why, no traceback
        print(f"videoworld-go train --stage {args.stage}: {err}", file=sys.stderr)
        return 2
    print(f"{args.stage}: done, state in {out}")
    return 0
