"""REINFORCE (Williams 1992): Monte Carlo policy gradient, with an optional value baseline.

Returns-to-go are computed for every step whose episode ends inside the rollout
(``complete_episode_mask``); the unfinished tail of each env is left out of the
update (its return is not known yet; the next rollout continues that episode).
A time-limit truncation bootstraps from the baseline, when there is one.
Rollouts and the update plumbing are ``agents.on_policy``'s.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from agents.buffers import complete_episode_mask, discounted_returns
from agents.config import OnPolicyConfig
from agents.on_policy import OnPolicyAgent
from agents.registry import register_agent

__all__ = ["REINFORCE", "REINFORCEConfig", "reinforce_loss"]


@dataclasses.dataclass
class REINFORCEConfig(OnPolicyConfig):
    """REINFORCE hyperparameters."""

    learning_rate: float = 1e-3
    n_steps: int = 500
    """Steps per env in one rollout (one gradient step per rollout)."""
    baseline: bool = True
    """Subtract a learned state value ``V(s)`` from the return (lower variance, same expectation)."""
    normalize_advantage: bool = True
    """Standardise the (baseline-subtracted) returns in each rollout."""
    max_grad_norm: float | None = None


def reinforce_loss(log_prob, advantages, mask):
    """``-sum(mask * A * log pi) / sum(mask)``: the policy gradient over complete episodes."""
    mask = tf.cast(mask, tf.float32)
    return -tf.reduce_sum(mask * tf.stop_gradient(advantages) * log_prob) / tf.maximum(tf.reduce_sum(mask), 1.0)


@register_agent
class REINFORCE(OnPolicyAgent):
    """REINFORCE for Discrete and Box action spaces."""

    name = "REINFORCE"
    Config = REINFORCEConfig
    loss_names = ("loss", "policy_loss", "value_loss", "entropy_loss")
    test_config = dict(n_steps=50, net_arch=(32,), jit_compile=False)
    test_learns = {"Discrete": (dict(n_envs=4, n_steps=40, learning_rate=1e-2, net_arch=(32,)), 1000, 18)}

    @property
    def uses_critic(self):
        return self.config.baseline

    def rollout_batch(self, last_values):
        """Monte Carlo returns (no bootstrap at the rollout end) and the mask of complete episodes."""
        buf = self.buffer
        returns = discounted_returns(buf.rewards, buf.dones, None, self.config.gamma)
        mask = complete_episode_mask(buf.dones).astype(np.float32)
        return dict(zip(("obs", "actions", "returns", "mask"), buf.flat(buf.obs, buf.actions, returns, mask)))

    def train_step(self, batch):
        cfg = self.config
        mask, returns = batch["mask"], batch["returns"]
        n = tf.maximum(tf.reduce_sum(mask), 1.0)
        log_prob, entropy = self.log_prob_entropy(batch["obs"], batch["actions"])
        values = self.values(batch["obs"])
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
        return {"loss": loss, "policy_loss": policy_loss, "value_loss": value_loss, "entropy_loss": entropy_loss}
