"""Generalized state-dependent exploration (gSDE; Raffin, Kober & Stulp 2021), stable-baselines3's ``use_sde``.

The exploration noise is a function of the state: ``latent(s) @ W``, where ``latent`` is the
policy network's last hidden layer and ``W`` a ``(latent_dim, action_dim)`` matrix drawn from
``N(0, exp(log_std)^2)`` and kept for ``sde_sample_freq`` steps, one per env. Between two draws
the same state gives the same action, so the actions are smooth in time instead of white noise:
the exploration that rl-zoo's settings for PPO on Pendulum-v1 and SAC on
MountainCarContinuous-v0 rely on. Given the state, an action is Gaussian with
``std = sqrt(latent^2 @ exp(log_std)^2 + eps)`` (stable-baselines3's ``full_std=True``); SAC
squashes it with tanh. ``expln=True`` (SB3's ``use_expln``) takes ``exp(x)`` below 0 and
``log1p(x) + 1`` above it instead of ``exp``, so that a growing log std cannot blow the noise up.

``SDEPolicy`` is that policy on an actor network ending in a ``predictions`` Dense layer: the
TensorFlow distribution for the update and ``predict``, and the NumPy noise of the env loop.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

from agents.distributions import gaussian_entropy, gaussian_log_prob, squashed_gaussian_log_prob

__all__ = ["SDEPolicy", "StateDependentNoise", "noise_std", "sde_std", "check_sde"]

EPSILON = 1e-6
"""Added to the variance (stable-baselines3's ``epsilon``), so that a zero latent keeps a density."""


def noise_std(log_std, expln: bool = False):
    """The std of the noise weights: ``exp(log_std)``, or with ``expln`` stable-baselines3's ``expln``
    (``exp`` at or below 0, ``log1p(log_std + eps) + 1`` above), in TensorFlow or NumPy."""
    if isinstance(log_std, np.ndarray):
        if not expln:
            return np.exp(log_std)
        return np.where(log_std <= 0, np.exp(np.minimum(log_std, 0)), np.log1p(np.maximum(log_std, 0) + EPSILON) + 1)
    if not expln:
        return tf.exp(log_std)
    # each branch on its own side of 0, so that neither gives the other an infinite gradient
    above = tf.math.log1p(tf.maximum(log_std, 0.0) + EPSILON) + 1
    return tf.where(log_std <= 0, tf.exp(tf.minimum(log_std, 0.0)), above)


def sde_std(latent, log_std, expln: bool = False):
    """The per-state action std ``sqrt(latent^2 @ noise_std(log_std)^2 + eps)``, in TensorFlow or NumPy."""
    if isinstance(latent, np.ndarray):
        weights_var = np.square(noise_std(log_std, True)) if expln else np.exp(2.0 * log_std)
        return np.sqrt((latent**2) @ weights_var + EPSILON)
    weights_var = tf.square(noise_std(log_std, True)) if expln else tf.exp(2.0 * log_std)
    return tf.sqrt(tf.matmul(tf.square(latent), weights_var) + EPSILON)


def check_sde(config, agent, discrete: bool):
    """``use_sde`` needs Box actions; ``sde_sample_freq`` is -1 (once per rollout) or a positive step count;
    ``use_expln`` (and SAC's ``use_sde_at_warmup``) need ``use_sde``."""
    from zoo.core.checks import fail

    if config.use_sde and discrete:
        fail("use_sde", True, "False for a Discrete action space (gSDE is for Box actions)", agent)
    for name in ("use_expln", "use_sde_at_warmup"):
        if getattr(config, name, False) and not config.use_sde:
            fail(name, True, "False unless use_sde=True (it changes gSDE's noise)", agent)
    freq = config.sde_sample_freq
    if not isinstance(freq, int) or isinstance(freq, bool) or not (freq == -1 or freq > 0):
        fail("sde_sample_freq", freq, "-1 (one draw per rollout) or a positive number of steps", agent)


class StateDependentNoise:
    """The gSDE action distribution of a batch: mean ``mean``, std ``sde_std(latent, log_std)``.

    ``squash``: actions are ``tanh(u)`` (SAC), with the change-of-variables correction.
    Sampling draws one noise matrix for the whole batch (stable-baselines3's ``exploration_mat``),
    reparameterised, so the loss's gradient reaches ``log_std`` through it.
    """

    def __init__(self, mean, log_std, latent, squash: bool = False, expln: bool = False):
        self.mean, self.log_std, self.latent, self.squash, self.expln = mean, log_std, latent, squash, expln
        self.state_log_std = tf.math.log(sde_std(latent, log_std, expln))

    def mode(self):
        return tf.tanh(self.mean) if self.squash else self.mean

    def log_prob(self, actions):
        """log pi(actions|s) of unsquashed actions (PPO, A2C)."""
        return gaussian_log_prob(self.mean, self.state_log_std, actions)

    def entropy(self):
        return gaussian_entropy(self.state_log_std)

    def sample_and_log_prob(self, rng):
        """A reparameterised sample (tanh-squashed with ``squash``) and its log-density."""
        weights = noise_std(self.log_std, self.expln) * rng.normal(tf.shape(self.log_std))
        u = self.mean + tf.matmul(self.latent, weights)
        if self.squash:
            return tf.tanh(u), squashed_gaussian_log_prob(self.mean, self.state_log_std, u)
        return u, gaussian_log_prob(self.mean, self.state_log_std, u)

    def sample(self, rng):
        return self.sample_and_log_prob(rng)[0]


def _latent_view(actor):
    """``(latent model, head)``: ``actor`` up to its output layer ``predictions``, and that layer."""
    head = actor.get_layer("predictions")
    inputs = actor.inputs[0] if len(actor.inputs) == 1 else actor.inputs
    return keras.Model(inputs, head.input, name=f"{actor.name}_latent"), head


class SDEPolicy:
    """gSDE on ``actor`` (observations -> ``predictions``) with ``log_std`` (a ``(latent_dim, action_dim)``
    ``agents.networks.Parameter``).

    ``learn_features``: the policy loss trains the latent through the std (SAC: True; PPO and A2C:
    False, stable-baselines3's choices). ``mean_clip``: the mean is clipped to ``[-mean_clip,
    mean_clip]`` before tanh (SAC's ``clip_mean=2``), so the squash does not saturate. ``expln``:
    the noise std is ``noise_std(log_std, expln=True)`` (SB3's ``use_expln``).
    """

    def __init__(self, actor, log_std, nets, squash=False, learn_features=False, mean_clip=None, expln=False):
        self.latent_model, self.head = _latent_view(actor)
        self.log_std, self.nets = log_std, nets
        self.squash, self.learn_features, self.mean_clip, self.expln = squash, learn_features, mean_clip, expln
        self.matrices = None  # the env loop's noise matrices: (n_envs, latent_dim, action_dim)
        self._np_latent = None

    @staticmethod
    def latent_dim(actor):
        return int(actor.get_layer("predictions").input.shape[-1])

    # ------------------------------------------------------------------ TensorFlow

    def distribution(self, x):
        """The action distribution on (normalised) observations ``x``."""
        latent = self.latent_model(x)
        mean = self.head(latent)
        if self.mean_clip is not None:
            mean = tf.clip_by_value(mean, -self.mean_clip, self.mean_clip)
        if not self.learn_features:
            latent = tf.stop_gradient(latent)
        return StateDependentNoise(mean, self.log_std.value, latent, self.squash, self.expln)

    # ------------------------------------------------------------------ NumPy (the env loop)

    def variables(self) -> list:
        """The variables ``sync`` reads, in its order."""
        if self._np_latent is None:
            self._np_latent = self.nets.forward(self.latent_model)
        return self._np_latent.variables() + [self.head.kernel, self.head.bias, self.log_std.value]

    def sync(self, values=None):
        """Copy the current weights for acting (call before a rollout, after each update), or take
        ``values`` (arrays in ``variables()``' order)."""
        variables = self.variables()
        values = [v.numpy() for v in variables] if values is None else list(values)
        self._np_latent.sync(values[:-3])
        self._kernel, self._bias, self._np_log_std = values[-3:]

    def resample(self, n_envs, rng):
        """Draw a new noise matrix per env (stable-baselines3's ``reset_noise(n_envs)``)."""
        std = noise_std(self._np_log_std, self.expln)
        self.matrices = (std * rng.standard_normal((n_envs, *std.shape))).astype(np.float32)

    def act(self, x):
        """``(actions, log-densities)`` on normalised observations with the current matrices.

        The actions are tanh-squashed with ``squash`` (the log-densities are then of the unsquashed ones).
        """
        latent = np.asarray(self._np_latent(x), np.float32)
        mean = latent @ self._kernel + self._bias
        if self.mean_clip is not None:
            mean = np.clip(mean, -self.mean_clip, self.mean_clip)
        noise = np.einsum("nl,nla->na", latent, self.matrices)
        std = sde_std(latent, self._np_log_std, self.expln)
        logp = np.sum(-0.5 * (noise / std) ** 2 - np.log(std) - 0.5 * math.log(2 * math.pi), axis=-1)
        actions = mean + noise
        return (np.tanh(actions) if self.squash else actions).astype(np.float32), logp.astype(np.float32)
