"""``Agent``: what every agent shares: env stepping, the ``learn`` loop, ``predict``, ``policy_model``.

``Agent.learn`` reports one Keras "epoch" per rollout (on-policy) or per
``log_interval`` steps (off-policy) to ordinary ``keras.callbacks.Callback``
objects, with logs ``episode_return``, ``episode_length``, the losses,
``steps_per_second`` and ``timesteps``. The rollout machinery is in
``agents.on_policy``, the replay machinery in ``agents.off_policy``.
"""

from __future__ import annotations

import abc
import collections
import importlib
import math
import time

import gymnasium as gym
import keras
import numpy as np
import tensorflow as tf

from agents import save_util
from agents.atari import default_policy, is_atari_id
from agents.callbacks import EpochCallbacks, leaves_weights
from agents.checkpoint import Checkpointer
from agents.compiled import Compiled
from agents.config import AgentConfig, OffPolicyConfig, OnPolicyConfig, build_config
from agents.env_util import VEC_ENVS, check_env_id, check_env_type, close_with, env_id, make_vec_env, vec_env_kind
from agents.networks import AgentModel, ObsNormalizer, RewardNormalizer
from agents.optim import linear_schedule
from agents.policies import PolicyNetworks
from agents.registry import list_agents, make, register_agent
from agents.save_util import load
from zoo.core.checks import check_array, check_bool, check_choice, check_int, fail, is_int
from zoo.core.seeding import seed_everything

# with the old home of the names after "Agent" (``from agents.base import ...`` still works)
__all__ = ["Agent", "AgentConfig", "OnPolicyConfig", "OffPolicyConfig", "make_vec_env", "linear_schedule",
           "register_agent", "make", "list_agents", "load"]

# ``from agents.base import OnPolicyAgent, OffPolicyAgent`` (their old home) still works
_MOVED = {"OnPolicyAgent": "agents.on_policy", "OffPolicyAgent": "agents.off_policy"}


