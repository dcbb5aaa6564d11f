"""Soft Actor-Critic (Haarnoja et al. 2018) with automatic entropy tuning.

This file is SAC: its hyperparameters, its networks, its policy (a tanh-squashed
Gaussian, ``agents.distributions.squashed_diag_gaussian``) and one training step.
The replay loop, the loop over ``gradient_steps`` and gradient clipping are
``agents.off_policy``'s.
"""

from __future__ import annotations

import dataclasses
import math

import gymnasium as gym
import keras
import tensorflow as tf

from agents import distributions
from agents.config import OffPolicyConfig
from agents.gsde import SDEPolicy, check_sde
from agents.networks import Parameter
from agents.off_policy import OffPolicyAgent
from agents.optim import make_adam, polyak_update
from agents.policies import unique_variables
from agents.registry import register_agent
from agents.td3 import critic_input
from zoo.core.checks import fail

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
    use_sde: bool = False
    """Generalized state-dependent exploration (``agents.gsde``) instead of white Gaussian noise."""
    sde_sample_freq: int = -1
    """With ``use_sde``: steps between two draws of the noise matrices (-1: once per collection phase)."""
    log_std_init: float = -3.0
    """With ``use_sde``: the initial log std of gSDE's noise weights (stable-baselines3's SAC default)."""
    use_expln: bool = False
    """With ``use_sde``: the noise std is ``exp`` below 0 and ``log1p(x) + 1`` above (SB3's ``use_expln``)."""
    use_sde_at_warmup: bool = False
    """With ``use_sde``: act with gSDE before ``learning_starts`` instead of uniformly at random (SB3's)."""

    _positive = OffPolicyConfig._positive + ("n_critics", "target_update_interval", "ent_coef_init")

    def check(self, agent):
        super().check(agent)
        if self.ent_coef != "auto" and (isinstance(self.ent_coef, str) or not self.ent_coef >= 0):
            fail("ent_coef", self.ent_coef, "'auto' or a number >= 0", agent)
        if self.target_entropy != "auto" and isinstance(self.target_entropy, str):
            fail("target_entropy", self.target_entropy, "'auto' or a number", agent)
        check_sde(self, agent, discrete=False)


