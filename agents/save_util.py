"""Saving and loading agents: one zip holding ``config.json`` and the Keras weights, no pickle.

The zip is written atomically (``zoo.core.io.atomic_path``); ``load`` checks the
file and the env's spaces before any weight is set. ``include_replay=True`` adds
an off-policy agent's replay buffer as ``replay.npz`` (read with ``allow_pickle=False``).
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import tempfile
import zipfile

import gymnasium as gym
import numpy as np

from agents.registry import agent_class
from zoo.core.checks import check_bool, check_path
from zoo.core.io import atomic_path

__all__ = ["FORMAT_VERSION", "agent_config", "save", "load", "space_dict"]

FORMAT_VERSION = 1


def space_dict(space) -> dict:
    """A JSON description of a gymnasium space (compared on load)."""
    if isinstance(space, gym.spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n)}
    if isinstance(space, gym.spaces.Box):
        return {"type": "Box", "shape": list(space.shape), "low": np.asarray(space.low).tolist(),
                "high": np.asarray(space.high).tolist()}
    return {"type": type(space).__name__, "repr": repr(space)}


def agent_config(agent) -> dict:
    """What ``config.json`` holds: the class, env id, seed, policy and its kwargs, hyperparameters, timesteps, spaces."""
    return {
        "format_version": FORMAT_VERSION,
        "agent": agent.name,
        "env_id": agent.env_id,
        "seed": agent.seed,
        "policy": agent.policy,
        "policy_kwargs": agent.policy_kwargs,
        "vec_env": agent.vec_env,
        "hyperparams": {k: list(v) if isinstance(v, tuple) else v
                        for k, v in dataclasses.asdict(agent.config).items()},
        "num_timesteps": int(agent.num_timesteps),
        "observation_space": space_dict(agent.observation_space),
        "action_space": space_dict(agent.action_space),
    }


def save(agent, path, include_replay: bool = False) -> str:
    """Write ``config.json`` and the weights (Keras ``.weights.h5``) into one zip, atomically; return its path.

    ``include_replay=True`` also writes the replay buffer (``replay.npz``); an agent without one is a ValueError.
    """
    path = os.fspath(check_path("path", path, "save"))
    check_bool("include_replay", include_replay, agent.name)
    if include_replay and not hasattr(agent, "replay"):
        raise ValueError(f"{agent.name}: invalid include_replay=True; {agent.name} has no replay buffer "
                         "(it is an on-policy agent); expected include_replay=False")
    if not path.endswith(".zip"):
        path += ".zip"
    with tempfile.TemporaryDirectory() as tmp:
        weights = os.path.join(tmp, "agent.weights.h5")
        agent.reward_normalizer.flush()
        agent.model.save_weights(weights)
        with atomic_path(path, suffix=".zip") as archive, zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("config.json", json.dumps(agent.get_config(), indent=2))
            zf.write(weights, "agent.weights.h5")
            if include_replay:
                replay = io.BytesIO()
                np.savez(replay, **agent.replay.state())
                zf.writestr("replay.npz", replay.getvalue())
    return path


def load(path, env=None, **overrides):
    """Load an agent saved with ``agent.save(path)``: same class, hyperparameters and weights.

    ``env`` (an id, env or vector env) is required when the agent was trained on an
    env without a registered id. The file is checked before anything is built. The
    envs are rebuilt of the saved kind (``vec_env``; ``vec_env=`` overrides it).
    """
    path = os.fspath(check_path("path", path, "agents.load", accepted="a path to an agent .zip file"))
    if not os.path.isfile(path) and os.path.isfile(path + ".zip"):
        path += ".zip"
    if not os.path.isfile(path):
        raise FileNotFoundError(f"agent file {path!r} does not exist")
    try:
        with zipfile.ZipFile(path) as zf:
            config = json.loads(zf.read("config.json"))
            weights = zf.read("agent.weights.h5")
            replay = None
            if "replay.npz" in zf.namelist():
                with np.load(io.BytesIO(zf.read("replay.npz")), allow_pickle=False) as npz:
                    replay = {k: npz[k] for k in npz.files}
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, ValueError, OSError) as err:
        raise ValueError(f"could not read agent file {path!r}: {err}") from err
    if config.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"agent file {path!r} has format_version={config.get('format_version')!r}; "
                         f"expected {FORMAT_VERSION}")
    cls = agent_class(config["agent"])
    env = env if env is not None else config["env_id"]
    if env is None:
        raise ValueError(f"agent file {path!r} was trained on an unregistered env; pass env=")
    vec_env = overrides.pop("vec_env", config.get("vec_env", "sync"))  # files before vec_env ran sync
    hyperparams = {**config["hyperparams"], **overrides}
    if not isinstance(env, str):
        hyperparams.pop("n_envs", None)
    if not isinstance(env, gym.vector.VectorEnv):  # a vector env runs as it is
        hyperparams["vec_env"] = vec_env
    agent = cls(env, policy=config["policy"], policy_kwargs=config.get("policy_kwargs"), seed=config["seed"],
                use_rl_zoo=False, **hyperparams)
    for key in ("observation_space", "action_space"):
        if space_dict(getattr(agent, key)) != config[key]:
            raise ValueError(f"agent file {path!r} was saved for {key} {config[key]}; "
                             f"env has {space_dict(getattr(agent, key))}")
    with tempfile.TemporaryDirectory() as tmp:
        wpath = os.path.join(tmp, "agent.weights.h5")
        with open(wpath, "wb") as f:
            f.write(weights)
        agent.model.load_weights(wpath)
        agent.reward_normalizer.pull()
    if replay is not None and hasattr(agent, "replay"):
        try:
            agent.replay = agent.replay.with_state(replay)
        except ValueError as err:
            raise ValueError(f"could not read the replay buffer of agent file {path!r}: {err}") from err
    agent.num_timesteps = int(config.get("num_timesteps", 0))
    return agent
