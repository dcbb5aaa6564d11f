"""Proximal Policy Optimization (Schulman et al. 2017), clipped objective, GAE.

Only PPO's loss and update are here; rollouts, envs, callbacks and saving are
in ``agents.base``. The whole update (``n_epochs`` passes of shuffled
minibatches) is one ``tf.function`` call per rollout.
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from agents.base import AgentConfig, OnPolicyAgent, _clip_grads, register_agent

__all__ = ["PPO", "PPOConfig", "ppo_losses"]


@dataclasses.dataclass
class PPOConfig(AgentConfig):
    """PPO hyperparameters (stable-baselines3 defaults; rl-zoo's per env in ``PPO.RL_ZOO``)."""

    n_steps: int = 2048
    """Steps per env in one rollout (a rollout holds ``n_steps * n_envs`` transitions)."""
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
    normalize_advantage: bool = True
    """Standardise advantages in every minibatch."""
    ent_coef: float = 0.0
    """Entropy bonus weight."""
    vf_coef: float = 0.5
    """Value loss weight."""
    log_std_init: float = 0.0
    """Initial log standard deviation of the Gaussian policy (Box actions)."""

    _positive = ("n_steps", "batch_size", "n_epochs", "clip_range")

    def check(self, agent):
        super().check(agent)
        if self.clip_schedule not in ("constant", "linear"):
            raise ValueError(f"{agent}: invalid clip_schedule={self.clip_schedule!r}; expected 'constant' or 'linear'")
        if self.batch_size > self.n_steps * self.n_envs:
            raise ValueError(f"{agent}: invalid batch_size={self.batch_size}; expected at most "
                             f"n_steps * n_envs = {self.n_steps * self.n_envs}")


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
    RL_ZOO = {
        "CartPole-v1": dict(n_envs=8, n_steps=32, batch_size=256, gae_lambda=0.8, gamma=0.98, n_epochs=20,
                            ent_coef=0.0, learning_rate=1e-3, lr_schedule="linear", clip_range=0.2,
                            clip_schedule="linear"),
        "Acrobot-v1": dict(n_envs=16, n_steps=256, gae_lambda=0.94, gamma=0.99, n_epochs=4, ent_coef=0.0,
                           normalize_obs=True),
        "MountainCarContinuous-v0": dict(n_envs=1, normalize_obs=True, batch_size=256, n_steps=8, gamma=0.9999,
                                         learning_rate=7.77e-05, ent_coef=0.00429, clip_range=0.1, n_epochs=10,
                                         gae_lambda=0.9, max_grad_norm=5.0, vf_coef=0.19, log_std_init=-3.29),
    }

    def _build(self):
        out = super()._build()
        self._update_fn = self.graph(self._ppo_update)
        return out

    def _update(self, buf, advantages, returns):
        cfg = self.config
        clip = cfg.clip_range * (1.0 - self._progress if cfg.clip_schedule == "linear" else 1.0)
        obs, actions, log_probs, values, adv, ret = buf.flat(buf.obs, buf.actions, buf.log_probs, buf.values,
                                                             advantages, returns)
        return self._update_fn(obs, actions, log_probs, values, adv, ret, tf.constant(max(clip, 1e-8), tf.float32))

    def _ppo_update(self, obs, actions, old_log_probs, old_values, advantages, returns, clip_range):
        cfg = self.config
        n = tf.shape(obs)[0]
        n_batches = n // cfg.batch_size
        variables = self.trainable_variables()
        totals = tf.zeros([6])
        for _ in tf.range(cfg.n_epochs):
            perm = tf.argsort(self.rng.uniform([n]))
            for b in tf.range(n_batches):
                idx = perm[b * cfg.batch_size:(b + 1) * cfg.batch_size]
                adv = tf.gather(advantages, idx)
                if cfg.normalize_advantage:
                    adv = (adv - tf.reduce_mean(adv)) / (tf.math.reduce_std(adv) + 1e-8)
                ret, old_v = tf.gather(returns, idx), tf.gather(old_values, idx)
                with tf.GradientTape() as tape:
                    log_prob, entropy = self.log_prob_entropy(tf.gather(obs, idx), tf.gather(actions, idx))
                    pg_loss, approx_kl, clip_fraction = ppo_losses(log_prob, tf.gather(old_log_probs, idx), adv,
                                                                   clip_range)
                    values = self._values(tf.gather(obs, idx))
                    if cfg.clip_range_vf is not None:
                        values = old_v + tf.clip_by_value(values - old_v, -cfg.clip_range_vf, cfg.clip_range_vf)
                    value_loss = tf.reduce_mean(tf.square(ret - values))
                    entropy_loss = -tf.reduce_mean(entropy)
                    loss = pg_loss + cfg.ent_coef * entropy_loss + cfg.vf_coef * value_loss
                grads = _clip_grads(tape.gradient(loss, variables), cfg.max_grad_norm)
                self.optimizer.apply_gradients(zip(grads, variables))
                totals += tf.stack([loss, pg_loss, value_loss, entropy_loss, approx_kl, clip_fraction])
        totals /= tf.cast(cfg.n_epochs * n_batches, tf.float32)
        names = ("loss", "policy_loss", "value_loss", "entropy_loss", "approx_kl", "clip_fraction")
        return {k: totals[i] for i, k in enumerate(names)}
