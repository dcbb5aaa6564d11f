"""Twin Delayed DDPG (Fujimoto et al. 2018): clipped double Q, delayed actor, target smoothing.

This file is TD3: its hyperparameters, its networks, its policy (the actor plus
Gaussian exploration noise) and one training step. The replay loop, the loop
over ``gradient_steps`` and gradient clipping are ``agents.off_policy``'s.
``DDPG`` (``agents.ddpg``) is this update with one critic, no delay and no target noise.
"""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import numpy as np
import tensorflow as tf

from agents import distributions
from agents.config import OffPolicyConfig
from agents.off_policy import OffPolicyAgent
from agents.optim import make_adam, polyak_update
from agents.policies import unique_variables
from agents.registry import register_agent
from zoo.core.checks import check_choice, fail

__all__ = ["TD3", "TD3Config", "critic_input", "ornstein_uhlenbeck_step"]


@dataclasses.dataclass
class TD3Config(OffPolicyConfig):
    """TD3 hyperparameters (stable-baselines3 defaults; rl-zoo's per env in ``TD3.RL_ZOO``)."""

    learning_rate: float = 1e-3
    net_arch: tuple = (400, 300)
    n_critics: int = 2
    """Critics whose minimum is the target (2: clipped double Q)."""
    policy_delay: int = 2
    """Gradient steps per actor and target update."""
    target_policy_noise: float = 0.2
    """Std of the Gaussian noise on the target action (in [-1, 1] action units)."""
    target_noise_clip: float = 0.5
    """Clip of that noise."""
    action_noise: float = 0.1
    """Scale of the exploration noise (in [-1, 1] action units; rl-zoo's ``noise_std``)."""
    action_noise_type: str = "normal"
    """``"normal"``: Gaussian noise of std ``action_noise`` on every action after ``learning_starts``;
    ``"ornstein-uhlenbeck"``: stable-baselines3's ``OrnsteinUhlenbeckActionNoise`` of sigma
    ``action_noise`` (theta 0.15, dt 0.01, reset when an episode ends), temporally correlated, from the
    first step on, as rl-zoo's ``noise_type``."""
    jit_compile: bool = True
    """XLA-compile the update: on CPU it fuses the critics' and actor's element-wise work (one Pendulum-v1
    step at (400, 300): 7.0 -> 6.1 ms, DDPG's 22% faster; SAC's update is slower under XLA, and DQN's ends
    elsewhere on some seeds)."""

    _positive = OffPolicyConfig._positive + ("n_critics", "policy_delay")

    def check(self, agent):
        super().check(agent)
        check_choice("action_noise_type", self.action_noise_type, NOISE_TYPES, agent)
        if not self.action_noise >= 0:
            fail("action_noise", self.action_noise, "a number >= 0", agent)


NOISE_TYPES = ("normal", "ornstein-uhlenbeck")


def ornstein_uhlenbeck_step(noise, sigma, rng, theta=0.15, dt=1e-2):
    """One step of stable-baselines3's Ornstein-Uhlenbeck noise (mean 0) from ``noise``, in float64."""
    return noise - theta * noise * dt + sigma * np.sqrt(dt) * rng.standard_normal(noise.shape)


def critic_input(obs, actions):
    """The critics' input: normalised observations and [-1, 1] actions side by side.

    Vector observations: one concatenated vector; images (rank > 2): the pair ``[images, actions]``
    (an image critic concatenates the actions to its features, ``agents.policies``).
    """
    actions = tf.cast(actions, tf.float32)
    return [obs, actions] if len(obs.shape) > 2 else tf.concat([obs, actions], axis=-1)


