"""``OffPolicyAgent``: the replay loop and the update plumbing of DQN, SAC, TD3 and DDPG.

Act (uniformly at random before ``learning_starts``, then by sampling the
algorithm's ``action_distribution``), store, and every ``train_freq`` env steps run
``gradient_steps`` updates. Their minibatches are sampled at once and the updates
run in one compiled call that loops over them, calls the algorithm's
``train_step`` on each and averages its losses.
"""

from __future__ import annotations

import abc
import collections

import numpy as np
import tensorflow as tf

from agents.base import Agent
from agents.buffers import ReplayBuffer
from agents.compiled import pack_batch, unpack_batch
from agents.config import OffPolicyConfig
from agents.initializers import torch_default_init
from agents.optim import apply_gradients
from agents.policies import unique

__all__ = ["OffPolicyAgent"]

REPLAY_KEYS = ("obs", "actions", "rewards", "next_obs", "terminated")
"""What ``ReplayBuffer.sample`` returns, in its order."""


class OffPolicyAgent(Agent):
    """Replay-buffer agents: act, store, and every ``train_freq`` steps run ``gradient_steps`` updates.

    A subclass builds its networks (the policy network acts in the env loop), and
    writes ``action_distribution`` (the acting network's output -> an ``agents.distributions``
    distribution, the same code in TensorFlow and NumPy) and ``train_step``.
    """

    Config = OffPolicyConfig
    _state_attrs = Agent._state_attrs + ("_since_train",)
    share_features_extractor = False  # image policies: the critics get their own extractor (SB3's default)
    image_net_arch = None  # image policies: the config's net_arch on top of the features (SB3's)
    stochastic_predict = True
    """``predict(deterministic=False)`` samples the policy; False: it is the mode too (DQN, TD3, as SB3)."""
    sde = None
    """An ``agents.gsde.SDEPolicy`` when the agent explores with gSDE (SAC's ``use_sde``): it then acts."""

    # ------------------------------------------------------------------ what an algorithm writes

    @abc.abstractmethod
    def action_distribution(self, out):
        """The acting network's output (a tensor, or a NumPy array in the env loop) -> its action distribution."""

    @abc.abstractmethod
    def train_step(self, obs, actions, rewards, next_obs, terminated) -> dict:
        """One gradient step on one minibatch (raw observations); returns its losses (``loss_names``)."""

    def minimize(self, optimizer, loss_fn, variables, clip: bool = True):
        """Run ``loss_fn()`` under a tape and apply its gradient to ``variables``; return the loss.

        The gradient is clipped to ``config.max_grad_norm`` (unless ``clip=False``). A
        variable listed twice (a feature extractor shared by two critics) is updated once;
        one the loss does not reach (a shared extractor behind ``stop_gradient``) is left alone.
        """
        with tf.GradientTape() as tape:
            loss = loss_fn()
        return self.apply_tape(optimizer, tape, loss, variables, clip)

    def apply_tape(self, optimizer, tape, loss, variables, clip: bool = True):
        """``minimize``'s second half: apply the gradient of ``loss`` recorded on ``tape``; return the loss."""
        variables = unique(variables)
        grads = tape.gradient(loss, variables)
        pairs = [(g, v) for g, v in zip(grads, variables) if g is not None]
        max_norm = self.config.max_grad_norm if clip else None
        apply_gradients(optimizer, [g for g, _ in pairs], [v for _, v in pairs], max_norm)
        return loss

    def _on_step(self, dones):
        """Called after every vector step, with the envs whose episode ended (DQN's target network copy,
        TD3's Ornstein-Uhlenbeck noise)."""

    def _optimizers(self):
        """``[(optimizer, initial learning rate)]`` for the learning-rate schedule."""
        return [(self.optimizer, self.config.learning_rate)]

    # ------------------------------------------------------------------ machinery

    def _initialise(self, *models):
        """PyTorch's initialisation of the online ``models`` (``torch_init``, as stable-baselines3),
        called by ``_build`` before the target networks copy them. A zoo backbone keeps its weights."""
        if self.config.torch_init:
            keep = () if self.nets.name in ("mlp", "cnn") else (self.nets.name,)
            torch_default_init(models, self.seed, keep)

    def _setup(self):
        cfg = self.config
        self.replay = ReplayBuffer(min(cfg.buffer_size, 10_000_000), self.obs_shape,
                                   () if self.discrete else (self.action_dim,),
                                   np.int64 if self.discrete else np.float32, seed=self.seed, obs_dtype=self.obs_dtype)
        self._np_policy = None
        self._since_train = 0
        # bumped whenever the online weights may have changed: each compiled update, and each epoch's start (a
        # load, a resume or a callback between epochs); DQN skips hard copies of a net whose version it copied
        self._weights_version = 0
        # gradient steps so far: train_step reads it for delayed and periodic updates
        self._updates = tf.Variable(0, dtype=tf.int64, trainable=False)
        self._train_fn = self.graph(self._train)
        self._batch_layout = ()  # how the replay sample is packed (``agents.compiled.pack_batch``)

    def _policy_action(self, obs, deterministic):
        if self.sde is not None:
            dist = self.sde.distribution(self.normalizer(obs))
        else:
            dist = self.action_distribution(getattr(self.model, self.model.policy_name)(self.normalizer(obs)))
        if not self.stochastic_predict:
            return dist.mode()
        return tf.cond(deterministic, dist.mode, lambda: dist.sample(self.rng))

    def _explore(self, obs) -> np.ndarray:
        """Buffer-format exploratory actions after ``learning_starts``: a sample of the policy, in NumPy."""
        if self.sde is not None:
            return self.sde.act(self.normalizer.numpy(obs))[0]
        return self.action_distribution(self._np_forward(obs)).sample(self.np_rng)

    def _uniform_warm_up(self) -> bool:
        """Whether this step is a uniformly random warm-up action (before ``learning_starts``)."""
        return self.num_timesteps < self.config.learning_starts

    def _random_action(self):
        if self.discrete:
            return self.np_rng.integers(0, self.n_actions, size=self.n_envs)
        return self.np_rng.uniform(-1.0, 1.0, size=(self.n_envs, self.action_dim)).astype(np.float32)

    def _steps_per_epoch(self):
        return max(self.config.log_interval, self.n_envs)

    def _run_epoch(self, total_timesteps, target_timesteps):
        cfg = self.config
        self._sync_numpy()
        self._weights_version += 1
        end = min(self.num_timesteps + self._steps_per_epoch(), target_timesteps)
        sums, count = collections.defaultdict(float), 0
        while self.num_timesteps < end:
            self._progress = 1.0 - (target_timesteps - self.num_timesteps) / total_timesteps
            obs = self._last_obs
            if self.sde is not None:
                self._resample_noise()
            if self._uniform_warm_up():
                action = self._random_action()
            else:
                action = self._explore(obs)
            next_obs, rewards, terminated, truncated, final_obs = self._env_step(self._to_env(action))
            self.replay.add(obs, action, rewards, final_obs, terminated)
            self._last_obs = next_obs
            self._since_train += 1
            self._on_step(terminated | truncated)
            # a collection phase of train_freq vector steps ends, counted from step 0 as SB3's rollouts (warm-up
            # included); its updates run once more than learning_starts transitions are collected (SB3's
            # num_timesteps > learning_starts); gradient_steps=-1: one per transition of the phase, as SB3's
            if self._since_train >= cfg.train_freq:
                phase, self._since_train = self._since_train, 0
                if self.num_timesteps <= cfg.learning_starts:
                    continue
                steps = cfg.gradient_steps if cfg.gradient_steps > 0 else phase * self.n_envs
                if self.normalizer.enabled:
                    self.normalizer.update(self.replay.obs[max(0, self.replay.pos - 1000):self.replay.pos])
                for opt, lr in self._optimizers():
                    self._set_lr(opt, lr)
                batch = dict(zip(REPLAY_KEYS, self.replay.sample(steps, cfg.batch_size)))
                if not cfg.jit_compile:  # one tensor for the float32 arrays (XLA: packed slices change its bits)
                    batch, self._batch_layout = pack_batch(batch, leading=2)
                out, acting_weights = self._train_fn({k: tf.constant(v) for k, v in batch.items()})
                self._weights_version += 1
                self._sync_numpy([w.numpy() for w in acting_weights])
                for k, v in out.items():
                    sums[k] += float(v)
                count += 1
        return {k: v / count for k, v in sums.items()}

    def _acting_variables(self):
        """The variables the env loop's forward pass reads (its ``sync`` order)."""
        return (self.sde or self._np_policy).variables()

    def _train(self, batch):
        """``train_step`` on each of the minibatches stacked on the leading axis (a packed replay sample):
        ``(the mean of its losses, the acting network's new weights)``, the weights returned so the env
        loop need not read each variable."""
        batch = unpack_batch(batch, self._batch_layout)
        obs, actions, rewards, next_obs, terminated = (batch[k] for k in REPLAY_KEYS)
        n = tf.shape(obs)[0]
        totals = tf.zeros([len(self.loss_names)])
        for i in tf.range(n):
            self._updates.assign_add(1)
            losses = self.train_step(obs[i], actions[i], rewards[i], next_obs[i], terminated[i])
            totals += tf.stack([losses[k] for k in self.loss_names])
        totals /= tf.cast(n, tf.float32)
        weights = [tf.identity(v.value) for v in self._acting_variables()]
        return {k: totals[i] for i, k in enumerate(self.loss_names)}, weights

    def _resample_noise(self):
        """gSDE: new noise matrices when a collection phase starts and every ``sde_sample_freq`` steps (as SB3)."""
        cfg = self.config
        freq, steps = cfg.sde_sample_freq, self._since_train
        if self.sde.matrices is None or steps == 0 or (freq > 0 and steps % freq == 0):
            self.sde.resample(self.n_envs, self.np_rng)

    def _sync_numpy(self, values=None):
        """Copy the acting network's current weights to its forward pass in the env loop (or take
        ``values``, in ``_acting_variables()``' order)."""
        if self._np_policy is None:
            self._np_policy = self.nets.forward(getattr(self.model, self.model.policy_name))
        (self.sde or self._np_policy).sync(values)
        if values is None:
            self.normalizer.sync()

    def _np_forward(self, obs):
        """The acting network on raw observations, in NumPy."""
        return self._np_policy(self.normalizer.numpy(obs))

    def _reset_env(self):
        super()._reset_env()
        self._since_train = 0

    def _checkpoint_state(self):
        state = self.replay.state()
        if self.sde is not None and self.sde.matrices is not None:
            state["sde_matrices"] = self.sde.matrices  # gSDE's current noise, so a resumed run draws the same
        return state

    def _restore_state(self, arrays):
        arrays = dict(arrays)
        matrices = arrays.pop("sde_matrices", None)
        replay = self.replay.with_state(arrays)  # checked and built before anything changes

        def restore():
            self.replay = replay
            if self.sde is not None:
                self.sde.matrices = matrices
        return restore
