"""Resumable training: ``agent.learn(total, checkpoint_dir=d)`` continues exactly after a kill.

Every ``checkpoint_every`` env steps (at the end of the epoch that reaches them;
default: every 10 epochs) and at the end of ``learn``, ``d/checkpoint.zip`` is
rewritten atomically (a temporary file beside it, fsynced, then ``os.replace``),
so a kill at any moment leaves the previous complete checkpoint. It holds:

- ``meta.json``: the agent's identity (class, env id, seed, policy, hyperparameters,
  spaces), the position of the ``learn`` call (its ``total_timesteps``, start and
  target step, epoch, whether it finished), the Python counters
  (``Agent._state_attrs``: ``num_timesteps``, schedule inputs, ...), the NumPy
  generators' states, the History and the sub-envs' state (``agents.env_state``: each
  layer's plain attributes, its ``np_random`` included);
- ``arrays.npz``: every variable (networks, observation normaliser, every optimizer's
  iterations and moments, ``tf.Variable`` counters, ``tf.random.Generator`` states),
  the last observations, running returns, the episode-statistics windows, the envs'
  arrays and the machinery's arrays (``_checkpoint_state``: the replay buffer, off-policy).

Nothing is pickled: an env whose state is not plain data (a Box2D world, an emulator)
is refused before training.

Rerunning the same call (a new process, the same constructor and ``learn``
arguments) checks that the checkpoint belongs to this agent, restores it and
continues to the same target: the final weights equal an uninterrupted run's.
"""

from __future__ import annotations

import collections
import dataclasses
import io
import json
import os
import zipfile

import gymnasium as gym
import keras
import numpy as np
import tensorflow as tf

from agents import env_state
from agents.save_util import agent_config
from zoo.core.checks import check_int, check_path
from zoo.core.io import atomic_path

__all__ = ["FILENAME", "FORMAT_VERSION", "DEFAULT_EPOCHS", "Checkpointer", "checkpoint_path", "read_info"]

FILENAME = "checkpoint.zip"
FORMAT_VERSION = 1
DEFAULT_EPOCHS = 10
"""Without ``checkpoint_every``, a checkpoint every this many epochs."""


def checkpoint_path(checkpoint_dir) -> str:
    """The checkpoint file inside ``checkpoint_dir``."""
    return os.path.join(os.fspath(checkpoint_dir), FILENAME)


def read_info(checkpoint_dir) -> dict | None:
    """Where the checkpointed run stands (``learn`` position and ``num_timesteps``), or None without one."""
    path = checkpoint_path(checkpoint_dir)
    if not os.path.isfile(path):
        return None
    meta = _read(path)[0]
    return {**meta["learn"], "num_timesteps": meta["attrs"]["num_timesteps"]}


def _identity(agent) -> dict:
    """What must match between the checkpoint and the agent resuming it (JSON-normalised)."""
    config = agent_config(agent)
    config.pop("num_timesteps")
    return json.loads(json.dumps(config))


def _with_new_fields(saved, agent) -> dict:
    """A checkpoint written before a hyperparameter existed, with that field at its default (which is what
    the run had: a new field's default keeps the old behaviour)."""
    hyperparams = saved.get("hyperparams")
    if not isinstance(hyperparams, dict):
        return saved
    added = {f.name: f.default for f in dataclasses.fields(agent.config)
             if f.name not in hyperparams and f.default is not dataclasses.MISSING}
    return {**saved, "hyperparams": {**hyperparams, **json.loads(json.dumps(added))}}


def _differences(saved, here, prefix="") -> list[str]:
    out = []
    for key in sorted(set(saved) | set(here), key=str):
        a, b = saved.get(key, "<absent>"), here.get(key, "<absent>")
        if isinstance(a, dict) and isinstance(b, dict):
            out += _differences(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix}{key}: {a!r} in the checkpoint, {b!r} here")
    return out


def _of_type(agent, kind):
    """``[(attribute, value)]`` of the agent's attributes of type ``kind``, by name."""
    return [(k, v) for k, v in sorted(vars(agent).items()) if isinstance(v, kind)]


