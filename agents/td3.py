"""Twin Delayed DDPG (Fujimoto et al. 2018): clipped double Q, delayed actor, target smoothing.

Only the loss and update are here; the replay loop is ``agents.base.OffPolicyAgent``.
``DDPG`` (``agents.ddpg``) is this update with one critic, no delay and no target noise.
"""

from __future__ import annotations

import dataclasses

import gymnasium as gym
import keras
import numpy as np
import tensorflow as tf

from agents.base import OffPolicyAgent, OffPolicyConfig, _clip_grads, register_agent
from agents.networks import mlp, polyak_update

__all__ = ["TD3", "TD3Config", "critic_input"]


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
    """Std of the Gaussian exploration noise (in [-1, 1] action units; rl-zoo's ``normal`` 0.1)."""

    _positive = OffPolicyConfig._positive + ("n_critics", "policy_delay")


def critic_input(obs, actions):
    """The critics' input: normalised observations and [-1, 1] actions side by side."""
    return tf.concat([obs, tf.cast(actions, tf.float32)], axis=-1)


@register_agent
class TD3(OffPolicyAgent):
    """TD3 for Box action spaces (actions squashed by tanh, rescaled to the bounds)."""

    name = "TD3"
    Config = TD3Config
    action_spaces = (gym.spaces.Box,)
    squashed = True
    RL_ZOO = {
        "Pendulum-v1": dict(gamma=0.98, buffer_size=200_000, learning_starts=10_000, action_noise=0.1,
                            gradient_steps=1, train_freq=1, learning_rate=1e-3, net_arch=(400, 300)),
        "MountainCarContinuous-v0": dict(action_noise=0.5, learning_rate=1e-3),
        "LunarLanderContinuous-v3": dict(gamma=0.98, buffer_size=200_000, learning_starts=10_000,
                                         action_noise=0.1, gradient_steps=1, train_freq=1,
                                         learning_rate=1e-3, net_arch=(400, 300)),
    }

    def _build(self):
        cfg = self.config
        networks = {}
        for prefix in ("", "target_"):
            networks[f"{prefix}actor"] = mlp(self.obs_dim, self.action_dim, cfg.net_arch, cfg.activation,
                                             name=f"{prefix}actor", output_activation="tanh")
            for i in range(cfg.n_critics):
                networks[f"{prefix}critic_{i}"] = mlp(self.obs_dim + self.action_dim, 1, cfg.net_arch,
                                                      cfg.activation, name=f"{prefix}critic_{i}")
        for key in list(networks):
            if key.startswith("target_"):
                networks[key].set_weights(networks[key[len("target_"):]].get_weights())
        self.critic_keys = [f"critic_{i}" for i in range(cfg.n_critics)]
        self.actor_optimizer = keras.optimizers.Adam(cfg.learning_rate)
        self.critic_optimizer = keras.optimizers.Adam(cfg.learning_rate)
        self.actor_optimizer.build(networks["actor"].trainable_variables)
        self.critic_optimizer.build([v for k in self.critic_keys for v in networks[k].trainable_variables])
        self._updates = tf.Variable(0, dtype=tf.int64, trainable=False)
        self._init_off_policy("actor")
        return networks, "actor", self.actor_optimizer

    def _optimizers(self):
        return [(self.actor_optimizer, self.config.learning_rate), (self.critic_optimizer, self.config.learning_rate)]

    def _policy_action(self, obs, deterministic):
        return self.model.actor(self.normalizer(obs))  # deterministic policy, as in stable-baselines3

    def _explore(self, obs):
        action = self._np_forward(obs)
        noise = self.config.action_noise * self.np_rng.standard_normal(action.shape)
        return np.clip(action + noise, -1.0, 1.0).astype(np.float32)

    def _q(self, prefix, s, a):
        x = critic_input(s, a)
        return [tf.squeeze(getattr(self.model, f"{prefix}{k}")(x), -1) for k in self.critic_keys]

    def _train(self, obs, actions, rewards, next_obs, terminated):
        cfg = self.config
        critic_vars = [v for k in self.critic_keys for v in getattr(self.model, k).trainable_variables]
        actor_vars = self.model.actor.trainable_variables
        totals = tf.zeros([2])
        for i in tf.range(tf.shape(obs)[0]):
            self._updates.assign_add(1)
            s, s2, a = self.normalizer(obs[i]), self.normalizer(next_obs[i]), actions[i]
            next_a = self.model.target_actor(s2)
            if cfg.target_policy_noise > 0:
                noise = tf.clip_by_value(cfg.target_policy_noise * self.rng.normal(tf.shape(next_a)),
                                         -cfg.target_noise_clip, cfg.target_noise_clip)
                next_a = tf.clip_by_value(next_a + noise, -1.0, 1.0)
            next_q = tf.reduce_min(tf.stack(self._q("target_", s2, next_a)), axis=0)
            target = tf.stop_gradient(rewards[i] + cfg.gamma * (1.0 - terminated[i]) * next_q)
            with tf.GradientTape() as tape:
                critic_loss = tf.add_n([tf.reduce_mean(tf.square(q - target)) for q in self._q("", s, a)])
            grads = _clip_grads(tape.gradient(critic_loss, critic_vars), cfg.max_grad_norm)
            self.critic_optimizer.apply_gradients(zip(grads, critic_vars))
            actor_loss = tf.zeros([])
            if self._updates % cfg.policy_delay == 0:
                with tf.GradientTape() as tape:
                    q0 = tf.squeeze(self.model.critic_0(critic_input(s, self.model.actor(s))), -1)
                    actor_loss = -tf.reduce_mean(q0)
                grads = _clip_grads(tape.gradient(actor_loss, actor_vars), cfg.max_grad_norm)
                self.actor_optimizer.apply_gradients(zip(grads, actor_vars))
                for key in ["actor"] + self.critic_keys:
                    polyak_update(getattr(self.model, f"target_{key}").weights, getattr(self.model, key).weights,
                                  cfg.tau)
            totals += tf.stack([critic_loss, actor_loss])
        totals /= tf.cast(tf.shape(obs)[0], tf.float32)
        return {"critic_loss": totals[0], "actor_loss": totals[1]}
