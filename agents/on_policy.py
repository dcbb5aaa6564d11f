"""``OnPolicyAgent``: rollouts of ``n_steps`` x ``n_envs``, advantages, and the update plumbing.

The machinery collects a rollout (acting in NumPy), turns it into a batch
(``rollout_batch``: GAE advantages and returns by default), and runs the update
as one compiled call: ``n_epochs`` passes of shuffled minibatches (PPO) or one
step on the whole rollout (A2C, REINFORCE). Each gradient step calls the
algorithm's ``train_step(batch, **params)`` inside a tape and applies the
gradient of its ``"loss"`` with ``agents.apply_gradients``.
"""

from __future__ import annotations

import abc

import numpy as np
import tensorflow as tf

from agents import distributions
from agents.base import Agent
from agents.buffers import RolloutBuffer, compute_gae
from agents.compiled import pack_batch, unpack_batch
from agents.config import OnPolicyConfig
from agents.gsde import SDEPolicy, check_sde
from agents.initializers import ORTHO_GAINS, orthogonal_init  # noqa: F401  (their old import path)
from agents.networks import Parameter
from agents.numpy_forward import VariableReader
from agents.optim import apply_gradients, make_adam
from agents.policies import unique_variables

__all__ = ["OnPolicyAgent", "orthogonal_init"]


