"""What every agent shares: envs, the learn loop, callbacks, logging, save/load.

An algorithm file (``ppo.py``, ``sac.py`` ...) holds only its hyperparameters,
its networks and its update. Everything else is here:

- ``make_vec_env``: an id, a ``gymnasium.Env`` or a ``gymnasium.vector`` env ->
  a ``SyncVectorEnv`` with same-step autoreset (the final observation of an
  episode is in ``infos["final_obs"]``, so truncated episodes bootstrap from it);
- ``Agent.learn``: the loop that reports one Keras "epoch" per rollout
  (on-policy) or per ``log_interval`` steps (off-policy) to ordinary
  ``keras.callbacks.Callback`` objects, with logs ``episode_return``,
  ``episode_length``, the losses, ``steps_per_second`` and ``timesteps``;
- ``OnPolicyAgent`` (rollouts of ``n_steps`` x ``n_envs``, GAE) and
  ``OffPolicyAgent`` (replay buffer, ``train_freq`` / ``gradient_steps``);
- ``save`` / ``load``: one zip holding ``config.json`` and the Keras weights, no pickle.
"""

from __future__ import annotations

import abc
import collections
import dataclasses
import difflib
import io
import json
import math
import numbers
import os
import tempfile
import time
import zipfile

import gymnasium as gym
import keras
import numpy as np
import tensorflow as tf

from agents.buffers import ReplayBuffer, RolloutBuffer, compute_gae
from agents.networks import AgentModel, ObsNormalizer

__all__ = [
    "AgentConfig",
    "Agent",
    "OnPolicyAgent",
    "OffPolicyAgent",
    "make_vec_env",
    "linear_schedule",
    "register_agent",
    "make",
    "list_agents",
    "load",
]

FORMAT_VERSION = 1
_AGENTS: dict[str, type] = {}


def register_agent(cls):
    """Class decorator: make ``cls`` reachable by ``agents.make(cls.name, ...)`` and ``agents.load``."""
    _AGENTS[cls.name] = cls
    return cls


def list_agents() -> list[str]:
    """Names accepted by ``agents.make``, sorted."""
    return sorted(_AGENTS)


def _agent_class(name):
    if name not in _AGENTS:
        key = {k.lower(): k for k in _AGENTS}.get(str(name).lower())
        if key is None:
            close = difflib.get_close_matches(str(name).upper(), list(_AGENTS), n=3, cutoff=0.4)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ValueError(f"unknown agent name={name!r}{hint}; expected one of {list_agents()}")
        name = key
    return _AGENTS[name]


def make(name: str, env, **kwargs):
    """``agents.make("ppo", "CartPole-v1", seed=0, n_steps=64)``: an agent by (case-insensitive) name."""
    return _agent_class(name)(env, **kwargs)


def linear_schedule(start: float, end: float, fraction: float, progress: float) -> float:
    """Linear interpolation from ``start`` to ``end`` over the first ``fraction`` of training.

    ``progress`` is the fraction of ``learn``'s timesteps done (0 at the start, 1 at
    the end); after ``fraction`` the value stays at ``end``. DQN's epsilon, and
    with ``fraction=1`` the linearly decaying learning rates and clip ranges.
    """
    if fraction <= 0:
        return float(end)
    return float(start + (end - start) * min(max(progress, 0.0) / fraction, 1.0))


# --------------------------------------------------------------------------- environments