@register_agent
class TD3(OffPolicyAgent):
    """TD3 for Box action spaces (actions squashed by tanh, rescaled to the bounds)."""

    name = "TD3"
    Config = TD3Config
    action_spaces = (gym.spaces.Box,)
    squashed = True
    stochastic_predict = False  # a deterministic policy, as in stable-baselines3
    loss_names = ("critic_loss", "actor_loss")
    RL_ZOO = {
        "Pendulum-v1": dict(gamma=0.98, buffer_size=200_000, learning_starts=10_000, action_noise=0.1,
                            gradient_steps=1, train_freq=1, learning_rate=1e-3, net_arch=(400, 300)),
        "MountainCarContinuous-v0": dict(action_noise=0.5, action_noise_type="ornstein-uhlenbeck", learning_rate=1e-3),
        "LunarLanderContinuous-v3": dict(gamma=0.98, buffer_size=200_000, learning_starts=10_000,
                                         action_noise=0.1, gradient_steps=1, train_freq=1,
                                         learning_rate=1e-3, net_arch=(400, 300)),
    }
    test_config = dict(learning_starts=50, train_freq=4, gradient_steps=4, batch_size=32, net_arch=(32, 32),
                       log_interval=100, buffer_size=5000)
    test_learns = {"Box": (dict(test_config, batch_size=64), 600, 17)}

    def _build(self):
        cfg = self.config
        networks, nets, arch = {}, self.nets, (cfg.net_arch, cfg.activation)
        for prefix in ("", "target_"):
            actor_features, critic_features = nets.actor_critic_extractors(online=not prefix)  # None: their own
            networks[f"{prefix}actor"] = nets.net(self.action_dim, *arch, f"{prefix}actor", extractor=actor_features,
                                                  output_activation="tanh")
            for i in range(cfg.n_critics):
                networks[f"{prefix}critic_{i}"] = nets.critic(self.action_dim, *arch, f"{prefix}critic_{i}",
                                                              critic_features, stop_gradient=nets.share and not prefix)
        self._initialise(*(model for key, model in networks.items() if not key.startswith("target_")))
        for key in list(networks):
            if key.startswith("target_"):
                networks[key].set_weights(networks[key[len("target_"):]].get_weights())
        self.critic_keys = [f"critic_{i}" for i in range(cfg.n_critics)]
        self._ou = None  # the Ornstein-Uhlenbeck noise of each env, with action_noise_type="ornstein-uhlenbeck"
        self.actor_optimizer = make_adam(cfg.adam_form, cfg.learning_rate)
        self.critic_optimizer = make_adam(cfg.adam_form, cfg.learning_rate)
        self.actor_optimizer.build(networks["actor"].trainable_variables)
        self.critic_optimizer.build(unique_variables(*(networks[k] for k in self.critic_keys)))
        return networks, "actor", self.actor_optimizer

    def _optimizers(self):
        return [(self.actor_optimizer, self.config.learning_rate), (self.critic_optimizer, self.config.learning_rate)]

    # ------------------------------------------------------------------ Ornstein-Uhlenbeck exploration

    def _noise(self):
        """The next Ornstein-Uhlenbeck noise of every env (state in ``self._ou``, float64 as SB3's)."""
        if self._ou is None:
            self._ou = np.zeros((self.n_envs, self.action_dim))
        self._ou = ornstein_uhlenbeck_step(self._ou, self.config.action_noise, self.np_rng)
        return self._ou

    def _correlated(self):
        return self.config.action_noise_type == "ornstein-uhlenbeck"

    def _explore(self, obs):
        if not self._correlated():
            return super()._explore(obs)
        return np.clip(self._np_forward(obs) + self._noise(), -1.0, 1.0).astype(np.float32)

    def _random_action(self):  # SB3 adds its action noise (either type) to the warm-up's uniform actions too
        action = super()._random_action()
        noise = self._noise() if self._correlated() else self.np_rng.normal(0.0, self.config.action_noise, action.shape)
        return np.clip(action + noise, -1.0, 1.0).astype(np.float32)

    def _on_step(self, dones):
        if self._ou is not None and dones.any():
            self._ou[dones] = 0.0

    def _reset_env(self):
        super()._reset_env()
        self._ou = None

    def _checkpoint_state(self):
        state = super()._checkpoint_state()
        if self._ou is not None:
            state["ou_noise"] = self._ou
        return state

    def _restore_state(self, arrays):
        arrays = dict(arrays)
        noise = arrays.pop("ou_noise", None)
        restore = super()._restore_state(arrays)

        def restore_all():
            restore()
            self._ou = None if noise is None else np.array(noise, np.float64)
        return restore_all

    def action_distribution(self, action):
        return distributions.noisy_deterministic(action, self.config.action_noise)

    def _q(self, prefix, s, a):
        x = critic_input(s, a)
        return [tf.squeeze(getattr(self.model, f"{prefix}{k}")(x), -1) for k in self.critic_keys]

    def train_step(self, obs, actions, rewards, next_obs, terminated):
        cfg = self.config
        critic_vars = [v for k in self.critic_keys for v in getattr(self.model, k).trainable_variables]
        s, s2 = self.normalizer(obs), self.normalizer(next_obs)

        next_a = self.model.target_actor(s2)
        if cfg.target_policy_noise > 0:  # target policy smoothing
            noise = tf.clip_by_value(cfg.target_policy_noise * self.rng.normal(tf.shape(next_a)),
                                     -cfg.target_noise_clip, cfg.target_noise_clip)
            next_a = tf.clip_by_value(next_a + noise, -1.0, 1.0)
        next_q = tf.reduce_min(tf.stack(self._q("target_", s2, next_a)), axis=0)
        target = tf.stop_gradient(rewards + cfg.gamma * (1.0 - terminated) * next_q)
        critic_loss = self.minimize(self.critic_optimizer, lambda: tf.add_n(
            [tf.reduce_mean(tf.square(q - target)) for q in self._q("", s, actions)]), critic_vars)

        actor_loss = tf.zeros([])
        if self._updates % cfg.policy_delay == 0:  # delayed actor and target updates
            actor_loss = self.minimize(self.actor_optimizer, lambda: -tf.reduce_mean(
                tf.squeeze(self.model.critic_0(critic_input(s, self.model.actor(s))), -1)),
                self.model.actor.trainable_variables)
            for key in ["actor"] + self.critic_keys:
                polyak_update(getattr(self.model, f"target_{key}").weights, getattr(self.model, key).weights, cfg.tau)
        return {"critic_loss": critic_loss, "actor_loss": actor_loss}
