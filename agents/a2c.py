"""Advantage Actor-Critic (Mnih et al. 2016, synchronous A2C).

This file is A2C: its hyperparameters, its loss and one training step on each
short rollout of ``n_steps`` x ``n_envs`` (RMSprop in PyTorch's form, as stable-baselines3's, or
TensorFlow's, as rl-zoo's Atari settings).
Rollouts, GAE and the update plumbing are ``agents.on_policy``'s.
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from agents.config import OnPolicyConfig
from agents.on_policy import OnPolicyAgent
from agents.optim import RMSpropTFLike, RMSpropTorchLike
from agents.registry import register_agent
from zoo.core.checks import check_choice, fail

__all__ = ["A2C", "A2CConfig", "actor_critic_loss"]


@dataclasses.dataclass
class A2CConfig(OnPolicyConfig):
    """A2C hyperparameters (stable-baselines3 defaults; rl-zoo's per env in ``A2C.RL_ZOO``)."""

    learning_rate: float = 7e-4
    n_steps: int = 5
    """Steps per env in one rollout (one gradient step per rollout)."""
    gae_lambda: float = 1.0
    """GAE lambda (1: n-step returns bootstrapped at the rollout end)."""
    normalize_advantage: bool = False
    """Standardise advantages in each rollout."""
    rms_prop_eps: float = 1e-5
    """RMSprop epsilon."""
    rms_prop_form: str = "torch"
    """``"torch"``: epsilon after the square root, as PyTorch's RMSprop and so SB3's A2C
    (``agents.RMSpropTorchLike``); ``"tf"``: inside it, the mean of squares starting at 1, as SB3's
    ``RMSpropTFLike`` that rl-zoo's Atari A2C uses (``agents.RMSpropTFLike``)."""
    jit_compile: bool = False
    """Off by default: with one TensorFlow call per rollout XLA's update is only ~5% faster on a CPU,
    and compiling it costs ~0.9 s a run (100k CartPole-v1 steps: 6.7 s as a graph, 7.0-8.1 s under XLA)."""

    def check(self, agent):
        super().check(agent)
        check_choice("rms_prop_form", self.rms_prop_form, RMS_PROP_FORMS, agent)
        if self.adam_form != "keras":
            fail("adam_form", self.adam_form, "'keras' (A2C steps with RMSprop: rms_prop_form says its form)", agent)


RMS_PROP_FORMS = {"torch": RMSpropTorchLike, "tf": RMSpropTFLike}


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
    loss_names = ("loss", "policy_loss", "value_loss", "entropy_loss")
    RL_ZOO = {
        "atari": dict(n_envs=16, ent_coef=0.01, vf_coef=0.25, rms_prop_form="tf"),  # RMSpropTFLike, eps 1e-5
        "CartPole-v1": dict(n_envs=8, ent_coef=0.0),
        "Acrobot-v1": dict(n_envs=16, ent_coef=0.0, normalize_obs=True, normalize_reward=True),
        "Pendulum-v1": dict(n_envs=8, normalize_obs=True, normalize_reward=True, gae_lambda=0.9, n_steps=8, gamma=0.9,
                            learning_rate=7e-4, lr_schedule="linear", max_grad_norm=0.5, ent_coef=0.0,
                            vf_coef=0.4, normalize_advantage=False, use_sde=True, log_std_init=-2.0,
                            ortho_init=False),
    }
    test_config = dict(n_steps=8, net_arch=(32,), jit_compile=False)
    test_learns = {"Discrete": (dict(n_envs=4, n_steps=8, learning_rate=3e-3, net_arch=(32,)), 1000, 18)}

    def _make_optimizer(self):
        form = RMS_PROP_FORMS[self.config.rms_prop_form]
        return form(self.config.learning_rate, rho=0.99, epsilon=self.config.rms_prop_eps)

    def train_step(self, batch):
        cfg = self.config
        advantages = batch["advantages"]
        if cfg.normalize_advantage:
            advantages = (advantages - tf.reduce_mean(advantages)) / (tf.math.reduce_std(advantages) + 1e-8)
        log_prob, entropy = self.log_prob_entropy(batch["obs"], batch["actions"])
        loss, policy_loss, value_loss, entropy_loss = actor_critic_loss(
            log_prob, entropy, self.values(batch["obs"]), advantages, batch["returns"], cfg.ent_coef, cfg.vf_coef)
        return {"loss": loss, "policy_loss": policy_loss, "value_loss": value_loss, "entropy_loss": entropy_loss}