def _check_env_id(env_id: str):
    if env_id not in gym.registry:
        close = difflib.get_close_matches(env_id, list(gym.registry), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see gymnasium.registry"
        raise ValueError(f"unknown environment env={env_id!r}{hint}")


def make_vec_env(env, n_envs: int = 1, seed: int | None = None) -> gym.vector.VectorEnv:
    """A ``SyncVectorEnv`` with same-step autoreset from an id, an env or a vector env.

    ``env`` may be a registered id (``n_envs`` copies are made), a ``gymnasium.Env``
    (``n_envs`` must be 1) or a ``gymnasium.vector.VectorEnv`` created with
    ``autoreset_mode=gymnasium.vector.AutoresetMode.SAME_STEP`` (used as it is).
    """
    same_step = gym.vector.AutoresetMode.SAME_STEP
    if not isinstance(n_envs, numbers.Integral) or isinstance(n_envs, bool) or n_envs < 1:
        raise ValueError(f"invalid n_envs={n_envs!r}; expected a positive integer")
    if isinstance(env, str):
        _check_env_id(env)
        return gym.vector.SyncVectorEnv([lambda: gym.make(env)] * int(n_envs), autoreset_mode=same_step)
    if isinstance(env, gym.vector.VectorEnv):
        mode = env.metadata.get("autoreset_mode")
        if mode != same_step:
            raise ValueError(
                f"invalid env: a vector env with autoreset_mode={mode!r}; expected one created with "
                "autoreset_mode=gymnasium.vector.AutoresetMode.SAME_STEP (so that truncated episodes "
                "bootstrap from their final observation), or pass the env id and n_envs"
            )
        return env
    if isinstance(env, gym.Env):
        if n_envs != 1:
            raise ValueError(
                f"invalid n_envs={n_envs} for a single env instance; expected 1, or pass the env id "
                "(or a gymnasium vector env) to run several copies"
            )
        return gym.vector.SyncVectorEnv([lambda: env], autoreset_mode=same_step)
    raise TypeError(
        f"invalid env={env!r} ({type(env).__name__}); expected a gymnasium id string, a gymnasium.Env "
        "or a gymnasium.vector.VectorEnv"
    )


def _env_id(env):
    if isinstance(env, str):
        return env
    spec = getattr(env, "spec", None)
    if spec is None and isinstance(env, gym.vector.SyncVectorEnv):
        spec = getattr(env.envs[0], "spec", None)
    return getattr(spec, "id", None)


def _space_dict(space) -> dict:
    if isinstance(space, gym.spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n)}
    if isinstance(space, gym.spaces.Box):
        return {"type": "Box", "shape": list(space.shape), "low": np.asarray(space.low).tolist(),
                "high": np.asarray(space.high).tolist()}
    return {"type": type(space).__name__, "repr": repr(space)}


# --------------------------------------------------------------------------- configuration


@dataclasses.dataclass
class AgentConfig:
    """Hyperparameters shared by every agent (each algorithm subclasses this)."""

    learning_rate: float = 3e-4
    """Optimizer step size."""
    lr_schedule: str = "constant"
    """``"constant"`` or ``"linear"`` (decays to 0 over ``learn``, rl-zoo's ``lin_X``)."""
    gamma: float = 0.99
    """Discount factor."""
    n_envs: int = 1
    """Number of environment copies in the ``SyncVectorEnv`` (when ``env`` is an id)."""
    net_arch: tuple = (64, 64)
    """Hidden units of every network (zoo ``mlp`` ``hidden_units``)."""
    activation: str = "tanh"
    """Hidden activation of every network."""
    normalize_obs: bool = False
    """Normalise observations with running mean and variance (saved with the agent)."""
    max_grad_norm: float | None = 0.5
    """Clip the global gradient norm (``None``: no clipping)."""
    stats_window: int = 100
    """``episode_return`` and ``episode_length`` are means over this many last episodes."""
    jit_compile: bool = True
    """Compile the update with XLA (``tf.function(jit_compile=True)``); False: plain graph."""

    def check(self, agent: str):
        """Raise ``ValueError`` naming the first invalid hyperparameter."""
        positive = ("learning_rate", "n_envs", "stats_window") + tuple(getattr(self, "_positive", ()))
        for name in positive:
            value = getattr(self, name)
            if not isinstance(value, numbers.Real) or isinstance(value, bool) or not value > 0:
                raise ValueError(f"{agent}: invalid {name}={value!r}; expected a positive number")
        if not isinstance(self.gamma, numbers.Real) or not 0 < self.gamma <= 1:
            raise ValueError(f"{agent}: invalid gamma={self.gamma!r}; expected a number in (0, 1]")
        if self.lr_schedule not in ("constant", "linear"):
            raise ValueError(f"{agent}: invalid lr_schedule={self.lr_schedule!r}; expected 'constant' or 'linear'")
        arch = self.net_arch
        if not isinstance(arch, (tuple, list)) or not all(isinstance(u, int) and u > 0 for u in arch):
            raise ValueError(f"{agent}: invalid net_arch={arch!r}; expected a tuple of positive integers")
        self.net_arch = tuple(arch)
        if self.max_grad_norm is not None and not self.max_grad_norm > 0:
            raise ValueError(f"{agent}: invalid max_grad_norm={self.max_grad_norm!r}; expected None or > 0")


def _build_config(cls, agent: str, defaults: dict, overrides: dict):
    names = [f.name for f in dataclasses.fields(cls)]
    for key in overrides:
        if key not in names:
            close = difflib.get_close_matches(key, names, n=2)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ValueError(f"{agent}: unknown hyperparameter {key!r}{hint}; accepted: {', '.join(sorted(names))}")
    values = {**{k: v for k, v in defaults.items() if k in names}, **overrides}
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    config = cls(**values)
    config.check(agent)
    return config


def _clip_grads(grads, max_norm):
    if max_norm is None:
        return grads
    return tf.clip_by_global_norm(grads, max_norm)[0]


