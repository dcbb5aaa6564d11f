"""``agents.check_env``: can dlzoo's agents learn on this environment? (stable-baselines3's ``check_env``)

Three layers, cheapest and clearest first: the spaces (a Box observation space of
floats or uint8 images; Discrete or bounded 1-D Box actions, or those of ``agent=``),
a reset and a few seeded random steps (observations of the declared shape, dtype
and bounds, finite; rewards finite scalars; bool flags), then gymnasium's own
checker (API, seeding determinism, data not reused). Each problem is a
``ValueError`` saying what is wrong, what is accepted and what to do; gymnasium's
warnings come through unless ``warn=False``.
"""

from __future__ import annotations

import inspect
import numbers
import warnings

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env as gymnasium_check_env

from agents.env_util import check_env_id, make_env
from agents.registry import agent_class, list_agents
from zoo.core.checks import check_bool, fail

__all__ = ["check_env", "STEPS"]

STEPS = 50
"""Random steps of the rollout check (episodes that end are reset)."""
OWNER = "check_env"
#: Observation spaces that ``gymnasium.wrappers.FlattenObservation`` turns into a flat Box (Discrete: one-hot).
_FLATTENABLE = (spaces.Dict, spaces.Tuple, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary)


def check_env(env, warn: bool = True, agent=None) -> None:
    """Raise ``ValueError`` naming the first problem that would stop an agent learning on ``env``; else ``None``.

    ``env``: a gymnasium id (made, checked and closed here) or a ``gymnasium.Env``
    (reset and stepped with seed 0: its state changes). ``agent``: a name
    (``"DQN"``) or an agent class whose action spaces the env must have.
    ``warn=False`` silences gymnasium's warnings.
    """
    check_bool("warn", warn, OWNER)
    cls = None if agent is None else _agent(agent)
    if isinstance(env, gym.vector.VectorEnv) or not isinstance(env, (str, gym.Env)):
        fail("env", env, "a gymnasium id string or a gymnasium.Env (one env, not a vector env)", OWNER,
             error=TypeError)
    if isinstance(env, str):
        check_env_id(env)
    label = f"env={env!r}" if isinstance(env, str) else f"env {type(env.unwrapped).__name__}"
    with warnings.catch_warnings():
        if not warn:
            warnings.simplefilter("ignore")
        instance = make_env(env) if isinstance(env, str) else env
        try:
            check_spaces(instance.observation_space, instance.action_space, cls, label)
            _check_rollout(instance, label)
            _gymnasium_checks(instance.unwrapped if isinstance(env, str) else instance, label)
        finally:
            if isinstance(env, str):
                instance.close()


def _agent(agent):
    """The agent class of a name or a class (a ``TypeError`` for anything else)."""
    if isinstance(agent, str):
        return agent_class(agent)
    if isinstance(agent, type) and isinstance(getattr(agent, "action_spaces", None), tuple):
        return agent
    fail("agent", agent, f"None, an agent name (one of {list_agents()}) or an agent class", OWNER, error=TypeError)


# --------------------------------------------------------------------------- spaces


def check_spaces(observation_space, action_space, cls=None, label="env"):
    """``ValueError`` unless dlzoo's agents (or ``cls``) support these spaces, with the wrapper that fixes it."""
    _check_observation_space(observation_space, label)
    _check_action_space(action_space, cls, label)


def _check_observation_space(space, label):
    if isinstance(space, _FLATTENABLE):
        raise ValueError(
            f"{OWNER}: {label} has observation space {space}: a {type(space).__name__} observation space is not "
            "supported; dlzoo's agents take a Box (floats, or uint8 images). Wrap the env in "
            "gymnasium.wrappers.FlattenObservation(env) to get a flat Box (one-hot for Discrete), then in "
            "gymnasium.wrappers.DtypeObservation(env, numpy.float32) where that Box holds integers"
        )
    if not isinstance(space, spaces.Box):
        raise ValueError(f"{OWNER}: {label} has observation space {space} ({type(space).__name__}), which is not "
                         "supported; expected a Box of floats or a uint8 image Box")
    if not (np.issubdtype(space.dtype, np.floating) or space.dtype == np.uint8):
        raise ValueError(
            f"{OWNER}: {label} has observation space {space} of dtype {space.dtype}; expected a floating dtype or "
            "uint8 (images). Wrap the env in gymnasium.wrappers.DtypeObservation(env, numpy.float32)"
        )


def _space_names(types):
    return " or ".join("Discrete" if t is spaces.Discrete else "Box (1-D, bounded)" if t is spaces.Box
                       else t.__name__ for t in types)


def _check_action_space(space, cls, label):
    supported = cls.action_spaces if cls is not None else (spaces.Discrete, spaces.Box)
    if not isinstance(space, supported):
        who = f"{cls.name} supports" if cls is not None else "dlzoo's agents support"
        others = [n for n in list_agents() if isinstance(space, agent_class(n).action_spaces)]
        hint = f"; agents that support it: {', '.join(others)}" if others else ""
        if isinstance(space, spaces.Box) and spaces.Discrete in supported:
            hint += ", or discretize the actions: gymnasium.wrappers.DiscretizeAction(env, bins=5)"
        raise ValueError(f"{OWNER}: {label} has action space {space}, which is not supported: "
                         f"{who} {_space_names(supported)} action spaces{hint}")
    if isinstance(space, spaces.Box) and len(space.shape) != 1:
        raise ValueError(
            f"{OWNER}: {label} has action space {space} of shape {space.shape}; expected a 1-D Box. Reshape the "
            "actions with gymnasium.wrappers.TransformAction(env, func, action_space) declaring the flat Box"
        )
    if isinstance(space, spaces.Box) and not (np.all(np.isfinite(space.low)) and np.all(np.isfinite(space.high))):
        raise ValueError(
            f"{OWNER}: {label} has action space {space} with infinite bounds; expected finite bounds (actions are "
            "sampled and squashed within them). Declare the range the env really accepts, e.g. "
            "gymnasium.wrappers.TransformAction(env, lambda a: a, gymnasium.spaces.Box(-1.0, 1.0, shape)), then "
            "gymnasium.wrappers.RescaleAction / ClipAction if needed (both need finite bounds to start from)"
        )