def __getattr__(name):
    if name in _MOVED:  # imported late: those modules import this one
        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Agent(abc.ABC):
    """Base of every agent: ``learn``, ``predict``, ``evaluate``, ``save``, ``load``, ``policy_model``.

    ``OnPolicyAgent`` and ``OffPolicyAgent`` implement the machinery; an algorithm
    sets the class data below and writes its networks (``_build``) and one training
    step (``train_step``).
    """

    name = "agent"
    """The registry name (``agents.make(name, ...)``)."""
    Config = AgentConfig
    """The dataclass of hyperparameters."""
    action_spaces: tuple = (gym.spaces.Discrete, gym.spaces.Box)
    """The gymnasium action-space types supported."""
    RL_ZOO: dict = {}
    """rl-baselines3-zoo's tuned hyperparameters by env id, applied as defaults."""
    TUNED: dict = {}
    """dlzoo's changes to ``RL_ZOO``'s values by env id (applied over them; the algorithm file says why)."""
    squashed = False
    """Box actions live in [-1, 1] and are rescaled to the bounds."""
    loss_names: tuple = ("loss",)
    """The logs of ``train_step``, averaged over the gradient steps of an epoch."""
    test_config: dict = {}
    """Small hyperparameters with which the registry-driven tests run a few hundred steps."""
    test_learns: dict = {}
    """``{"Discrete" | "Box": (hyperparameters, steps, minimum return of 20)}``: the identity-env tests."""
    episode_hook = None
    """``hook(timesteps, episode_return, episode_length)`` called whenever a training episode ends
    (``agents.monitor.EpisodeLog`` sets it for the command line's episode log), or None."""
    _state_attrs: tuple = ("num_timesteps", "_progress")
    """Python counters a checkpoint saves (``agents.checkpoint``); a subclass adds its own."""
    share_features_extractor: bool | None = None
    """Image policies: actor and critic share one feature extractor by default (None: no actor and critic)."""
    autograph = True
    """Trace the update with autograph (tensor ``if``/``for`` in Python); on-policy: off (~0.8 s a process)."""
    image_net_arch: tuple | None = ()
    """Image policies: hidden layers between the features and the heads unless ``net_arch`` is given
    (stable-baselines3's: none; ``None``: the config's ``net_arch``)."""

    @classmethod
    def default_layers(cls, env, nets, hyperparams, use_rl_zoo=True):
        """The values under the user's ``hyperparams``: ``(rl-zoo's, dlzoo's tuned, the policy's defaults)``.

        rl-zoo's and the tuned values (n_envs included) apply when dlzoo makes the envs from an id;
        the policy's defaults (image policies) only where neither those nor the user set the key.
        """
        by_id = bool(use_rl_zoo) and isinstance(env, str)
        rl_zoo = dict(cls.RL_ZOO.get(env, cls.RL_ZOO.get("atari", {}) if is_atari_id(env) else {})) if by_id else {}
        tuned = dict(cls.TUNED.get(env, {})) if by_id else {}
        policy = {k: v for k, v in nets.default_hyperparams(cls.image_net_arch).items()
                  if k not in rl_zoo and k not in tuned and k not in hyperparams}
        return rl_zoo, tuned, policy

    def __init__(self, env, policy: str | None = None, seed: int = 0, verbose: int = 0, use_rl_zoo: bool = True,
                 policy_kwargs: dict | None = None, vec_env: str = "sync", **hyperparams):
        check_env_type(env)
        if policy is None:  # the Nature CNN for an ALE id (made as (4, 84, 84) frame stacks), else an MLP
            policy = default_policy(env)
        check_int("verbose", verbose, minimum=0, owner=self.name)
        check_choice("vec_env", vec_env, VEC_ENVS, self.name)
        check_bool("use_rl_zoo", use_rl_zoo, self.name)
        self.nets = PolicyNetworks(policy, policy_kwargs, self.name, self.share_features_extractor)
        if not is_int(seed):
            fail("seed", seed, "an integer", self.name)
        if isinstance(env, str):
            check_env_id(env)
        self.env_id = env_id(env)
        if isinstance(env, gym.vector.VectorEnv):
            make_vec_env(env)  # checks its autoreset mode before anything else
            hyperparams.setdefault("n_envs", env.num_envs)
        elif isinstance(env, gym.Env):
            hyperparams.setdefault("n_envs", 1)
        rl_zoo, tuned, policy_defaults = self.default_layers(env, self.nets, hyperparams, use_rl_zoo)
        self.config = build_config(self.Config, self.name, {**rl_zoo, **tuned}, {**policy_defaults, **hyperparams})
        self.policy, self.policy_kwargs, self.seed, self.verbose = self.nets.name, self.nets.kwargs, int(seed), verbose
        self.env = make_vec_env(env, self.config.n_envs, seed, vec_env)
        self.vec_env = vec_env_kind(self.env)  # "sync" or "async" (subprocesses); saved, so load rebuilds the same
        self._close_env = close_with(self, self.env, env)  # subprocesses end with the agent or at exit
        self.n_envs = self.env.num_envs
        self.observation_space = self.env.single_observation_space
        self.action_space = self.env.single_action_space
        self._check_spaces()
        self.nets.bind(self.observation_space, self.config.normalize_obs)
        self.obs_shape, self.obs_dtype = self.nets.obs_shape, self.nets.obs_dtype
        self.obs_dim = int(np.prod(self.observation_space.shape))
        self.discrete = isinstance(self.action_space, gym.spaces.Discrete)
        self.action_dim = 1 if self.discrete else int(np.prod(self.action_space.shape))
        self.n_actions = int(self.action_space.n) if self.discrete else self.action_dim
        if not self.discrete:
            self._low = self.action_space.low.astype(np.float32).reshape(-1)
            self._high = self.action_space.high.astype(np.float32).reshape(-1)

        seed_everything(self.seed)  # Python, NumPy, TensorFlow, Keras; op determinism
        self.rng = tf.random.Generator.from_seed(self.seed)
        self.np_rng = np.random.default_rng(self.seed)
        self.normalizer = ObsNormalizer(1 if self.nets.image else self.obs_dim,  # images: the identity (a cast)
                                        enabled=self.config.normalize_obs, name="obs_normalizer")
        self.reward_normalizer = RewardNormalizer(self.config.gamma, self.config.normalize_reward, name="reward_norm")
        networks, policy_net, optimizer = self._build()
        self.model = AgentModel(networks, self.normalizer, policy_net, optimizer, self.reward_normalizer)
        self._policy_model = None
        self.num_timesteps = 0
        self._last_obs = None
        self._episode_returns = collections.deque(maxlen=self.config.stats_window)
        self._episode_lengths = collections.deque(maxlen=self.config.stats_window)
        self._running_return = np.zeros(self.n_envs, np.float64)
        self._running_length = np.zeros(self.n_envs, np.int64)
        self._progress = 0.0
        self._lr_set = {}  # id(optimizer) -> the learning rate last assigned to it (``_set_lr``)
        self.history = None
        self._setup()
        self._predict_fn = tf.function(self._policy_action, reduce_retracing=True)

    # ------------------------------------------------------------------ to implement

    @abc.abstractmethod
    def _build(self):
        """Return ``(networks: dict, name of the policy network, main optimizer)``."""

    @abc.abstractmethod
    def _setup(self):
        """After ``_build``: the machinery's buffers and compiled functions (``OnPolicyAgent``, ``OffPolicyAgent``)."""

    @abc.abstractmethod
    def _policy_action(self, obs, deterministic):
        """Graph function: raw observations -> actions in buffer format."""

    @abc.abstractmethod
    def _run_epoch(self, total_timesteps, target_timesteps) -> dict:
        """Collect experience and update for one callback epoch; returns its logs."""

    @abc.abstractmethod
    def _steps_per_epoch(self) -> int:
        """Environment steps per callback epoch."""

    def _weights_changed(self):
        """Something besides the updates may have changed the weights (a load, a callback): forget any copy."""
        return None

    def _checkpoint_state(self) -> dict:
        """The machinery's arrays a checkpoint saves beyond variables, RNGs, counters and envs."""
        return {}

    def _restore_state(self, arrays: dict):
        """Check ``arrays`` (from ``_checkpoint_state``); return a function that puts them back."""
        return lambda: None

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
        """Observations in buffer format: flat float32 vectors (mlp), or images in the env's shape and dtype."""
        return np.asarray(obs, self.obs_dtype).reshape(-1, *self.obs_shape)

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
        self.reward_normalizer.returns = None  # the discounted returns restart with the episodes

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
                    final_obs[i] = self._obs(infos["final_obs"][i])[0]
                self._episode_returns.append(float(self._running_return[i]))
                self._episode_lengths.append(int(self._running_length[i]))
                if self.episode_hook is not None:
                    self.episode_hook(self.num_timesteps, self._episode_returns[-1], self._episode_lengths[-1])
                self._running_return[i] = 0
                self._running_length[i] = 0
        rewards = self.reward_normalizer.scale(rewards, dones)  # what learning sees; episode returns stay raw
        return next_obs, rewards, terminated, truncated, final_obs

    # ------------------------------------------------------------------ learn

    def learn(self, total_timesteps: int, callbacks=None, progress_bar: bool = False,
              reset_num_timesteps: bool = True, checkpoint_dir=None, checkpoint_every: int | None = None):
        """Train for ``total_timesteps`` env steps (all envs together); returns ``self``.

        ``callbacks`` are ``keras.callbacks.Callback`` objects; each gets one epoch
        per rollout (on-policy) or per ``log_interval`` steps (off-policy), with logs
        ``episode_return``, ``episode_length``, losses, ``steps_per_second`` and
        ``timesteps``. ``model.stop_training = True`` (EarlyStopping does it) stops
        after the current epoch. A loss that becomes NaN or infinite raises
        ``FloatingPointError``.

        ``checkpoint_dir``: every ``checkpoint_every`` env steps (at an epoch's end;
        default every 10 epochs) and at the end, everything needed to continue
        exactly is saved there (``agents.checkpoint``); rerunning the same call
        after a kill resumes, one that finished returns at once.
        """
        if not is_int(total_timesteps) or total_timesteps < 1:
            fail("total_timesteps", total_timesteps, "a positive integer", self.name)
        check_bool("progress_bar", progress_bar, self.name)
        check_bool("reset_num_timesteps", reset_num_timesteps, self.name)
        if callbacks is not None and not isinstance(callbacks, (list, tuple, keras.callbacks.CallbackList)):
            callbacks = [callbacks]
        callbacks = list(callbacks or [])
        for cb in callbacks:
            if not isinstance(cb, keras.callbacks.Callback):
                fail("callbacks", cb, "a keras.callbacks.Callback or a list of them", self.name, error=TypeError)
        run = None
        if checkpoint_dir is not None or checkpoint_every is not None:
            run = Checkpointer(self, checkpoint_dir, checkpoint_every, total_timesteps)
        resumed = run.resume() if run else None  # restores everything, or None
        self.history = keras.callbacks.History()
        if resumed and resumed["done"]:
            self.history.epoch, self.history.history = resumed["history_epochs"], resumed["history"]
            return self
        epochs = max(1, math.ceil(total_timesteps / self._steps_per_epoch()))
        if progress_bar:
            from zoo.callbacks import ProgressBar

            callbacks.append(ProgressBar(total_epochs=max(1, epochs - resumed["epoch"]) if resumed else epochs,
                                         desc=self.name))
        cbs = EpochCallbacks(
            callbacks + [self.history], model=self.model, epochs=epochs, verbose=0, steps=None
        )
        if not resumed and (reset_num_timesteps or self._last_obs is None):
            if reset_num_timesteps:
                self.num_timesteps = 0
            self._reset_env()
        start_steps = resumed["start"] if resumed else self.num_timesteps
        target = resumed["target"] if resumed else start_steps + int(total_timesteps)
        if run and not resumed:
            run.begin(start_steps, target)
        object.__setattr__(self.model, "agent", self)  # for callbacks that need the agent (EvalCallback)
        self.model.stop_training = False
        logs = {}
        cbs.on_train_begin()
        self._weights_changed()
        keeps_weights = all(leaves_weights(cb) for cb in callbacks)
        epoch = 0
        if resumed:  # the History goes on with the epochs run before the kill
            self.history.epoch, self.history.history = resumed["history_epochs"], resumed["history"]
            epoch = resumed["epoch"]
        while self.num_timesteps < target and not self.model.stop_training:
            cbs.on_epoch_begin(epoch)
            if not keeps_weights:
                self._weights_changed()
            t0, s0 = time.perf_counter(), self.num_timesteps
            self._progress = (self.num_timesteps - start_steps) / total_timesteps
            losses = self._run_epoch(total_timesteps, target)
            self.reward_normalizer.flush()  # the weights hold the statistics at every epoch's end
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
            if run:
                run.after_epoch(epoch)
        cbs.on_train_end(logs)
        if run:  # after the callbacks' last word (EvalCallback's best weights): a rerun returns this state
            run.finish(epoch)
        return self

    def graph(self, fn):
        """``fn`` as a ``tf.function`` (XLA-compiled when ``config.jit_compile``)."""
        return Compiled(fn, jit_compile=bool(self.config.jit_compile), reduce_retracing=True, autograph=self.autograph)

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
        """Set ``optimizer``'s learning rate for this point of the schedule; an unchanged value is not
        re-assigned (each assignment is a TensorFlow call, and SAC sets three per env step)."""
        lr = self._lr(initial)
        if self._lr_set.get(id(optimizer)) != lr:
            optimizer.learning_rate = lr
            self._lr_set[id(optimizer)] = lr

    # ------------------------------------------------------------------ inference

    def predict(self, observation, deterministic: bool = True):
        """Actions for one observation or a batch: ``(action, None)`` as stable-baselines3 returns."""
        check_bool("deterministic", deterministic, self.name)
        obs = check_array("observation", observation, f"an array of shape {self.observation_space.shape} or "
                          f"(batch, *{self.observation_space.shape})", self.name, min_ndim=0)
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

        Observation normalisation is inside; image policies take raw frames in the env's
        layout (uint8 values, scaled to [0, 1] inside). For squashed agents (SAC, TD3, DDPG) the
        output is the deterministic action in [-1, 1] before rescaling to the bounds.
        """
        if self._policy_model is None:
            inputs = keras.Input(shape=self.obs_shape, name="observations")
            outputs = self._policy_output(self.normalizer(inputs))
            self._policy_model = keras.Model(inputs, outputs, name=f"{self.name.lower()}_policy")
        return self._policy_model

    def _policy_output(self, x):
        return getattr(self.model, self.model.policy_name)(x)

    def evaluate(self, env=None, n_episodes: int = 10, deterministic: bool = True, seed: int | None = None,
                 vec_env: str = "sync"):
        """Mean and standard deviation of the return over ``n_episodes`` (see ``agents.evaluate``)."""
        from agents.evaluation import evaluate

        return evaluate(self, env, n_episodes=n_episodes, deterministic=deterministic, seed=seed, vec_env=vec_env)

    def close(self):
        """Close the env (with ``vec_env="async"``: end its subprocesses), as stable-baselines3's ``env.close()``.

        Also done when the agent is garbage collected or at interpreter exit; ``with agents.PPO(...) as agent:``
        closes on leaving the block.
        """
        self.env.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    # ------------------------------------------------------------------ save / load

    def get_config(self) -> dict:
        """What ``save`` writes to ``config.json`` (``agents.save_util.agent_config``)."""
        return save_util.agent_config(self)

    def save(self, path, include_replay: bool = False) -> str:
        """Write ``config.json`` and the weights (Keras ``.weights.h5``) into one zip, atomically.

        ``include_replay=True`` (off-policy agents) adds the replay buffer (``replay.npz``).
        """
        return save_util.save(self, path, include_replay=include_replay)

    @classmethod
    def load(cls, path, env=None, **overrides):
        """Rebuild an agent saved with ``save`` (``env`` defaults to the saved env id)."""
        return save_util.load(path, env=env, **overrides)
