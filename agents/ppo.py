"""Proximal Policy Optimization (Schulman et al. 2017), clipped objective, GAE.

This file is PPO: its hyperparameters, its loss and one training step. Rollouts,
GAE, the ``n_epochs`` passes of shuffled minibatches (one compiled call per
rollout), gradient clipping, envs, callbacks and saving are ``agents.on_policy``'s.
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from agents.config import OnPolicyConfig, check_schedule
from agents.on_policy import OnPolicyAgent
from agents.registry import register_agent
from zoo.core.checks import fail

__all__ = ["PPO", "PPOConfig", "ppo_losses"]


@dataclasses.dataclass
class PPOConfig(OnPolicyConfig):
    """PPO hyperparameters (stable-baselines3 defaults; rl-zoo's per env in ``PPO.RL_ZOO``)."""

    batch_size: int = 64
    """Minibatch size."""
    n_epochs: int = 10
    """Passes over the rollout per update."""
    gae_lambda: float = 0.95
    """GAE's bias/variance trade-off (1: Monte Carlo, 0: one-step TD)."""
    clip_range: float = 0.2
    """Policy ratio clipping epsilon."""
    clip_schedule: str = "constant"
    """``"constant"`` or ``"linear"`` (the clip range decays to 0 like rl-zoo's ``lin_0.2``)."""
    clip_range_vf: float | None = None
    """Value clipping around the old values (``None``: off)."""
    jit_compile: bool = False
    """Off by default: XLA's CPU loop over shuffled minibatches is slow. One update of rl-zoo's
    Acrobot-v1 settings (16x256 steps, batches of 64, 4 epochs) took 7.5 s under XLA against 0.22 s
    without; Pendulum-v1 2.5 s against 0.37 s; CartPole-v1 (batches of 256) the same either way."""

    _positive = OnPolicyConfig._positive + ("batch_size", "n_epochs", "clip_range")

    def check(self, agent):
        super().check(agent)
        check_schedule("clip_schedule", self.clip_schedule, agent)
        if self.batch_size > self.n_steps * self.n_envs:
            fail("batch_size", self.batch_size, f"at most n_steps * n_envs = {self.n_steps * self.n_envs}", agent)


def ppo_losses(log_prob, old_log_prob, advantages, clip_range):
    """Clipped surrogate loss ``-mean(min(r A, clip(r, 1-eps, 1+eps) A))``, approx KL, clip fraction."""
    ratio = tf.exp(log_prob - old_log_prob)
    clipped = tf.clip_by_value(ratio, 1.0 - clip_range, 1.0 + clip_range)
    loss = -tf.reduce_mean(tf.minimum(advantages * ratio, advantages * clipped))
    log_ratio = log_prob - old_log_prob
    approx_kl = tf.reduce_mean(tf.exp(log_ratio) - 1.0 - log_ratio)
    clip_fraction = tf.reduce_mean(tf.cast(tf.abs(ratio - 1.0) > clip_range, tf.float32))
    return loss, approx_kl, clip_fraction


@register_agent
class PPO(OnPolicyAgent):
    """PPO for Discrete and Box action spaces over gymnasium vector envs."""

    name = "PPO"
    Config = PPOConfig
    loss_names = ("loss", "policy_loss", "value_loss", "entropy_loss", "approx_kl", "clip_fraction")
    RL_ZOO = {
        "atari": dict(n_envs=8, n_steps=128, n_epochs=4, batch_size=256, learning_rate=2.5e-4, lr_schedule="linear",
                      clip_range=0.1, clip_schedule="linear", vf_coef=0.5, ent_coef=0.01),
        "CartPole-v1": dict(n_envs=8, n_steps=32, batch_size=256, gae_lambda=0.8, gamma=0.98, n_epochs=20,
                            ent_coef=0.0, learning_rate=1e-3, lr_schedule="linear", clip_range=0.2,
                            clip_schedule="linear"),
        "Acrobot-v1": dict(n_envs=16, n_steps=256, gae_lambda=0.94, gamma=0.99, n_epochs=4, ent_coef=0.0,
                           normalize_obs=True, normalize_reward=True),
        # rl-zoo's normalize: true is normalize_obs and normalize_reward (VecNormalize's two defaults)
        "MountainCarContinuous-v0": dict(n_envs=1, normalize_obs=True, normalize_reward=True, batch_size=256,
                                         n_steps=8, gamma=0.9999,
                                         learning_rate=7.77e-05, ent_coef=0.00429, clip_range=0.1, n_epochs=10,
                                         gae_lambda=0.9, max_grad_norm=5.0, vf_coef=0.19, log_std_init=-3.29,
                                         use_sde=True, ortho_init=False),
        "Pendulum-v1": dict(n_envs=4, n_steps=1024, gae_lambda=0.95, gamma=0.9, n_epochs=10, ent_coef=0.0,
                            learning_rate=1e-3, clip_range=0.2, max_grad_norm=0.5, normalize_obs=True, normalize_reward=True,
                            use_sde=True, sde_sample_freq=4),
        "LunarLander-v3": dict(n_envs=16, n_steps=1024, batch_size=64, gae_lambda=0.98, gamma=0.999, n_epochs=4,
                               ent_coef=0.01),
    }
    test_config = dict(n_steps=32, batch_size=32, n_epochs=2, net_arch=(32,), jit_compile=False)
    test_learns = {
        "Discrete": (dict(n_envs=4, n_steps=32, batch_size=64, learning_rate=3e-3, net_arch=(32,)), 1000, 18),
        "Box": (dict(n_envs=4, n_steps=16, batch_size=32, learning_rate=1e-2, net_arch=(32,)), 2000, 17),
    }

    def minibatches(self):
        return self.config.n_epochs, self.config.batch_size

    def update_params(self):
        cfg = self.config
        clip = cfg.clip_range * (1.0 - self._progress if cfg.clip_schedule == "linear" else 1.0)
        return {"clip_range": max(clip, 1e-8)}

    def train_step(self, batch, clip_range):
        cfg = self.config
        adv = batch["advantages"]
        if cfg.normalize_advantage:
            adv = (adv - tf.reduce_mean(adv)) / (tf.math.reduce_std(adv) + 1e-8)
        log_prob, entropy = self.log_prob_entropy(batch["obs"], batch["actions"])
        pg_loss, approx_kl, clip_fraction = ppo_losses(log_prob, batch["log_probs"], adv, clip_range)
        values, old_values = self.values(batch["obs"]), batch["values"]
        if cfg.clip_range_vf is not None:
            values = old_values + tf.clip_by_value(values - old_values, -cfg.clip_range_vf, cfg.clip_range_vf)
        value_loss = tf.reduce_mean(tf.square(batch["returns"] - values))
        entropy_loss = -tf.reduce_mean(entropy)
        loss = pg_loss + cfg.ent_coef * entropy_loss + cfg.vf_coef * value_loss
        return {"loss": loss, "policy_loss": pg_loss, "value_loss": value_loss, "entropy_loss": entropy_loss,
                "approx_kl": approx_kl, "clip_fraction": clip_fraction}
