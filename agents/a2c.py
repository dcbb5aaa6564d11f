"""Advantage Actor-Critic (Mnih et al. 2016, synchronous A2C).

One gradient step on each short rollout of ``n_steps`` x ``n_envs``; RMSprop as in
stable-baselines3. Rollouts, GAE and everything else are in ``agents.base``.
"""

from __future__ import annotations

import dataclasses

import keras
import tensorflow as tf

from agents.base import AgentConfig, OnPolicyAgent, _clip_grads, register_agent

__all__ = ["A2C", "A2CConfig", "actor_critic_loss"]


@dataclasses.dataclass
class A2CConfig(AgentConfig):
    """A2C hyperparameters (stable-baselines3 defaults; rl-zoo's per env in ``A2C.RL_ZOO``)."""

    learning_rate: float = 7e-4
    n_steps: int = 5
    """Steps per env in one rollout (one gradient step per rollout)."""
    gae_lambda: float = 1.0
    """GAE lambda (1: n-step returns bootstrapped at the rollout end)."""
    ent_coef: float = 0.0
    """Entropy bonus weight."""
    vf_coef: float = 0.5
    """Value loss weight."""
    normalize_advantage: bool = False
    """Standardise advantages in each rollout."""
    rms_prop_eps: float = 1e-5
    """RMSprop epsilon."""
    log_std_init: float = 0.0
    """Initial log standard deviation of the Gaussian policy (Box actions)."""

    _positive = ("n_steps",)


def actor_critic_loss(log_prob, entropy, values, advantages, returns, ent_coef, vf_coef):
    """``-mean(A log pi) + vf_coef * mean((R - V)^2) - ent_coef * mean(H)`` and its parts."""
    policy_loss = -tf.reduce_mean(tf.stop_gradient(advantages) * log_prob)
    value_loss = tf.reduce_mean(tf.square(returns - values))
    entropy_loss = -tf.reduce_mean(entropy)
    return policy_loss + vf_coef * value_loss + ent_coef * entropy_loss, policy_loss, value_loss, entropy_loss


@register_agent
class A2C(OnPolicyAgent):
    """A2C for Discrete and Box action spaces over gymnasium vector envs."""

    name = "A2C"
    Config = A2CConfig
    RL_ZOO = {
        "CartPole-v1": dict(n_envs=8, ent_coef=0.0),
        "Acrobot-v1": dict(n_envs=16, ent_coef=0.0, normalize_obs=True),
        "Pendulum-v1": dict(n_envs=8, normalize_obs=True, gae_lambda=0.9, n_steps=8, gamma=0.9,
                            learning_rate=7e-4, lr_schedule="linear", max_grad_norm=0.5, ent_coef=0.0),
    }

    def _make_optimizer(self):
        return keras.optimizers.RMSprop(self.config.learning_rate, rho=0.99, epsilon=self.config.rms_prop_eps)

    def _build(self):
        out = super()._build()
        self._update_fn = self.graph(self._a2c_update)
        return out

    def _update(self, buf, advantages, returns):
        obs, actions, adv, ret = buf.flat(buf.obs, buf.actions, advantages, returns)
        return self._update_fn(obs, actions, adv, ret)

    def _a2c_update(self, obs, actions, advantages, returns):
        cfg = self.config
        if cfg.normalize_advantage:
            advantages = (advantages - tf.reduce_mean(advantages)) / (tf.math.reduce_std(advantages) + 1e-8)
        variables = self.trainable_variables()
        with tf.GradientTape() as tape:
            log_prob, entropy = self.log_prob_entropy(obs, actions)
            loss, pg, vl, el = actor_critic_loss(log_prob, entropy, self._values(obs), advantages, returns,
                                                 cfg.ent_coef, cfg.vf_coef)
        grads = _clip_grads(tape.gradient(loss, variables), cfg.max_grad_norm)
        self.optimizer.apply_gradients(zip(grads, variables))
        return {"loss": loss, "policy_loss": pg, "value_loss": vl, "entropy_loss": el}