# --------------------------------------------------------------------------- a seeded random rollout


def _check_rollout(env, label):
    """Reset and ``STEPS`` random steps (seed 0), checking every observation, reward and flag."""
    params = inspect.signature(env.reset).parameters
    if not ({"seed", "options"} <= set(params) or any(p.kind is p.VAR_KEYWORD for p in params.values())):
        raise ValueError(f"{OWNER}: {label}: reset{inspect.signature(env.reset)} does not take seed= and options=; "
                         "expected gymnasium's reset(self, seed=None, options=None) calling super().reset(seed=seed)")
    space = env.observation_space
    env.action_space.seed(0)
    _check_obs(_reset(env, label, seed=0), space, "reset()", label)
    for t in range(1, STEPS + 1):
        result = env.step(env.action_space.sample())
        if not (isinstance(result, tuple) and len(result) == 5):
            raise ValueError(f"{OWNER}: {label}: step() returned {_short(result)}; expected the tuple "
                             "(observation, reward, terminated, truncated, info) of gymnasium's API")
        obs, reward, terminated, truncated, _ = result
        where = f"step {t}"
        _check_obs(obs, space, where, label)
        _check_reward(reward, where, label)
        for name, flag in (("terminated", terminated), ("truncated", truncated)):
            if not isinstance(flag, (bool, np.bool_)):
                raise ValueError(f"{OWNER}: {label}: {name}={_short(flag)} at {where}; expected a bool "
                                 f"(True when the episode {'ended' if name == 'terminated' else 'was cut'})")
        if terminated or truncated:
            _check_obs(_reset(env, label), space, f"reset() after {where}", label)


def _reset(env, label, **kwargs):
    result = env.reset(**kwargs)
    if not (isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], dict)):
        raise ValueError(f"{OWNER}: {label}: reset() returned {_short(result)}; expected the tuple "
                         "(observation, info: dict) of gymnasium's API")
    return result[0]


def _short(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _check_obs(obs, space, where, label):
    """The observation of ``where``: a numpy array of the space's shape and dtype, finite, inside the bounds."""
    what = f"{OWNER}: {label}: the observation of {where}"
    if not isinstance(obs, np.ndarray):
        raise ValueError(f"{what} is a {type(obs).__name__} ({_short(obs)}); expected a numpy array of shape "
                         f"{space.shape} and dtype {space.dtype}: return numpy.asarray(obs, dtype=numpy.{space.dtype})")
    if obs.shape != space.shape:
        raise ValueError(f"{what} has shape {obs.shape}; the observation space declares {space.shape}: return "
                         f"observations of that shape, or declare the space with shape={obs.shape}")
    if obs.dtype != space.dtype:
        raise ValueError(f"{what} has dtype {obs.dtype}; the observation space declares {space.dtype}: return "
                         f"obs.astype(numpy.{space.dtype}), or declare the space with dtype=numpy.{obs.dtype}")
    if np.issubdtype(obs.dtype, np.floating) and not np.all(np.isfinite(obs)):
        index = tuple(int(i) for i in np.argwhere(~np.isfinite(obs))[0])
        raise ValueError(f"{what} contains NaN or inf (obs[{_at(index)}] = {obs[index]}); observations must be finite: "
                         "fix the env's computation (a division by zero, an overflow) or clip the observations")
    if not space.contains(obs):
        outside = np.argwhere((obs < space.low) | (obs > space.high))
        index = tuple(int(i) for i in outside[0]) if len(outside) else ()
        bounds = f"[{space.low[index]}, {space.high[index]}]" if index else f"[{space.low}, {space.high}]"
        raise ValueError(f"{what} is outside the observation space: obs[{_at(index)}] = {obs[index]} not in {bounds}; "
                         "return observations inside the declared bounds, or declare wider bounds")


def _at(index):
    """``(1, 2)`` -> ``"1, 2"`` (an array index as written in Python)."""
    return ", ".join(str(i) for i in index)


def _check_reward(reward, where, label):
    scalar = isinstance(reward, numbers.Real) or (isinstance(reward, np.ndarray) and reward.shape == ()
                                                  and np.issubdtype(reward.dtype, np.number))
    if not scalar or isinstance(reward, (bool, np.bool_)):
        raise ValueError(f"{OWNER}: {label}: the reward of {where} is {_short(reward)} ({type(reward).__name__}); "
                         "expected a finite scalar number (a float)")
    if not np.isfinite(float(reward)):
        raise ValueError(f"{OWNER}: {label}: the reward of {where} is {float(reward)}; rewards must be finite: "
                         "a NaN or infinite reward makes every loss NaN. Fix or clip the env's reward")


# --------------------------------------------------------------------------- gymnasium's checker


def _gymnasium_checks(env, label):
    """gymnasium's ``check_env`` (render modes skipped: agents do not render); its assertions as ``ValueError``."""
    try:
        gymnasium_check_env(env, skip_render_check=True)
    except (AssertionError, gym.error.Error) as err:
        raise ValueError(f"{OWNER}: {label} fails gymnasium's env checker (gymnasium.utils.env_checker.check_env): "
                         f"{err}") from err
