"""Soft Actor-Critic (Haarnoja et al. 2018) with automatic entropy tuning.

Only the losses and the update are here; the replay loop is
``agents.base.OffPolicyAgent``. The policy is a tanh-squashed Gaussian whose
log-probability is ``agents.networks.squashed_gaussian_log_prob``.
"""

from __future__ import annotations

import dataclasses
import math

import gymnasium as gym
import keras
import numpy as np
import tensorflow as tf

from agents.base import OffPolicyAgent, OffPolicyConfig, _clip_grads, register_agent
from agents.networks import LOG_STD_MAX, LOG_STD_MIN, Parameter, mlp, polyak_update, squashed_gaussian_log_prob
from agents.td3 import critic_input

__all__ = ["SAC", "SACConfig"]


@dataclasses.dataclass
class SACConfig(OffPolicyConfig):
    """SAC hyperparameters (stable-baselines3 defaults; rl-zoo's per env in ``SAC.RL_ZOO``)."""

    n_critics: int = 2
    """Critics whose minimum is the target (clipped double Q)."""
    ent_coef: str | float = "auto"
    """Entropy temperature alpha: a number, or ``"auto"`` to learn it (initial value ``ent_coef_init``)."""
    ent_coef_init: float = 1.0
    """Initial alpha with ``ent_coef="auto"``."""
    target_entropy: str | float = "auto"
    """Entropy target of the automatic tuning; ``"auto"`` is ``-action_dim``."""
    target_update_interval: int = 1
    """Gradient steps between two Polyak updates of the target critics."""

    _positive = OffPolicyConfig._positive + ("n_critics", "target_update_interval", "ent_coef_init")

    def check(self, agent):
        super().check(agent)
        if self.ent_coef != "auto" and (isinstance(self.ent_coef, str) or not self.ent_coef >= 0):
            raise ValueError(f"{agent}: invalid ent_coef={self.ent_coef!r}; expected 'auto' or a number >= 0")
        if self.target_entropy != "auto" and isinstance(self.target_entropy, str):
            raise ValueError(f"{agent}: invalid target_entropy={self.target_entropy!r}; expected 'auto' or a number")