class OnPolicyAgent(Agent):
    """Rollouts of ``n_steps`` per env with a categorical or diagonal-Gaussian policy.

    Networks: ``actor`` (logits or Gaussian means), ``critic`` (state value, unless
    ``uses_critic`` is false) and, for Box actions, ``log_std`` (state-independent,
    as in stable-baselines3; with ``use_sde`` the ``(latent_dim, action_dim)`` log std of
    gSDE's noise weights, ``agents.gsde``). A subclass writes ``train_step``; it may change
    ``minibatches`` (shuffled minibatches), ``update_params`` (scalars of one
    update) and ``rollout_batch`` (what the update sees).
    """

    Config = OnPolicyConfig
    autograph = False  # the update's loops are tf.while_loop; a train_step writes tensor conditions with tf.cond
    uses_critic = True
    share_features_extractor = True

    # ------------------------------------------------------------------ what an algorithm writes

    @abc.abstractmethod
    def train_step(self, batch: dict, **params) -> dict:
        """One gradient step's losses on ``batch`` (a dict of tensors); ``"loss"`` is minimised."""

    def minibatches(self):
        """``(n_epochs, batch_size)`` of shuffled minibatches, or ``None``: one step on the whole rollout."""
        return None

    def update_params(self) -> dict:
        """Scalars of this update (schedules), passed to ``train_step`` as keyword arguments."""
        return {}

    def rollout_batch(self, last_values) -> dict:
        """The rollout as flat arrays: ``obs``, ``actions``, ``log_probs``, ``values`` and GAE's
        ``advantages`` and ``returns`` (with ``config.gae_lambda``)."""
        buf, cfg = self.buffer, self.config
        advantages, returns = compute_gae(buf.rewards, buf.values, buf.dones, last_values, cfg.gamma, cfg.gae_lambda)
        keys = ("obs", "actions", "log_probs", "values", "advantages", "returns")
        arrays = buf.flat(buf.obs, buf.actions, buf.log_probs, buf.values, advantages, returns)
        return dict(zip(keys, arrays))

    # ------------------------------------------------------------------ networks

    def _build(self):
        cfg, nets = self.config, self.nets
        shared = nets.extractor("features") if nets.share else None  # None: each network builds its own
        networks = {"actor": nets.net(self.n_actions, cfg.net_arch, cfg.activation, "actor", extractor=shared)}
        if self.uses_critic:
            networks["critic"] = nets.net(1, cfg.net_arch, cfg.activation, "critic", extractor=shared)
        if cfg.ortho_init:
            orthogonal_init(networks, self.seed, self.nets.name == "cnn")
        check_sde(cfg, self.name, self.discrete)
        if cfg.use_sde:
            shape = (SDEPolicy.latent_dim(networks["actor"]), self.action_dim)
            networks["log_std"] = Parameter(shape, cfg.log_std_init, name="log_std")
            self.sde = SDEPolicy(networks["actor"], networks["log_std"], nets, expln=cfg.use_expln)
        elif not self.discrete:
            networks["log_std"] = Parameter(self.action_dim, cfg.log_std_init, name="log_std")
        self.optimizer = self._make_optimizer()
        self.optimizer.build(unique_variables(*networks.values()))
        return networks, "actor", self.optimizer

    def _setup(self):
        self.buffer = RolloutBuffer(self.config.n_steps, self.n_envs, self.obs_shape,
                                    () if self.discrete else (self.action_dim,),
                                    np.int64 if self.discrete else np.float32, obs_dtype=self.obs_dtype)
        self._np_actor = None
        self._acting_values = None  # what the last update returned for the next rollout (None: read them)
        self._update_fn = self.graph(self._update)

    def _make_optimizer(self):
        return make_adam(self.config.adam_form, self.config.learning_rate, keras_epsilon=1e-5, torch_epsilon=1e-5)

    def trainable_variables(self):
        return unique_variables(*(getattr(self.model, key) for key in self.model.network_names))

    # ------------------------------------------------------------------ the policy (TensorFlow)

    def distribution(self, obs):
        """The policy's action distribution on raw observations (TensorFlow)."""
        if self.config.use_sde:
            return self.sde.distribution(self.normalizer(obs))
        out = self.model.actor(self.normalizer(obs))
        if self.discrete:
            return distributions.categorical(out)
        return distributions.diag_gaussian(out, self.model.log_std(out))

    def log_prob_entropy(self, obs, actions):
        """``(log pi(actions|obs), entropy)`` under the current policy."""
        dist = self.distribution(obs)
        return dist.log_prob(actions), dist.entropy()

    def values(self, obs):
        """``V(obs)`` on raw observations (zeros without a critic)."""
        if not self.uses_critic:
            return tf.zeros(tf.shape(obs)[:1])
        return tf.squeeze(self.model.critic(self.normalizer(obs)), -1)

    def _policy_action(self, obs, deterministic):
        dist = self.distribution(obs)
        greedy = dist.mode()
        return tf.cond(deterministic, lambda: greedy, lambda: tf.cast(dist.sample(self.rng), greedy.dtype))

    # ------------------------------------------------------------------ acting (NumPy)

    def _acting_reader(self) -> VariableReader:
        """The reader of what the env loop acts with: the observation statistics, the critic's weights,
        then the policy's (gSDE's, or the actor's and the log std); made on first use."""
        if self._np_actor is None:
            self._np_actor = self.nets.forward(self.model.actor)
            self._np_critic = self.nets.forward(self.model.critic) if self.uses_critic else None
            self._acting = [f for f in (self._np_critic, self.sde if self.config.use_sde else self._np_actor) if f]
            self._acting_sizes = [len(f.variables()) for f in self._acting]
            extra = [self.model.log_std.value] if not self.discrete and not self.config.use_sde else []
            norm = self.normalizer
            stats = [norm.mean, norm.var, norm.count] if norm.enabled else []
            self._reader = VariableReader(stats + [v for f in self._acting for v in f.variables()] + extra,
                                          jit_compile=self.config.jit_compile)
        return self._reader

    def _weights_changed(self):
        """Something besides the update may have changed the weights: the next rollout reads them."""
        self._acting_values = None

    def _sync_numpy(self):
        """Copy the current weights to the NumPy forward passes used while acting: those the last update
        returned with its losses, or one TensorFlow read when something else may have changed them since."""
        reader = self._acting_reader()
        values, self._acting_values = self._acting_values, None
        if values is None:
            values = reader()
        if self.normalizer.enabled:
            self.normalizer.sync(values[:3])
            values = values[3:]
        for forward, n in zip(self._acting, self._acting_sizes):
            forward.sync(values[:n])
            values = values[n:]
        if values:
            self._np_log_std = values[0]

    def _np_values(self, obs):
        if self._np_critic is None:
            return np.zeros(len(obs), np.float32)
        return self._np_critic(self.normalizer.numpy(obs))[:, 0]

    def _act(self, obs):
        """Sample actions in NumPy: ``(actions, values, log-probs)``."""
        if self.config.use_sde:
            actions, logp = self.sde.act(self.normalizer.numpy(obs))
            return actions, self._np_values(obs), logp
        out = self._np_actor(self.normalizer.numpy(obs))
        if self.discrete:
            dist = distributions.categorical(out)
        else:
            dist = distributions.diag_gaussian(out, self._np_log_std)
        actions, logp = dist.sample_and_log_prob(self.np_rng)
        return actions, self._np_values(obs), logp.astype(np.float32)

    # ------------------------------------------------------------------ rollouts

    def _steps_per_epoch(self):
        return self.config.n_steps * self.n_envs

    def collect_rollout(self):
        """Fill ``self.buffer``; returns the values of the observations after the last step.

        A truncated episode (time limit) gets ``gamma * V(final_obs)`` added to its last
        reward, so that it bootstraps; a terminated one does not.
        """
        buf, gamma, freq = self.buffer, self.config.gamma, self.config.sde_sample_freq
        buf.reset()
        self._sync_numpy()
        step = 0
        while not buf.full:
            if self.config.use_sde and (step == 0 or (freq > 0 and step % freq == 0)):
                self.sde.resample(self.n_envs, self.np_rng)  # gSDE: new noise matrices, as SB3's reset_noise
            step += 1
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
        batch = self.rollout_batch(last_values)
        self._set_lr(self.optimizer, self.config.learning_rate)
        params = {k: tf.constant(v, tf.float32) for k, v in self.update_params().items()}
        stats = self.normalizer.fold(self.buffer.obs) if self.normalizer.enabled else ()
        batch, self._batch_layout = pack_batch(batch)  # one tensor for the float32 arrays (fixed per agent)
        losses, acting = self._update_fn({k: tf.constant(v) for k, v in batch.items()}, params,
                                         tuple(tf.constant(x) for x in stats))
        self._acting_values = self._acting_reader().unpack(acting)
        if stats:
            self.normalizer.sync(stats)
        return losses

    # ------------------------------------------------------------------ the update (one graph call)

    def _gradient_step(self, batch, params, variables):
        with tf.GradientTape() as tape:
            losses = self.train_step(batch, **params)
        apply_gradients(self.optimizer, tape.gradient(losses["loss"], variables), variables, self.config.max_grad_norm)
        return tf.stack([losses[k] for k in self.loss_names])

    def _update(self, batch, params, statistics):
        """The gradient steps on the rollout, then the observation statistics with the rollout folded in
        (``statistics``, assigned after the steps, which normalise with the old ones); returns ``(losses,
        what the env loop acts with next)``: one TensorFlow call per rollout."""
        batch = unpack_batch(batch, self._batch_layout)
        variables = self.trainable_variables()
        schedule = self.minibatches()
        if schedule is None:
            totals = self._gradient_step(batch, params, variables)
        else:
            n_epochs, batch_size = schedule
            n = tf.shape(batch["obs"])[0]
            n_batches = n // batch_size

            def epoch(e, totals):  # one pass over shuffled minibatches
                perm = tf.argsort(self.rng.uniform([n]))

                def minibatch(b, totals):
                    idx = perm[b * batch_size:(b + 1) * batch_size]
                    return b + 1, totals + self._gradient_step({k: tf.gather(v, idx) for k, v in batch.items()},
                                                               params, variables)
                return e + 1, tf.while_loop(lambda b, _: b < n_batches, minibatch, (0, totals))[1]
            totals = tf.while_loop(lambda e, _: e < n_epochs, epoch, (0, tf.zeros([len(self.loss_names)])))[1]
            totals /= tf.cast(n_epochs * n_batches, tf.float32)
        norm = self.normalizer
        for variable, value in zip((norm.mean, norm.var, norm.count), statistics):
            variable.assign(value)
        return {k: totals[i] for i, k in enumerate(self.loss_names)}, self._acting_reader().read()