# --------------------------------------------------------------------------- the agent


class Agent(abc.ABC):
    """Base of every agent: ``learn``, ``predict``, ``evaluate``, ``save``, ``load``.

    Subclasses set ``name``, ``Config`` (a dataclass of hyperparameters),
    ``action_spaces`` (the gymnasium space types they support), ``RL_ZOO``
    (rl-baselines3-zoo's tuned hyperparameters by env id, applied as defaults)
    and implement ``_build`` (networks), ``_policy_action`` (a graph function)
    and ``_run_epoch``.
    """

    name = "agent"
    Config = AgentConfig
    action_spaces: tuple = (gym.spaces.Discrete, gym.spaces.Box)
    RL_ZOO: dict = {}
    squashed = False  # Box actions live in [-1, 1] and are rescaled to the bounds

    def __init__(self, env, policy: str = "mlp", seed: int = 0, verbose: int = 0, use_rl_zoo: bool = True,
                 **hyperparams):
        if policy not in ("mlp", "MlpPolicy"):
            raise ValueError(f"{self.name}: invalid policy={policy!r}; expected 'mlp' (or 'MlpPolicy')")
        if not isinstance(seed, numbers.Integral) or isinstance(seed, bool):
            raise ValueError(f"{self.name}: invalid seed={seed!r}; expected an integer")
        if isinstance(env, str):
            _check_env_id(env)
        self.env_id = _env_id(env)
        # rl-zoo's values (n_envs included) apply when dlzoo makes the envs from the id
        defaults = dict(self.RL_ZOO.get(env, {})) if use_rl_zoo and isinstance(env, str) else {}
        if isinstance(env, gym.vector.VectorEnv):
            make_vec_env(env)  # checks its autoreset mode before anything else
            hyperparams.setdefault("n_envs", env.num_envs)
        elif isinstance(env, gym.Env):
            hyperparams.setdefault("n_envs", 1)
        self.config = _build_config(self.Config, self.name, defaults, hyperparams)
        self.policy, self.seed, self.verbose = "mlp", int(seed), verbose
        self.env = make_vec_env(env, self.config.n_envs, seed)
        self.n_envs = self.env.num_envs
        self.observation_space = self.env.single_observation_space
        self.action_space = self.env.single_action_space
        self._check_spaces()
        self.obs_dim = int(np.prod(self.observation_space.shape))
        self.discrete = isinstance(self.action_space, gym.spaces.Discrete)
        self.action_dim = 1 if self.discrete else int(np.prod(self.action_space.shape))
        self.n_actions = int(self.action_space.n) if self.discrete else self.action_dim
        if not self.discrete:
            self._low = self.action_space.low.astype(np.float32).reshape(-1)
            self._high = self.action_space.high.astype(np.float32).reshape(-1)

        keras.utils.set_random_seed(self.seed)
        self.rng = tf.random.Generator.from_seed(self.seed)
        self.np_rng = np.random.default_rng(self.seed)
        self.normalizer = ObsNormalizer(self.obs_dim, enabled=self.config.normalize_obs, name="obs_normalizer")
        networks, policy_net, optimizer = self._build()
        self.model = AgentModel(networks, self.normalizer, policy_net, optimizer=optimizer)
        self._policy_model = None
        self.num_timesteps = 0
        self._last_obs = None
        self._episode_returns = collections.deque(maxlen=self.config.stats_window)
        self._episode_lengths = collections.deque(maxlen=self.config.stats_window)
        self._running_return = np.zeros(self.n_envs, np.float64)
        self._running_length = np.zeros(self.n_envs, np.int64)
        self._progress = 0.0
        self.history = None
        self._predict_fn = tf.function(self._policy_action, reduce_retracing=True)

    # ------------------------------------------------------------------ to implement

    @abc.abstractmethod
    def _build(self):
        """Return ``(networks: dict, name of the policy network, main optimizer)``."""

    @abc.abstractmethod
    def _policy_action(self, obs, deterministic):
        """Graph function: raw observations -> actions in buffer format."""

    @abc.abstractmethod
    def _run_epoch(self, total_timesteps, target_timesteps) -> dict:
        """Collect experience and update for one callback epoch; returns its logs."""

    @abc.abstractmethod
    def _steps_per_epoch(self) -> int:
        """Environment steps per callback epoch."""

    # ------------------------------------------------------------------ spaces and actions

    def _check_spaces(self):
        obs, act = self.observation_space, self.action_space
        if not isinstance(obs, gym.spaces.Box):
            raise ValueError(f"{self.name}: unsupported observation space {obs}; expected a gymnasium Box")
        if not isinstance(act, self.action_spaces) or (isinstance(act, gym.spaces.Box) and len(act.shape) != 1):
            names = " or ".join(
                "Discrete" if s is gym.spaces.Discrete else "Box (1-D, bounded)" for s in self.action_spaces
            )
            raise ValueError(f"{self.name}: unsupported action space {act}; {self.name} supports {names} action spaces")
        if isinstance(act, gym.spaces.Box) and not (np.all(np.isfinite(act.low)) and np.all(np.isfinite(act.high))):
            raise ValueError(f"{self.name}: unsupported action space {act}; expected finite bounds")

    def _obs(self, obs):
        return np.asarray(obs, np.float32).reshape(-1, self.obs_dim)

    def _to_env(self, actions):
        """Buffer-format actions (numpy) -> what ``env.step`` takes."""
        if self.discrete:
            return np.asarray(actions).reshape(-1).astype(np.int64)
        actions = np.asarray(actions, np.float32).reshape(-1, self.action_dim)
        if self.squashed:
            actions = self._low + 0.5 * (actions + 1.0) * (self._high - self._low)
        return np.clip(actions, self._low, self._high).reshape(-1, *self.action_space.shape)

    # ------------------------------------------------------------------ environment steps

    def _reset_env(self):
        obs, _ = self.env.reset(seed=self.seed)
        self._last_obs = self._obs(obs)
        self._running_return[:] = 0
        self._running_length[:] = 0

    def _env_step(self, env_actions):
        """Step all envs; returns ``(next_obs, rewards, terminated, truncated, final_obs)``.

        ``final_obs`` equals ``next_obs`` except where an episode ended: there it is
        the episode's real last observation, not the first of the next one.
        """
        next_obs, rewards, terminated, truncated, infos = self.env.step(env_actions)
        next_obs = self._obs(next_obs)
        rewards = np.asarray(rewards, np.float32)
        terminated, truncated = np.asarray(terminated, bool), np.asarray(truncated, bool)
        dones = terminated | truncated
        final_obs = next_obs
        self._running_return += rewards
        self._running_length += 1
        self.num_timesteps += self.n_envs
        if dones.any():
            final_obs = next_obs.copy()
            mask = infos.get("_final_obs", dones)
            for i in np.flatnonzero(dones):
                if mask[i]:
                    final_obs[i] = np.asarray(infos["final_obs"][i], np.float32).reshape(-1)
                self._episode_returns.append(float(self._running_return[i]))
                self._episode_lengths.append(int(self._running_length[i]))
                self._running_return[i] = 0
                self._running_length[i] = 0
        return next_obs, rewards, terminated, truncated, final_obs

    # ------------------------------------------------------------------ learn

    def learn(self, total_timesteps: int, callbacks=None, progress_bar: bool = False,
              reset_num_timesteps: bool = True):
        """Train for ``total_timesteps`` env steps (all envs together); returns ``self``.

        ``callbacks`` are ``keras.callbacks.Callback`` objects; each gets one epoch
        per rollout (on-policy) or per ``log_interval`` steps (off-policy), with logs
        ``episode_return``, ``episode_length``, losses, ``steps_per_second`` and
        ``timesteps``. ``model.stop_training = True`` (EarlyStopping does it) stops
        after the current epoch. A loss that becomes NaN or infinite raises
        ``FloatingPointError``.
        """
        if not isinstance(total_timesteps, numbers.Integral) or isinstance(total_timesteps, bool) or total_timesteps < 1:
            raise ValueError(f"{self.name}: invalid total_timesteps={total_timesteps!r}; expected a positive integer")
        if callbacks is not None and not isinstance(callbacks, (list, tuple, keras.callbacks.CallbackList)):
            callbacks = [callbacks]
        callbacks = list(callbacks or [])
        for cb in callbacks:
            if not isinstance(cb, keras.callbacks.Callback):
                raise TypeError(f"{self.name}: invalid callback {cb!r}; expected keras.callbacks.Callback instances")
        epochs = max(1, math.ceil(total_timesteps / self._steps_per_epoch()))
        if progress_bar:
            from zoo.callbacks import ProgressBar

            callbacks.append(ProgressBar(total_epochs=epochs, desc=self.name))
        self.history = keras.callbacks.History()
        cbs = keras.callbacks.CallbackList(
            callbacks + [self.history], model=self.model, epochs=epochs, verbose=0, steps=None
        )
        if reset_num_timesteps or self._last_obs is None:
            if reset_num_timesteps:
                self.num_timesteps = 0
            self._reset_env()
        start_steps = self.num_timesteps
        target = start_steps + int(total_timesteps)
        object.__setattr__(self.model, "agent", self)  # for callbacks that need the agent (EvalCallback)
        self.model.stop_training = False
        logs = {}
        cbs.on_train_begin()
        epoch = 0
        while self.num_timesteps < target and not self.model.stop_training:
            cbs.on_epoch_begin(epoch)
            t0, s0 = time.perf_counter(), self.num_timesteps
            self._progress = (self.num_timesteps - start_steps) / total_timesteps
            losses = self._run_epoch(total_timesteps, target)
            logs = {k: float(v) for k, v in losses.items()}
            bad = [k for k, v in logs.items() if not math.isfinite(v)]
            if bad:
                cbs.on_train_end(logs)
                raise FloatingPointError(
                    f"{self.name}: {bad[0]}={logs[bad[0]]} at timestep {self.num_timesteps}; training stopped. "
                    "Check the env's rewards and observations for NaN/inf, lower learning_rate, or set "
                    "normalize_obs=True"
                )
            logs.update(self._episode_logs())
            logs["steps_per_second"] = (self.num_timesteps - s0) / max(time.perf_counter() - t0, 1e-9)
            logs["timesteps"] = float(self.num_timesteps)
            cbs.on_epoch_end(epoch, logs)
            epoch += 1
        cbs.on_train_end(logs)
        return self

    def graph(self, fn):
        """``fn`` as a ``tf.function`` (XLA-compiled when ``config.jit_compile``)."""
        return tf.function(fn, jit_compile=bool(self.config.jit_compile), reduce_retracing=True)

    def _episode_logs(self):
        if not self._episode_returns:
            return {"episode_return": float("nan"), "episode_length": float("nan")}
        return {"episode_return": float(np.mean(self._episode_returns)),
                "episode_length": float(np.mean(self._episode_lengths))}

    def _lr(self, initial):
        if self.config.lr_schedule == "linear":
            return initial * max(1.0 - self._progress, 0.0)
        return initial

    def _set_lr(self, optimizer, initial):
        optimizer.learning_rate = self._lr(initial)

    # ------------------------------------------------------------------ inference

    def predict(self, observation, deterministic: bool = True):
        """Actions for one observation or a batch: ``(action, None)`` as stable-baselines3 returns."""
        obs = np.asarray(observation, np.float32)
        single = obs.shape == self.observation_space.shape
        if not single and obs.shape[1:] != self.observation_space.shape:
            raise ValueError(
                f"{self.name}: invalid observation of shape {obs.shape}; expected "
                f"{self.observation_space.shape} or (batch, *{self.observation_space.shape})"
            )
        actions = self._to_env(self._predict_fn(self._obs(obs), tf.constant(bool(deterministic))).numpy())
        return (actions[0] if single else actions), None

    @property
    def policy_model(self) -> keras.Model:
        """A ``keras.Model``: raw observations -> logits (discrete), Q-values (DQN) or action means.

        Observation normalisation is inside. For squashed agents (SAC, TD3, DDPG) the
        output is the deterministic action in [-1, 1] before rescaling to the bounds.
        """
        if self._policy_model is None:
            inputs = keras.Input(shape=(self.obs_dim,), name="observations")
            outputs = self._policy_output(self.normalizer(inputs))
            self._policy_model = keras.Model(inputs, outputs, name=f"{self.name.lower()}_policy")
        return self._policy_model

    def _policy_output(self, x):
        return getattr(self.model, self.model.policy_name)(x)

    def evaluate(self, env=None, n_episodes: int = 10, deterministic: bool = True, seed: int | None = None):
        """Mean and standard deviation of the return over ``n_episodes`` (see ``agents.evaluate``)."""
        from agents.evaluation import evaluate

        return evaluate(self, env, n_episodes=n_episodes, deterministic=deterministic, seed=seed)

    # ------------------------------------------------------------------ save / load

    def get_config(self) -> dict:
        return {
            "format_version": FORMAT_VERSION,
            "agent": self.name,
            "env_id": self.env_id,
            "seed": self.seed,
            "policy": self.policy,
            "hyperparams": {k: list(v) if isinstance(v, tuple) else v
                            for k, v in dataclasses.asdict(self.config).items()},
            "num_timesteps": int(self.num_timesteps),
            "observation_space": _space_dict(self.observation_space),
            "action_space": _space_dict(self.action_space),
        }

    def save(self, path):
        """Write ``config.json`` and the weights (Keras ``.weights.h5``) into one zip, atomically."""
        path = os.fspath(path)
        if not path.endswith(".zip"):
            path += ".zip"
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=directory) as tmp:
            weights = os.path.join(tmp, "agent.weights.h5")
            self.model.save_weights(weights)
            archive = os.path.join(tmp, "agent.zip")
            with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
                zf.writestr("config.json", json.dumps(self.get_config(), indent=2))
                zf.write(weights, "agent.weights.h5")
            os.replace(archive, path)
        return path

    @classmethod
    def load(cls, path, env=None, **overrides):
        """Rebuild an agent saved with ``save`` (``env`` defaults to the saved env id)."""
        return load(path, env=env, **overrides)