def _variables(agent) -> list[tuple[str, object]]:
    """Every variable training changes, under names that do not depend on Keras' name counters."""
    out, seen = [], set()

    def add(name, var):
        if id(var) not in seen:
            seen.add(id(var))
            out.append((name, var))

    for i, var in enumerate(agent.model.weights):
        add(f"model/{i}", var)
    optimizers = _of_type(agent, keras.optimizers.Optimizer) + [("model.optimizer", agent.model.optimizer)]
    for attr, opt in optimizers:
        if isinstance(opt, keras.optimizers.Optimizer):
            for i, var in enumerate(opt.variables):
                add(f"{attr}/{i}", var)
    for attr, var in _of_type(agent, tf.Variable):
        add(attr, var)
    for attr, gen in _of_type(agent, tf.random.Generator):
        add(f"{attr}.state", gen.state)
    return out


_SUPPORTED = ("supported: envs whose state is plain Python and NumPy data (classic control, most custom envs; "
              "not Box2D, MuJoCo or Atari)")


def _check_envs(agent):
    """A SyncVectorEnv whose sub-envs' state is plain data (checked before the reset and after it)."""
    env = agent.env
    if not isinstance(env, gym.vector.SyncVectorEnv):
        raise ValueError(
            f"{agent.name}: checkpoint_dir needs a gymnasium.vector.SyncVectorEnv (its sub-envs are saved); "
            f"env is a {type(env).__name__}. Pass the env id, a gymnasium.Env or a SyncVectorEnv"
        )
    try:
        env_state.capture(env.envs)
    except env_state.Unsupported as err:
        raise ValueError(
            f"{agent.name}: checkpoint_dir saves the envs' state as plain data (numbers, arrays, random "
            f"generators; no pickle), and env {agent.env_id or type(env.envs[0].unwrapped).__name__!r} holds "
            f"{err.attribute} (type {err.kind}); {_SUPPORTED}"
        ) from err


def _unreadable(path, err) -> ValueError:
    return ValueError(f"could not read checkpoint {path!r} ({type(err).__name__}: {err}); delete it, or pass "
                      "another checkpoint_dir, to start over")


#: meta.json's parts and the keys each must have
_META = {"agent": (), "attrs": (), "generators": (), "variables": (), "envs": (), "history": ("epoch", "history"),
         "learn": ("total_timesteps", "start", "target", "epoch", "done")}


