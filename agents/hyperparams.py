"""Hyperparameters from the command line: ``k=v`` values, config files, and where each resolved value came from.

``resolve`` applies what ``Agent.__init__`` applies, in the same order (the config's
defaults, rl-baselines3-zoo's values for the env, dlzoo's tuned values, the image
policies' defaults, then the user's), and says for every field which of them won, so
that ``python -m agents hyperparams PPO CartPole-v1`` shows what ``train`` will run.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import json
import os

from agents.atari import default_policy
from agents.config import build_config
from agents.policies import PolicyNetworks

__all__ = ["CONSTRUCTOR_KEYS", "Resolved", "parse_assignment", "read_config", "resolve"]

CONSTRUCTOR_KEYS = ("policy", "policy_kwargs", "vec_env", "use_rl_zoo")
"""Keys of ``--hyperparams`` that are agent constructor arguments rather than config fields."""


def parse_assignment(text: str) -> tuple[str, object]:
    """``"batch_size=64"`` -> ``("batch_size", 64)``: the value read with ``ast.literal_eval``, else kept as a string."""
    key, sep, raw = str(text).partition("=")
    key = key.strip()
    if not sep or not key.isidentifier():
        raise ValueError(f"invalid value {text!r}; expected NAME=VALUE, e.g. learning_rate=1e-3 or net_arch=(64,64)")
    try:
        value = ast.literal_eval(raw.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        value = raw.strip()
    return key, value


def read_config(path, options) -> tuple[dict, dict]:
    """Read a YAML or JSON mapping of ``options`` (names with ``_`` or ``-``) and ``hyperparams`` (a mapping).

    Returns ``(options, hyperparams)``; an unknown key, a value of the wrong type or a file
    that is not such a mapping is a ``ValueError`` naming the file and the key.
    """
    path = os.fspath(path)
    with open(path) as f:
        text = f.read()
    try:
        if path.endswith((".yaml", ".yml")):
            import yaml

            data = yaml.safe_load(text)
        elif path.endswith(".json"):
            data = json.loads(text)
        else:
            raise ValueError("expected a .yaml, .yml or .json file")
    except ValueError as err:  # json.JSONDecodeError is one; so is our own
        raise ValueError(f"could not read config file {path!r}: {err}") from err
    except Exception as err:  # noqa: BLE001  (yaml.YAMLError and its subclasses)
        raise ValueError(f"could not read config file {path!r}: {type(err).__name__}: {err}") from err
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValueError(f"invalid config file {path!r}: a {type(data).__name__}; expected a mapping of options")
    found, hyperparams = {}, {}
    accepted = sorted(options) + ["hyperparams"]
    for key, value in data.items():
        name = str(key).replace("-", "_")
        if name == "hyperparams":
            if not isinstance(value, dict):
                raise ValueError(f"invalid hyperparams={value!r} in config file {path!r}; expected a mapping")
            hyperparams = {str(k): tuple(v) if isinstance(v, list) else v for k, v in value.items()}
        elif name in options:
            kind = options[name]
            if not isinstance(value, kind) or isinstance(value, bool):
                raise ValueError(f"invalid {key}={value!r} in config file {path!r}; expected {kind.__name__}")
            found[name] = value
        else:
            raise ValueError(f"unknown key {key!r} in config file {path!r}{_hint(name, accepted)}; "
                             f"accepted: {', '.join(accepted)}")
    return found, hyperparams


def _hint(key, names) -> str:
    close = difflib.get_close_matches(key, names, n=2)
    return f" (did you mean {', '.join(close)}?)" if close else ""


@dataclasses.dataclass
class Resolved:
    """What ``resolve`` found: the agent's keyword arguments and a ``(name, value, source)`` row per setting."""

    kwargs: dict
    rows: list


def resolve(cls, env_id: str, file_values: dict | None = None, cli_values: dict | None = None) -> Resolved:
    """The hyperparameters ``cls(env_id, **file_values, **cli_values)`` trains with, checked, and their sources.

    Sources: ``dlzoo default`` (the config dataclass), ``rl-zoo`` (``cls.RL_ZOO``), ``dlzoo tuned``
    (``cls.TUNED``; the rl-zoo value it replaces in brackets), ``policy default`` (image policies),
    ``config file`` and ``override`` (``--hyperparams``). Unknown keys fail naming the accepted ones.
    """
    file_values, cli_values = dict(file_values or {}), dict(cli_values or {})
    fields = [f.name for f in dataclasses.fields(cls.Config)]
    accepted = sorted(fields) + list(CONSTRUCTOR_KEYS)
    for where, values in (("config file hyperparams", file_values), ("--hyperparams", cli_values)):
        for key in values:
            if key not in accepted:
                raise ValueError(f"{cls.name}: unknown hyperparameter {key!r} in {where}{_hint(key, accepted)}; "
                                 f"accepted: {', '.join(accepted)}")
    merged = {**file_values, **cli_values}
    ctor = {k: merged.pop(k) for k in CONSTRUCTOR_KEYS if k in merged}
    policy_name = ctor.get("policy", default_policy(env_id))
    nets = PolicyNetworks(policy_name, ctor.get("policy_kwargs"), cls.name, cls.share_features_extractor)
    rl_zoo, tuned, policy = cls.default_layers(env_id, nets, merged, ctor.get("use_rl_zoo", True) is True)
    config = build_config(cls.Config, cls.name, {**rl_zoo, **tuned}, {**policy, **merged})

    def source(name):
        if name in cli_values:
            return "override"
        if name in file_values:
            return "config file"
        if name in policy:
            return "policy default"
        if name in tuned:
            return f"dlzoo tuned (rl-zoo: {rl_zoo[name]!r})" if name in rl_zoo else "dlzoo tuned"
        return "rl-zoo" if name in rl_zoo else "dlzoo default"

    rows = [("policy", policy_name, source("policy"))]
    rows += [(name, getattr(config, name), source(name)) for name in fields]
    return Resolved(kwargs={**ctor, **merged}, rows=rows)