def load(path, env=None, **overrides):
    """Load an agent saved with ``agent.save(path)``: same class, hyperparameters and weights.

    ``env`` (an id, env or vector env) is required when the agent was trained on an
    env without a registered id. The file is checked before anything is built.
    """
    path = os.fspath(path)
    if not os.path.isfile(path) and os.path.isfile(path + ".zip"):
        path += ".zip"
    if not os.path.isfile(path):
        raise FileNotFoundError(f"agent file {path!r} does not exist")
    try:
        with zipfile.ZipFile(path) as zf:
            config = json.loads(zf.read("config.json"))
            weights = zf.read("agent.weights.h5")
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as err:
        raise ValueError(f"could not read agent file {path!r}: {err}") from err
    if config.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"agent file {path!r} has format_version={config.get('format_version')!r}; "
                         f"expected {FORMAT_VERSION}")
    cls = _agent_class(config["agent"])
    env = env if env is not None else config["env_id"]
    if env is None:
        raise ValueError(f"agent file {path!r} was trained on an unregistered env; pass env=")
    hyperparams = {**config["hyperparams"], **overrides}
    if not isinstance(env, str):
        hyperparams.pop("n_envs", None)
    agent = cls(env, policy=config["policy"], seed=config["seed"], use_rl_zoo=False, **hyperparams)
    for key in ("observation_space", "action_space"):
        if _space_dict(getattr(agent, key)) != config[key]:
            raise ValueError(f"agent file {path!r} was saved for {key} {config[key]}; "
                             f"env has {_space_dict(getattr(agent, key))}")
    with tempfile.TemporaryDirectory() as tmp:
        wpath = os.path.join(tmp, "agent.weights.h5")
        with open(wpath, "wb") as f:
            f.write(weights)
        agent.model.load_weights(wpath)
    agent.num_timesteps = int(config.get("num_timesteps", 0))
    return agent


