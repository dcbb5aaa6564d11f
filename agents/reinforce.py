"""REINFORCE (Williams 1992): Monte Carlo policy gradient, with an optional value baseline.

Returns-to-go are computed for every step whose episode ends inside the rollout
(``complete_episode_mask``); the unfinished tail of each env is left out of the
update (its return is not known yet; the next rollout continues that episode).
A time-limit truncation bootstraps from the baseline, when there is one.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from agents.base import AgentConfig, OnPolicyAgent, _clip_grads, register_agent
from agents.buffers import complete_episode_mask, discounted_returns

__all__ = ["REINFORCE", "REINFORCEConfig", "reinforce_loss"]


@dataclasses.dataclass
class REINFORCEConfig(AgentConfig):
    """REINFORCE hyperparameters."""

    learning_rate: float = 1e-3
    n_steps: int = 500
    """Steps per env in one rollout (one gradient step per rollout)."""
    baseline: bool = True
    """Subtract a learned state value ``V(s)`` from the return (lower variance, same expectation)."""
    vf_coef: float = 0.5
    """Weight of the baseline's squared error."""
    ent_coef: float = 0.0
    """Entropy bonus weight."""
    normalize_advantage: bool = True
    """Standardise the (baseline-subtracted) returns in each rollout."""
    max_grad_norm: float | None = None
    log_std_init: float = 0.0
    """Initial log standard deviation of the Gaussian policy (Box actions)."""

    _positive = ("n_steps",)


def reinforce_loss(log_prob, advantages, mask):
    """``-sum(mask * A * log pi) / sum(mask)``: the policy gradient over complete episodes."""
    mask = tf.cast(mask, tf.float32)
    return -tf.reduce_sum(mask * tf.stop_gradient(advantages) * log_prob) / tf.maximum(tf.reduce_sum(mask), 1.0)


@register_agent
class REINFORCE(OnPolicyAgent):
    """REINFORCE for Discrete and Box action spaces."""

    name = "REINFORCE"
    Config = REINFORCEConfig

    @property
    def uses_critic(self):
        return self.config.baseline

    def _build(self):
        out = super()._build()
        self._update_fn = self.graph(self._reinforce_update)
        return out

    def _run_epoch(self, total_timesteps, target_timesteps):
        self.collect_rollout()
        buf, cfg = self.buffer, self.config
        returns = discounted_returns(buf.rewards, buf.dones, None, cfg.gamma)
        mask = complete_episode_mask(buf.dones).astype(np.float32)
        self._set_lr(self.optimizer, cfg.learning_rate)
        obs, actions, ret, m = buf.flat(buf.obs, buf.actions, returns, mask)
        losses = self._update_fn(obs, actions, ret, m)
        self.normalizer.update(buf.obs)
        return losses

    def _reinforce_update(self, obs, actions, returns, mask):
        cfg = self.config
        variables = self.trainable_variables()
        n = tf.maximum(tf.reduce_sum(mask), 1.0)
        with tf.GradientTape() as tape:
            log_prob, entropy = self.log_prob_entropy(obs, actions)
            values = self._values(obs)
            advantages = returns - tf.stop_gradient(values)
            if cfg.normalize_advantage:
                mean = tf.reduce_sum(mask * advantages) / n
                std = tf.sqrt(tf.reduce_sum(mask * tf.square(advantages - mean)) / n)
                advantages = (advantages - mean) / (std + 1e-8)
            policy_loss = reinforce_loss(log_prob, advantages, mask)
            value_loss = tf.reduce_sum(mask * tf.square(returns - values)) / n
            entropy_loss = -tf.reduce_mean(entropy)
            loss = policy_loss + cfg.ent_coef * entropy_loss
            if cfg.baseline:
                loss += cfg.vf_coef * value_loss
        grads = _clip_grads(tape.gradient(loss, variables), cfg.max_grad_norm)
        self.optimizer.apply_gradients(zip(grads, variables))
        return {"loss": loss, "policy_loss": policy_loss, "value_loss": value_loss, "entropy_loss": entropy_loss}