def _read(path):
    """``(meta, arrays)`` of a checkpoint file; ``ValueError`` if it cannot be read."""
    try:
        with zipfile.ZipFile(path) as zf:
            meta = json.loads(zf.read("meta.json"))
            if meta.get("format_version") != FORMAT_VERSION:
                raise ValueError(f"format_version={meta.get('format_version')!r}; expected {FORMAT_VERSION}")
            with np.load(io.BytesIO(zf.read("arrays.npz")), allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        missing = [f"{part}.{key}" if key else part for part, keys in _META.items()
                   for key in (keys or ("",)) if part not in meta or (key and key not in meta[part])]
        if missing:
            raise ValueError(f"meta.json lacks {', '.join(missing)}")
    except Exception as err:  # noqa: BLE001  (a torn or foreign file: zip, JSON or npz errors)
        raise _unreadable(path, err) from err
    return meta, arrays


class Checkpointer:
    """The checkpoints of one ``learn`` call: ``resume`` at its start, ``after_epoch`` and ``finish``."""

    def __init__(self, agent, checkpoint_dir, checkpoint_every, total_timesteps):
        if checkpoint_dir is None:
            raise ValueError(f"{agent.name}: checkpoint_every={checkpoint_every!r} needs checkpoint_dir= "
                             "(where checkpoints go)")
        self.dir = os.fspath(check_path("checkpoint_dir", checkpoint_dir, agent.name))
        if os.path.exists(self.dir) and not os.path.isdir(self.dir):
            raise ValueError(f"{agent.name}: invalid checkpoint_dir={self.dir!r}; it is a file, expected a folder")
        check_int("checkpoint_every", checkpoint_every, minimum=1, allow_none=True, owner=agent.name)
        _check_envs(agent)
        self.agent, self.path, self.total = agent, checkpoint_path(self.dir), int(total_timesteps)
        self.every = checkpoint_every or DEFAULT_EPOCHS * agent._steps_per_epoch()
        self.start = self.target = self.last = None

    def begin(self, start, target):
        """A fresh run from ``start`` to ``target`` env steps (the envs are reset: some state exists only now)."""
        _check_envs(self.agent)
        self.start, self.target, self.last = start, target, start

    def resume(self) -> dict | None:
        """Restore the checkpoint if there is one; returns its ``learn`` position and ``History``, else None.

        Everything is read and checked before anything is set: a foreign or torn
        checkpoint raises ``ValueError`` and leaves the agent as it was.
        """
        _remove_torn_writes(self.dir)
        if not os.path.isfile(self.path):
            return None
        agent = self.agent
        meta, arrays = _read(self.path)
        saved, here = meta["agent"], _identity(agent)
        if saved.get("agent") != here["agent"]:  # another class: its hyperparameters differ anyway
            saved, here = {"agent": saved.get("agent")}, {"agent": here["agent"]}
        else:
            saved = _with_new_fields(saved, agent)
        diffs = _differences(saved, here)
        if len(diffs) > 6:
            diffs = diffs[:5] + [f"and {len(diffs) - 5} more"]
        if meta["learn"]["total_timesteps"] != self.total:
            diffs.append(f"learn total_timesteps: {meta['learn']['total_timesteps']} in the checkpoint, "
                         f"{self.total} here")
        if diffs:
            raise ValueError(
                f"{agent.name}: checkpoint_dir={self.dir!r} holds a checkpoint of another run: {'; '.join(diffs)}. "
                "Rerun with the same agent and learn arguments, or pass another checkpoint_dir"
            )
        try:
            commit = self._prepare(meta, arrays)
        except (KeyError, AttributeError, TypeError) as err:
            raise _unreadable(self.path, err) from err
        commit()
        learn = meta["learn"]
        self.start, self.target, self.last = learn["start"], learn["target"], agent.num_timesteps
        return {**learn, "history_epochs": meta["history"]["epoch"], "history": meta["history"]["history"]}

    def _prepare(self, meta, arrays):
        """Check every saved piece against the agent; return the function that sets them all."""
        agent = self.agent
        variables = _variables(agent)
        names = [name for name, _ in variables]
        if meta["variables"] != names:
            raise ValueError(f"checkpoint {self.path!r} holds variables {meta['variables']}; "
                             f"this agent has {names}")
        for name, var in variables:
            if tuple(arrays[f"var/{name}"].shape) != tuple(var.shape):
                raise ValueError(f"checkpoint {self.path!r}: variable {name} has shape "
                                 f"{arrays[f'var/{name}'].shape}; this agent's has {tuple(var.shape)}")
        if sorted(meta["attrs"]) != sorted(agent._state_attrs):
            raise ValueError(f"checkpoint {self.path!r} does not match this agent's counters")
        try:
            set_envs = env_state.restore(agent.env.envs, meta["envs"], arrays)
        except ValueError as err:
            raise ValueError(f"checkpoint {self.path!r} does not match this agent's envs: {err}") from err
        if arrays["last_obs"].shape != (agent.n_envs, agent.obs_dim):
            raise ValueError(f"checkpoint {self.path!r}: last_obs has shape {arrays['last_obs'].shape}")
        machinery = agent._restore_state({k[5:]: v for k, v in arrays.items() if k.startswith("mach/")})
        generators = dict(_of_type(agent, np.random.Generator))
        if sorted(generators) != sorted(meta["generators"]):
            raise ValueError(f"checkpoint {self.path!r} holds generators {sorted(meta['generators'])}; "
                             f"this agent has {sorted(generators)}")

        def commit():
            for name, var in variables:
                var.assign(arrays[f"var/{name}"])
            for name, gen in generators.items():
                gen.bit_generator.state = meta["generators"][name]
            for name, value in meta["attrs"].items():
                setattr(agent, name, value)
            window = agent.config.stats_window
            agent._episode_returns = collections.deque(arrays["episode_returns"].tolist(), maxlen=window)
            agent._episode_lengths = collections.deque(arrays["episode_lengths"].tolist(), maxlen=window)
            agent._running_return = arrays["running_return"].astype(np.float64)
            agent.reward_normalizer.pull()
            returns = arrays["reward_returns"] if "reward_returns" in arrays else np.zeros(0)  # older checkpoints
            agent.reward_normalizer.returns = returns.astype(np.float64) if returns.size else None
            agent._running_length = arrays["running_length"].astype(np.int64)
            agent._last_obs = arrays["last_obs"].astype(np.float32)
            set_envs()
            machinery()
            agent.normalizer.sync()
            agent._lr_set = {}  # the optimizers' learning rates are restored variables now

        return commit

    def after_epoch(self, epoch):
        """Save when ``checkpoint_every`` steps have passed since the last checkpoint (not at the end)."""
        agent = self.agent
        if (agent.num_timesteps - self.last >= self.every and agent.num_timesteps < self.target
                and not agent.model.stop_training):
            self.save(epoch, done=False)

    def finish(self, epoch):
        """The final checkpoint: a rerun of the call returns at once with this state."""
        self.save(epoch, done=True)

    def save(self, epoch, done):
        """Write the checkpoint atomically: the previous one stays until this one is complete."""
        agent = self.agent
        variables = _variables(agent)
        history = agent.history
        meta = {
            "format_version": FORMAT_VERSION,
            "agent": _identity(agent),
            "learn": {"total_timesteps": self.total, "start": self.start, "target": self.target,
                      "epoch": int(epoch), "done": bool(done)},
            "attrs": {name: _plain(getattr(agent, name)) for name in agent._state_attrs},
            "generators": {name: gen.bit_generator.state for name, gen in _of_type(agent, np.random.Generator)},
            "variables": [name for name, _ in variables],
            "history": {"epoch": list(getattr(history, "epoch", [])),
                        "history": {k: [float(x) for x in v] for k, v in history.history.items()}},
        }
        agent.reward_normalizer.flush()
        arrays = {f"var/{name}": np.asarray(var.numpy()) for name, var in variables}
        arrays.update({
            "episode_returns": np.asarray(agent._episode_returns, np.float64),
            "episode_lengths": np.asarray(agent._episode_lengths, np.int64),
            "running_return": agent._running_return, "running_length": agent._running_length,
            "reward_returns": np.zeros(0) if (r := agent.reward_normalizer.returns) is None else r,
            "last_obs": agent._last_obs,
        })
        arrays.update({f"mach/{k}": v for k, v in agent._checkpoint_state().items()})
        meta["envs"], env_arrays = env_state.capture(agent.env.envs)
        arrays.update(env_arrays)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        os.makedirs(self.dir, exist_ok=True)
        with atomic_path(self.path, suffix=".zip") as tmp:
            with open(tmp, "wb") as f:
                with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED) as zf:
                    zf.writestr("meta.json", json.dumps(meta))
                    zf.writestr("arrays.npz", buffer.getvalue())
                f.flush()
                os.fsync(f.fileno())
        self.last = agent.num_timesteps


def _remove_torn_writes(directory):
    """Delete the temporary files of checkpoint writes that a kill interrupted (``atomic_path``'s names)."""
    if os.path.isdir(directory):
        for name in os.listdir(directory):
            if name.startswith(f".{FILENAME}.") and name.endswith(".tmp.zip"):
                os.remove(os.path.join(directory, name))


def _plain(value):
    """A counter as a JSON value (NumPy scalars to Python)."""
    return value.item() if isinstance(value, np.generic) else value