# --------------------------------------------------------------------------- on-policy


class OnPolicyAgent(Agent):
    """Rollouts of ``n_steps`` per env with a categorical or diagonal-Gaussian policy.

    Networks: ``actor`` (logits or Gaussian means), ``critic`` (state value) and,
    for Box actions, ``log_std`` (state-independent, as in stable-baselines3).
    Subclasses write ``_update(rollout, advantages, returns)``.
    """

    uses_critic = True

    def _build(self):
        from agents.networks import Parameter, mlp

        cfg = self.config
        networks = {"actor": mlp(self.obs_dim, self.n_actions, cfg.net_arch, cfg.activation, name="actor")}
        if self.uses_critic:
            networks["critic"] = mlp(self.obs_dim, 1, cfg.net_arch, cfg.activation, name="critic")
        if not self.discrete:
            networks["log_std"] = Parameter(self.action_dim, getattr(cfg, "log_std_init", 0.0), name="log_std")
        self.optimizer = self._make_optimizer()
        self.optimizer.build([v for net in networks.values() for v in net.trainable_variables])
        self.buffer = RolloutBuffer(cfg.n_steps, self.n_envs, (self.obs_dim,),
                                    () if self.discrete else (self.action_dim,),
                                    np.int64 if self.discrete else np.float32)
        return networks, "actor", self.optimizer

    def _make_optimizer(self):
        return keras.optimizers.Adam(self.config.learning_rate, epsilon=1e-5)

    def trainable_variables(self):
        return [v for key in self.model.network_names for v in getattr(self.model, key).trainable_variables]

    # graph functions ------------------------------------------------------------

    def _dist(self, obs):
        out = self.model.actor(self.normalizer(obs))
        if self.discrete:
            return out, None
        return out, self.model.log_std(out)

    def log_prob_entropy(self, obs, actions):
        from agents.networks import categorical_entropy, categorical_log_prob, gaussian_entropy, gaussian_log_prob

        params, log_std = self._dist(obs)
        if self.discrete:
            return categorical_log_prob(params, actions), categorical_entropy(params)
        return gaussian_log_prob(params, log_std, actions), gaussian_entropy(log_std)

    def _sample(self, params, log_std):
        if self.discrete:
            u = self.rng.uniform(tf.shape(params), minval=1e-9, maxval=1.0)
            return tf.argmax(params - tf.math.log(-tf.math.log(u)), axis=-1)
        return params + tf.exp(log_std) * self.rng.normal(tf.shape(params))

    def _values(self, obs):
        if not self.uses_critic:
            return tf.zeros(tf.shape(obs)[:1])
        return tf.squeeze(self.model.critic(self.normalizer(obs)), -1)

    def _sync_numpy(self):
        """Copy the current weights to the NumPy forward passes used while acting."""
        from agents.networks import NumpyForward

        if getattr(self, "_np_actor", None) is None:
            self._np_actor = NumpyForward(self.model.actor)
            self._np_critic = NumpyForward(self.model.critic) if self.uses_critic else None
        self.normalizer.sync()
        self._np_actor.sync()
        if self._np_critic is not None:
            self._np_critic.sync()
        if not self.discrete:
            self._np_log_std = self.model.log_std.value.numpy()

    def _np_values(self, obs):
        if self._np_critic is None:
            return np.zeros(len(obs), np.float32)
        return self._np_critic(self.normalizer.numpy(obs))[:, 0]

    def _act(self, obs):
        """Sample actions in NumPy: ``(actions, values, log-probs)``."""
        x = self.normalizer.numpy(obs)
        out = self._np_actor(x)
        if self.discrete:
            shifted = out - out.max(-1, keepdims=True)
            log_p = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
            gumbel = -np.log(-np.log(self.np_rng.uniform(1e-12, 1.0, size=out.shape)))
            actions = np.argmax(out + gumbel, axis=-1)
            logp = np.take_along_axis(log_p, actions[:, None], -1)[:, 0]
        else:
            std = np.exp(self._np_log_std)
            noise = self.np_rng.standard_normal(out.shape).astype(np.float32)
            actions = out + std * noise
            logp = np.sum(-0.5 * noise**2 - self._np_log_std - 0.5 * np.log(2 * np.pi), axis=-1)
        return actions, self._np_values(obs), logp.astype(np.float32)

    def _policy_action(self, obs, deterministic):
        params, log_std = self._dist(obs)
        if self.discrete:
            greedy = tf.argmax(params, axis=-1)
        else:
            greedy = params
        return tf.cond(deterministic, lambda: greedy, lambda: tf.cast(self._sample(params, log_std), greedy.dtype))

    # rollouts ---------------------------------------------------------------------

    def _steps_per_epoch(self):
        return self.config.n_steps * self.n_envs

    def collect_rollout(self):
        """Fill ``self.buffer``; returns the values of the observations after the last step.

        A truncated episode (time limit) gets ``gamma * V(final_obs)`` added to its last
        reward, so that it bootstraps; a terminated one does not.
        """
        buf, gamma = self.buffer, self.config.gamma
        buf.reset()
        self._sync_numpy()
        while not buf.full:
            obs = self._last_obs
            action, value, logp = self._act(obs)
            next_obs, rewards, terminated, truncated, final_obs = self._env_step(self._to_env(action))
            cut = truncated & ~terminated
            if cut.any():
                rewards = rewards + gamma * cut * self._np_values(final_obs)
            buf.add(obs, action, rewards, terminated | truncated, value, logp)
            self._last_obs = next_obs
        return self._np_values(self._last_obs)

    def _run_epoch(self, total_timesteps, target_timesteps):
        last_values = self.collect_rollout()
        buf, cfg = self.buffer, self.config
        advantages, returns = compute_gae(buf.rewards, buf.values, buf.dones, last_values, cfg.gamma,
                                          getattr(cfg, "gae_lambda", 1.0))
        self._set_lr(self.optimizer, cfg.learning_rate)
        losses = self._update(buf, advantages, returns)
        self.normalizer.update(buf.obs)
        return losses

    def _update(self, buf, advantages, returns) -> dict:
        """The algorithm's update on one rollout; returns its losses (agents that keep
        ``OnPolicyAgent._run_epoch`` define it; REINFORCE replaces the epoch instead)."""
        raise TypeError(f"{type(self).__name__} uses OnPolicyAgent._run_epoch but defines no _update")