@register_agent
class SAC(OffPolicyAgent):
    """SAC for Box action spaces."""

    name = "SAC"
    Config = SACConfig
    action_spaces = (gym.spaces.Box,)
    squashed = True
    RL_ZOO = {
        "Pendulum-v1": dict(learning_rate=1e-3),
        "MountainCarContinuous-v0": dict(learning_rate=3e-4, buffer_size=50_000, batch_size=512, ent_coef=0.1,
                                         train_freq=32, gradient_steps=32, gamma=0.9999, tau=0.01,
                                         learning_starts=0),
        "LunarLanderContinuous-v3": dict(learning_rate=7.3e-4, buffer_size=1_000_000, batch_size=256,
                                         ent_coef="auto", gamma=0.99, tau=0.01, train_freq=1, gradient_steps=1,
                                         learning_starts=10_000, net_arch=(400, 300)),
    }

    def _build(self):
        cfg = self.config
        networks = {"actor": mlp(self.obs_dim, 2 * self.action_dim, cfg.net_arch, cfg.activation, name="actor")}
        self.critic_keys = [f"critic_{i}" for i in range(cfg.n_critics)]
        for key in self.critic_keys:
            for name in (key, f"target_{key}"):
                networks[name] = mlp(self.obs_dim + self.action_dim, 1, cfg.net_arch, cfg.activation, name=name)
            networks[f"target_{key}"].set_weights(networks[key].get_weights())
        self.auto_alpha = cfg.ent_coef == "auto"
        alpha0 = cfg.ent_coef_init if self.auto_alpha else float(cfg.ent_coef)
        networks["log_alpha"] = Parameter(1, math.log(max(alpha0, 1e-12)), name="log_alpha")
        self.target_entropy = -float(self.action_dim) if cfg.target_entropy == "auto" else float(cfg.target_entropy)
        self.actor_optimizer = keras.optimizers.Adam(cfg.learning_rate)
        self.critic_optimizer = keras.optimizers.Adam(cfg.learning_rate)
        self.alpha_optimizer = keras.optimizers.Adam(cfg.learning_rate)
        self.actor_optimizer.build(networks["actor"].trainable_variables)
        self.critic_optimizer.build([v for k in self.critic_keys for v in networks[k].trainable_variables])
        self.alpha_optimizer.build(networks["log_alpha"].trainable_variables)
        self._updates = tf.Variable(0, dtype=tf.int64, trainable=False)
        self._init_off_policy("actor")
        return networks, "actor", self.actor_optimizer

    def _optimizers(self):
        lr = self.config.learning_rate
        return [(self.actor_optimizer, lr), (self.critic_optimizer, lr), (self.alpha_optimizer, lr)]

    def _policy_output(self, x):
        return keras.ops.tanh(self.model.actor(x)[:, : self.action_dim])

    def _gaussian(self, s):
        out = self.model.actor(s)
        mean, log_std = out[:, : self.action_dim], out[:, self.action_dim:]
        return mean, tf.clip_by_value(log_std, LOG_STD_MIN, LOG_STD_MAX)

    def _sample(self, s):
        """Reparameterised ``a = tanh(u)``, ``u ~ N(mean, std)``; returns ``(a, log pi(a|s))``."""
        mean, log_std = self._gaussian(s)
        u = mean + tf.exp(log_std) * self.rng.normal(tf.shape(mean))
        return tf.tanh(u), squashed_gaussian_log_prob(mean, log_std, u)

    def _policy_action(self, obs, deterministic):
        s = self.normalizer(obs)
        mean, _ = self._gaussian(s)
        return tf.cond(deterministic, lambda: tf.tanh(mean), lambda: self._sample(s)[0])

    def _explore(self, obs):
        out = self._np_forward(obs)
        mean = out[:, : self.action_dim]
        log_std = np.clip(out[:, self.action_dim:], LOG_STD_MIN, LOG_STD_MAX)
        return np.tanh(mean + np.exp(log_std) * self.np_rng.standard_normal(mean.shape)).astype(np.float32)

    def _q(self, prefix, s, a):
        x = critic_input(s, a)
        return tf.stack([tf.squeeze(getattr(self.model, f"{prefix}{k}")(x), -1) for k in self.critic_keys])

    def _train(self, obs, actions, rewards, next_obs, terminated):
        cfg = self.config
        critic_vars = [v for k in self.critic_keys for v in getattr(self.model, k).trainable_variables]
        actor_vars = self.model.actor.trainable_variables
        log_alpha = self.model.log_alpha.value
        totals = tf.zeros([4])
        for i in tf.range(tf.shape(obs)[0]):
            self._updates.assign_add(1)
            s, s2, a = self.normalizer(obs[i]), self.normalizer(next_obs[i]), actions[i]
            alpha_loss = tf.zeros([])
            if self.auto_alpha:
                _, logp = self._sample(s)
                with tf.GradientTape() as tape:
                    alpha_loss = -tf.reduce_mean(log_alpha * tf.stop_gradient(logp + self.target_entropy))
                self.alpha_optimizer.apply_gradients(zip(tape.gradient(alpha_loss, [log_alpha]), [log_alpha]))
            alpha = tf.exp(tf.stop_gradient(log_alpha))
            next_a, next_logp = self._sample(s2)
            next_q = tf.reduce_min(self._q("target_", s2, next_a), axis=0) - alpha * next_logp
            target = tf.stop_gradient(rewards[i] + cfg.gamma * (1.0 - terminated[i]) * next_q)
            with tf.GradientTape() as tape:
                critic_loss = 0.5 * tf.reduce_sum(tf.reduce_mean(tf.square(self._q("", s, a) - target), axis=-1))
            grads = _clip_grads(tape.gradient(critic_loss, critic_vars), cfg.max_grad_norm)
            self.critic_optimizer.apply_gradients(zip(grads, critic_vars))
            with tf.GradientTape() as tape:
                pi, logp = self._sample(s)
                q = tf.reduce_min(self._q("", s, pi), axis=0)
                actor_loss = tf.reduce_mean(alpha * logp - q)
            grads = _clip_grads(tape.gradient(actor_loss, actor_vars), cfg.max_grad_norm)
            self.actor_optimizer.apply_gradients(zip(grads, actor_vars))
            if self._updates % cfg.target_update_interval == 0:
                for key in self.critic_keys:
                    polyak_update(getattr(self.model, f"target_{key}").weights, getattr(self.model, key).weights,
                                  cfg.tau)
            totals += tf.stack([critic_loss, actor_loss, alpha_loss, alpha[0]])
        totals /= tf.cast(tf.shape(obs)[0], tf.float32)
        return {"critic_loss": totals[0], "actor_loss": totals[1], "ent_coef_loss": totals[2], "ent_coef": totals[3]}
