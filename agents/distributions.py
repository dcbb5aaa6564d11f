"""Action distributions, each in TensorFlow (updates, ``predict``) and NumPy (acting in the env loop).

A policy is written once: ``categorical(logits)``, ``diag_gaussian(mean, log_std)``,
``squashed_diag_gaussian(mean, log_std)``, ``epsilon_greedy(q, eps)`` and
``noisy_deterministic(action, std)`` return the NumPy twin when given NumPy
arrays and the TensorFlow one otherwise. Every distribution has ``mode()`` and
``sample(rng)`` (``rng`` a ``tf.random.Generator`` or a ``numpy.random.Generator``).
The log-densities that are easy to get wrong are small functions with unit tests.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

__all__ = [
    "LOG_STD_MIN",
    "LOG_STD_MAX",
    "categorical_log_prob",
    "categorical_entropy",
    "gaussian_log_prob",
    "gaussian_entropy",
    "squashed_gaussian_log_prob",
    "categorical",
    "diag_gaussian",
    "squashed_diag_gaussian",
    "epsilon_greedy",
    "noisy_deterministic",
]

LOG_STD_MIN, LOG_STD_MAX = -20.0, 2.0
_LOG_2PI = math.log(2.0 * math.pi)

# --------------------------------------------------------------------------- log-densities (TensorFlow)


def categorical_log_prob(logits, actions):
    """log pi(a|s) of integer ``actions`` under a categorical with ``logits`` (last axis)."""
    logp = tf.nn.log_softmax(logits, axis=-1)
    return tf.gather(logp, tf.cast(actions, tf.int32), axis=-1, batch_dims=len(logits.shape) - 1)


def categorical_entropy(logits):
    """Entropy of a categorical with ``logits`` (last axis)."""
    logp = tf.nn.log_softmax(logits, axis=-1)
    return -tf.reduce_sum(tf.exp(logp) * logp, axis=-1)


def gaussian_log_prob(mean, log_std, x):
    """Log-density of a diagonal Gaussian, summed over the last axis."""
    z = (x - mean) * tf.exp(-log_std)
    return tf.reduce_sum(-0.5 * z**2 - log_std - 0.5 * _LOG_2PI, axis=-1)


def gaussian_entropy(log_std):
    """Entropy of a diagonal Gaussian, summed over the last axis."""
    return tf.reduce_sum(log_std + 0.5 * (1.0 + _LOG_2PI), axis=-1)


def squashed_gaussian_log_prob(mean, log_std, pre_tanh):
    """log pi(a|s) of ``a = tanh(u)``, ``u ~ N(mean, exp(log_std))``.

    The change of variables subtracts ``sum log(1 - tanh(u)^2)``, computed in the
    stable form ``2 * (log 2 - u - softplus(-2u))`` (SAC paper, appendix C).
    """
    correction = 2.0 * (math.log(2.0) - pre_tanh - tf.nn.softplus(-2.0 * pre_tanh))
    return gaussian_log_prob(mean, log_std, pre_tanh) - tf.reduce_sum(correction, axis=-1)


# --------------------------------------------------------------------------- TensorFlow distributions


class Categorical:
    """Categorical over the last axis of ``logits``; samples with the Gumbel-max trick."""

    def __init__(self, logits):
        self.logits = logits

    def mode(self):
        return tf.argmax(self.logits, axis=-1)

    def sample(self, rng):
        u = rng.uniform(tf.shape(self.logits), minval=1e-9, maxval=1.0)
        return tf.argmax(self.logits - tf.math.log(-tf.math.log(u)), axis=-1)

    def log_prob(self, actions):
        return categorical_log_prob(self.logits, actions)

    def entropy(self):
        return categorical_entropy(self.logits)


class DiagGaussian:
    """Diagonal Gaussian ``N(mean, exp(log_std))``."""

    def __init__(self, mean, log_std):
        self.mean, self.log_std = mean, log_std

    def mode(self):
        return self.mean

    def sample(self, rng):
        return self.mean + tf.exp(self.log_std) * rng.normal(tf.shape(self.mean))

    def log_prob(self, x):
        return gaussian_log_prob(self.mean, self.log_std, x)

    def entropy(self):
        return gaussian_entropy(self.log_std)


class SquashedDiagGaussian:
    """``tanh(u)``, ``u ~ N(mean, exp(log_std))`` with ``log_std`` clipped to [LOG_STD_MIN, LOG_STD_MAX] (SAC)."""

    def __init__(self, mean, log_std):
        self.mean, self.log_std = mean, tf.clip_by_value(log_std, LOG_STD_MIN, LOG_STD_MAX)

    def mode(self):
        return tf.tanh(self.mean)

    def sample_and_log_prob(self, rng):
        """Reparameterised ``a = tanh(u)``; returns ``(a, log pi(a|s))``."""
        u = self.mean + tf.exp(self.log_std) * rng.normal(tf.shape(self.mean))
        return tf.tanh(u), squashed_gaussian_log_prob(self.mean, self.log_std, u)

    def sample(self, rng):
        return self.sample_and_log_prob(rng)[0]


class EpsilonGreedy:
    """The greedy action of ``q`` (last axis), or with probability ``epsilon`` a uniform one."""

    def __init__(self, q, epsilon):
        self.q, self.epsilon = q, epsilon

    def mode(self):
        return tf.argmax(self.q, axis=-1)

    def sample(self, rng):
        n, k = tf.shape(self.q)[0], tf.shape(self.q, out_type=tf.int64)[-1]
        explore = rng.uniform([n]) < self.epsilon
        return tf.where(explore, rng.uniform([n], 0, k, dtype=tf.int64), self.mode())


class NoisyDeterministic:
    """A deterministic action in [-1, 1] plus clipped Gaussian exploration noise of std ``noise_std`` (TD3)."""

    def __init__(self, action, noise_std):
        self.action, self.noise_std = action, noise_std

    def mode(self):
        return self.action

    def sample(self, rng):
        noise = self.noise_std * rng.normal(tf.shape(self.action))
        return tf.clip_by_value(self.action + noise, -1.0, 1.0)


# --------------------------------------------------------------------------- NumPy twins (the env loop)


class NumpyCategorical(Categorical):
    def mode(self):
        return np.argmax(self.logits, axis=-1)

    def sample_and_log_prob(self, rng):
        """Gumbel-max sample and its log-probability."""
        out = self.logits
        shifted = out - out.max(-1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
        gumbel = -np.log(-np.log(rng.uniform(1e-12, 1.0, size=out.shape)))
        actions = np.argmax(out + gumbel, axis=-1)
        return actions, log_p[np.arange(len(actions)), actions]

    def sample(self, rng):
        return self.sample_and_log_prob(rng)[0]


class NumpyDiagGaussian(DiagGaussian):
    def sample_and_log_prob(self, rng):
        """A sample and its log-density (from the standard-normal draw, exactly)."""
        std = np.exp(self.log_std)
        noise = rng.standard_normal(self.mean.shape).astype(np.float32)
        actions = self.mean + std * noise
        return actions, np.sum(-0.5 * noise**2 - self.log_std - 0.5 * np.log(2 * np.pi), axis=-1)

    def sample(self, rng):
        return self.sample_and_log_prob(rng)[0]


class NumpySquashedDiagGaussian(SquashedDiagGaussian):
    def __init__(self, mean, log_std):
        self.mean, self.log_std = mean, np.clip(log_std, LOG_STD_MIN, LOG_STD_MAX)

    def mode(self):
        return np.tanh(self.mean)

    def sample(self, rng):
        return np.tanh(self.mean + np.exp(self.log_std) * rng.standard_normal(self.mean.shape)).astype(np.float32)


class NumpyEpsilonGreedy(EpsilonGreedy):
    def mode(self):
        return np.argmax(self.q, axis=-1)

    def sample(self, rng):
        n = self.q.shape[0]
        greedy = self.mode()
        explore = rng.random(n) < self.epsilon
        return np.where(explore, rng.integers(0, self.q.shape[-1], n), greedy)


class NumpyNoisyDeterministic(NoisyDeterministic):
    def sample(self, rng):
        noise = self.noise_std * rng.standard_normal(self.action.shape)
        return np.clip(self.action + noise, -1.0, 1.0).astype(np.float32)


def _pick(tf_cls, np_cls, x, *args):
    return (np_cls if isinstance(x, np.ndarray) else tf_cls)(x, *args)


def categorical(logits):
    """A ``Categorical`` (TensorFlow) or ``NumpyCategorical`` (NumPy ``logits``)."""
    return _pick(Categorical, NumpyCategorical, logits)


def diag_gaussian(mean, log_std):
    """A ``DiagGaussian`` (TensorFlow) or ``NumpyDiagGaussian`` (NumPy ``mean``)."""
    return _pick(DiagGaussian, NumpyDiagGaussian, mean, log_std)


def squashed_diag_gaussian(mean, log_std):
    """A ``SquashedDiagGaussian`` (TensorFlow) or its NumPy twin (NumPy ``mean``)."""
    return _pick(SquashedDiagGaussian, NumpySquashedDiagGaussian, mean, log_std)


def epsilon_greedy(q, epsilon):
    """An ``EpsilonGreedy`` (TensorFlow) or ``NumpyEpsilonGreedy`` (NumPy ``q``)."""
    return _pick(EpsilonGreedy, NumpyEpsilonGreedy, q, epsilon)


def noisy_deterministic(action, noise_std):
    """A ``NoisyDeterministic`` (TensorFlow) or its NumPy twin (NumPy ``action``)."""
    return _pick(NoisyDeterministic, NumpyNoisyDeterministic, action, noise_std)