# --------------------------------------------------------------------------- off-policy


class OffPolicyAgent(Agent):
    """Replay-buffer agents: act, store, and every ``train_freq`` steps run ``gradient_steps`` updates.

    The ``gradient_steps`` minibatches are sampled at once and the updates run in one
    graph call (``_train(obs, actions, rewards, next_obs, terminated)`` with a leading
    ``gradient_steps`` axis). Before ``learning_starts`` actions are uniform random.
    """

    def _replay(self):
        cfg = self.config
        return ReplayBuffer(min(cfg.buffer_size, 10_000_000), (self.obs_dim,),
                            () if self.discrete else (self.action_dim,),
                            np.int64 if self.discrete else np.float32, seed=self.seed)

    def _steps_per_epoch(self):
        return max(self.config.log_interval, self.n_envs)

    def _random_action(self):
        if self.discrete:
            return self.np_rng.integers(0, self.n_actions, size=self.n_envs)
        return self.np_rng.uniform(-1.0, 1.0, size=(self.n_envs, self.action_dim)).astype(np.float32)

    @abc.abstractmethod
    def _explore(self, obs) -> np.ndarray:
        """Buffer-format exploratory actions after ``learning_starts``."""

    def _on_step(self):
        """Called after every vector step (DQN's target network copy)."""

    def _run_epoch(self, total_timesteps, target_timesteps):
        cfg = self.config
        self._sync_numpy()
        end = min(self.num_timesteps + self._steps_per_epoch(), target_timesteps)
        sums, count = collections.defaultdict(float), 0
        while self.num_timesteps < end:
            self._progress = 1.0 - (target_timesteps - self.num_timesteps) / total_timesteps
            obs = self._last_obs
            if self.num_timesteps < cfg.learning_starts:
                action = self._random_action()
            else:
                action = self._explore(obs)
            next_obs, rewards, terminated, _, final_obs = self._env_step(self._to_env(action))
            self.replay.add(obs, action, rewards, final_obs, terminated)
            self._last_obs = next_obs
            self._since_train += self.n_envs
            self._on_step()
            if self.num_timesteps >= cfg.learning_starts and self._since_train >= cfg.train_freq:
                steps = cfg.gradient_steps if cfg.gradient_steps > 0 else self._since_train // self.n_envs
                self._since_train = 0
                if self.normalizer.enabled:
                    self.normalizer.update(self.replay.obs[max(0, self.replay.pos - 1000):self.replay.pos])
                for opt, lr in self._optimizers():
                    self._set_lr(opt, lr)
                batch = self.replay.sample(steps, cfg.batch_size)
                out = self._train_fn(*(tf.constant(b) for b in batch))
                self._sync_numpy()
                for k, v in out.items():
                    sums[k] += float(v)
                count += 1
        return {k: v / count for k, v in sums.items()}

    def _optimizers(self):
        """``[(optimizer, initial learning rate)]`` for the learning-rate schedule."""
        return [(self.optimizer, self.config.learning_rate)]

    def _sync_numpy(self):
        """Copy the acting network's current weights to its NumPy forward pass."""
        from agents.networks import NumpyForward

        if self._np_policy is None:
            self._np_policy = NumpyForward(getattr(self.model, self._acting))
        self._np_policy.sync()
        self.normalizer.sync()

    def _np_forward(self, obs):
        """The acting network on raw observations, in NumPy."""
        return self._np_policy(self.normalizer.numpy(obs))

    def _init_off_policy(self, acting: str):
        """Call at the end of ``_build``; ``acting`` names the network run in the env loop."""
        self._acting, self._np_policy = acting, None
        self.replay = self._replay()
        self._since_train = 0
        self._train_fn = self.graph(self._train)

    @abc.abstractmethod
    def _train(self, obs, actions, rewards, next_obs, terminated) -> dict:
        """The algorithm's update on one sampled batch; returns its losses."""

    def _reset_env(self):
        super()._reset_env()
        self._since_train = 0