@register_agent
class SAC(OffPolicyAgent):
    """SAC for Box action spaces."""

    name = "SAC"
    Config = SACConfig
    action_spaces = (gym.spaces.Box,)
    squashed = True
    loss_names = ("critic_loss", "actor_loss", "ent_coef_loss", "ent_coef")
    RL_ZOO = {
        "Pendulum-v1": dict(learning_rate=1e-3),
        "MountainCarContinuous-v0": dict(learning_rate=3e-4, buffer_size=50_000, batch_size=512, ent_coef=0.1,
                                         train_freq=32, gradient_steps=32, gamma=0.9999, tau=0.01,
                                         learning_starts=0, use_sde=True, log_std_init=-3.67, net_arch=(64, 64)),
        "LunarLanderContinuous-v3": dict(learning_rate=7.3e-4, buffer_size=1_000_000, batch_size=256,
                                         ent_coef="auto", gamma=0.99, tau=0.01, train_freq=1, gradient_steps=1,
                                         learning_starts=10_000, net_arch=(400, 300)),
    }
    test_config = dict(learning_starts=50, train_freq=4, gradient_steps=4, batch_size=32, net_arch=(32, 32),
                       log_interval=100, buffer_size=5000)
    test_learns = {"Box": (dict(test_config, learning_rate=3e-3, batch_size=64), 800, 17)}

    def _build(self):
        cfg = self.config
        nets, arch = self.nets, (cfg.net_arch, cfg.activation)
        actor_features, critic_features = nets.actor_critic_extractors()  # None, None for vectors
        # the actor's outputs: mean and log std, or with gSDE the mean (the log std is a parameter matrix)
        heads = self.action_dim if cfg.use_sde else 2 * self.action_dim
        networks = {"actor": nets.net(heads, *arch, "actor", extractor=actor_features)}
        actor_vars = list(networks["actor"].trainable_variables)
        if cfg.use_sde:
            shape = (SDEPolicy.latent_dim(networks["actor"]), self.action_dim)
            networks["log_std"] = Parameter(shape, cfg.log_std_init, name="log_std")
            actor_vars += networks["log_std"].trainable_variables
            # SB3's SAC: the latent learns through the noise; the mean is clipped to [-2, 2] before tanh
            self.sde = SDEPolicy(networks["actor"], networks["log_std"], nets, squash=True, learn_features=True,
                                 mean_clip=2.0, expln=cfg.use_expln)
        self.critic_keys = [f"critic_{i}" for i in range(cfg.n_critics)]
        for key in self.critic_keys:
            networks[key] = nets.critic(self.action_dim, *arch, key, critic_features, stop_gradient=nets.share)
        self._initialise(networks["actor"], *(networks[key] for key in self.critic_keys))
        for key in self.critic_keys:
            networks[f"target_{key}"] = nets.critic(self.action_dim, *arch, f"target_{key}")
            networks[f"target_{key}"].set_weights(networks[key].get_weights())
        self.auto_alpha = cfg.ent_coef == "auto"
        alpha0 = cfg.ent_coef_init if self.auto_alpha else float(cfg.ent_coef)
        networks["log_alpha"] = Parameter(1, math.log(max(alpha0, 1e-12)), name="log_alpha")
        self.target_entropy = -float(self.action_dim) if cfg.target_entropy == "auto" else float(cfg.target_entropy)
        self.actor_optimizer = make_adam(cfg.adam_form, cfg.learning_rate)
        self.critic_optimizer = make_adam(cfg.adam_form, cfg.learning_rate)
        self.alpha_optimizer = make_adam(cfg.adam_form, cfg.learning_rate)
        self.actor_optimizer.build(actor_vars)
        self.actor_vars = actor_vars
        self.critic_optimizer.build(unique_variables(*(networks[k] for k in self.critic_keys)))
        self.alpha_optimizer.build(networks["log_alpha"].trainable_variables)
        return networks, "actor", self.actor_optimizer

    def _uniform_warm_up(self):  # use_sde_at_warmup: gSDE's actions in the warm-up, as SB3
        return super()._uniform_warm_up() and not self.config.use_sde_at_warmup

    def _optimizers(self):
        lr = self.config.learning_rate
        return [(self.actor_optimizer, lr), (self.critic_optimizer, lr), (self.alpha_optimizer, lr)]

    def action_distribution(self, out):
        return distributions.squashed_diag_gaussian(out[:, : self.action_dim], out[:, self.action_dim:])

    def _policy_output(self, x):  # the policy's mode, as a Keras model
        mean = self.model.actor(x)[:, : self.action_dim]
        return keras.ops.tanh(keras.ops.clip(mean, -2.0, 2.0) if self.sde is not None else mean)

    def actor_distribution(self, s):
        """The policy's distribution on normalised observations ``s``."""
        return self.sde.distribution(s) if self.sde is not None else self.action_distribution(self.model.actor(s))

    def _q(self, prefix, s, a):
        x = critic_input(s, a)
        return tf.stack([tf.squeeze(getattr(self.model, f"{prefix}{k}")(x), -1) for k in self.critic_keys])

    def train_step(self, obs, actions, rewards, next_obs, terminated):
        cfg = self.config
        critic_vars = [v for k in self.critic_keys for v in getattr(self.model, k).trainable_variables]
        log_alpha = self.model.log_alpha.value
        s, s2 = self.normalizer(obs), self.normalizer(next_obs)

        # stable-baselines3's order: one policy sample serves the temperature's loss and, after the
        # critics' step, the actor's; the temperature of this step's losses is the one before its update
        with tf.GradientTape() as actor_tape:
            pi, logp = self.actor_distribution(s).sample_and_log_prob(self.rng)
            with actor_tape.stop_recording():
                alpha = tf.exp(tf.stop_gradient(tf.identity(log_alpha)))
                alpha_loss = tf.zeros([])
                if self.auto_alpha:  # alpha follows the entropy target (its gradient is never clipped)
                    alpha_loss = self.minimize(self.alpha_optimizer, lambda: -tf.reduce_mean(
                        log_alpha * tf.stop_gradient(logp + self.target_entropy)), [log_alpha], clip=False)

                next_a, next_logp = self.actor_distribution(s2).sample_and_log_prob(self.rng)
                next_q = tf.reduce_min(self._q("target_", s2, next_a), axis=0) - alpha * next_logp
                target = tf.stop_gradient(rewards + cfg.gamma * (1.0 - terminated) * next_q)
                critic_loss = self.minimize(self.critic_optimizer, lambda: 0.5 * tf.reduce_sum(
                    tf.reduce_mean(tf.square(self._q("", s, actions) - target), axis=-1)), critic_vars)
            actor_loss = tf.reduce_mean(alpha * logp - tf.reduce_min(self._q("", s, pi), axis=0))
        actor_loss = self.apply_tape(self.actor_optimizer, actor_tape, actor_loss, self.actor_vars)
        if self._updates % cfg.target_update_interval == 0:
            for key in self.critic_keys:
                polyak_update(getattr(self.model, f"target_{key}").weights, getattr(self.model, key).weights, cfg.tau)
        return {"critic_loss": critic_loss, "actor_loss": actor_loss, "ent_coef_loss": alpha_loss,
                "ent_coef": alpha[0]}