@dataclasses.dataclass
class OffPolicyConfig(AgentConfig):
    """Hyperparameters shared by the replay-buffer agents."""

    buffer_size: int = 1_000_000
    """Replay capacity in transitions."""
    learning_starts: int = 100
    """Env steps of uniform random actions before the first update."""
    batch_size: int = 256
    """Minibatch size of every gradient step."""
    tau: float = 0.005
    """Polyak coefficient of the target networks (1: hard copy)."""
    train_freq: int = 1
    """Env steps (all envs together) between two training phases."""
    gradient_steps: int = 1
    """Gradient steps per training phase (-1: as many as env steps collected)."""
    log_interval: int = 1000
    """Env steps per reported epoch (callbacks' ``on_epoch_end``)."""
    jit_compile: bool = False
    activation: str = "relu"
    net_arch: tuple = (256, 256)
    max_grad_norm: float | None = None

    _positive = ("buffer_size", "batch_size", "train_freq", "log_interval")

    def check(self, agent):
        super().check(agent)
        if not 0 < self.tau <= 1:
            raise ValueError(f"{agent}: invalid tau={self.tau!r}; expected a number in (0, 1]")
        if self.learning_starts < 0:
            raise ValueError(f"{agent}: invalid learning_starts={self.learning_starts!r}; expected >= 0")
        if self.gradient_steps == 0 or self.gradient_steps < -1:
            raise ValueError(f"{agent}: invalid gradient_steps={self.gradient_steps!r}; expected a positive integer or -1")


__all__ += ["OffPolicyConfig"]
