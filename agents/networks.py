"""Networks of the agents, built from the zoo registry, and the distribution math.

Every network is an ordinary Keras model from ``zoo.get("mlp", ...)``, so it
saves, exports and quantizes like any zoo model. The math that is easy to get
wrong (log-probabilities of tanh-squashed Gaussians, Polyak averaging) lives
here as small functions with their own unit tests.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

__all__ = [
    "mlp",
    "dueling_q_network",
    "ObsNormalizer",
    "NumpyForward",
    "AgentModel",
    "Parameter",
    "polyak_update",
    "categorical_log_prob",
    "categorical_entropy",
    "gaussian_log_prob",
    "gaussian_entropy",
    "squashed_gaussian_log_prob",
    "LOG_STD_MIN",
    "LOG_STD_MAX",
]

LOG_STD_MIN, LOG_STD_MAX = -20.0, 2.0
_LOG_2PI = math.log(2.0 * math.pi)


def mlp(input_dim: int, outputs: int, hidden=(64, 64), activation="tanh", name="mlp", include_top=True,
        output_activation=None):
    """A zoo ``mlp`` in regression mode: ``input_dim`` floats -> ``outputs`` linear units.

    ``output_activation`` (e.g. ``"tanh"`` for deterministic actors) is appended after the head.
    """
    import zoo

    model = zoo.get(
        "mlp",
        input_shape=(int(input_dim),),
        task="regression",
        num_outputs=int(max(outputs, 1)),
        hidden_units=tuple(int(h) for h in hidden),
        activation=activation,
        include_top=include_top,
    )
    if output_activation is not None:
        out = keras.layers.Activation(output_activation, name="squash")(model.output)
        model = keras.Model(model.input, out)
    model.name = name
    return model


def dueling_q_network(input_dim: int, n_actions: int, hidden=(64, 64), activation="relu", name="q"):
    """Dueling Q-network (Wang et al. 2016): Q = V + A - mean(A), on a zoo ``mlp`` trunk."""
    trunk = mlp(input_dim, 1, hidden, activation, name=f"{name}_trunk", include_top=False)
    x = trunk.output
    value = keras.layers.Dense(1, name="value")(x)
    advantage = keras.layers.Dense(n_actions, name="advantage")(x)
    q = keras.layers.Lambda(
        lambda va: va[0] + va[1] - keras.ops.mean(va[1], axis=-1, keepdims=True), name="predictions"
    )([value, advantage])
    return keras.Model(trunk.input, q, name=name)


class ObsNormalizer(keras.layers.Layer):
    """Running mean/variance observation normalisation, clipped to ``[-clip, clip]``.

    The statistics are non-trainable weights, so they are saved with the agent
    and travel inside ``agent.policy_model``. ``enabled=False`` is the identity.
    """

    def __init__(self, dim: int, enabled: bool = False, clip: float = 10.0, epsilon: float = 1e-8, **kwargs):
        super().__init__(**kwargs)
        self.dim, self.enabled, self.clip, self.epsilon = int(dim), bool(enabled), float(clip), float(epsilon)
        self.mean = self.add_weight(shape=(self.dim,), initializer="zeros", trainable=False, name="mean")
        self.var = self.add_weight(shape=(self.dim,), initializer="ones", trainable=False, name="var")
        self.count = self.add_weight(shape=(), initializer="zeros", trainable=False, name="count")
        self.built = True

    def call(self, x):
        x = keras.ops.cast(x, "float32")
        if not self.enabled:
            return x
        x = (x - self.mean) / keras.ops.sqrt(self.var + self.epsilon)
        return keras.ops.clip(x, -self.clip, self.clip)

    def sync(self):
        """Snapshot the statistics for ``numpy`` (call after they change)."""
        self._snapshot = (self.mean.numpy(), np.sqrt(self.var.numpy() + self.epsilon))

    def numpy(self, x):
        """The same normalisation in NumPy (for the env loop), with the last ``sync``'s statistics."""
        x = np.asarray(x, np.float32)
        if not self.enabled:
            return x
        if getattr(self, "_snapshot", None) is None:
            self.sync()
        mean, std = self._snapshot
        return np.clip((x - mean) / std, -self.clip, self.clip)

    def update(self, batch):
        """Fold a batch of observations into the running statistics (parallel Welford)."""
        if not self.enabled:
            return
        batch = np.asarray(batch, dtype=np.float64).reshape(-1, self.dim)
        mean, var, count = (np.asarray(v.numpy(), np.float64) for v in (self.mean, self.var, self.count))
        b_mean, b_var, b_count = batch.mean(0), batch.var(0), batch.shape[0]
        total = count + b_count
        delta = b_mean - mean
        new_mean = mean + delta * b_count / total
        m2 = var * count + b_var * b_count + delta**2 * count * b_count / total
        self.mean.assign(new_mean.astype("float32"))
        self.var.assign((m2 / total).astype("float32"))
        self.count.assign(float(total))

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "enabled": self.enabled, "clip": self.clip,
                "epsilon": self.epsilon}


def _np_elu(x):
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))


_NP_ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0),
    "tanh": np.tanh,
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "elu": _np_elu,
    "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),
}


class NumpyForward:
    """The forward pass of a chain-shaped Keras model in NumPy, for acting in the env loop.

    One observation batch through a small MLP costs microseconds in NumPy and
    milliseconds through a TensorFlow call, so rollouts act with this and the
    updates run in ``tf.function``. ``sync()`` copies the current weights (call it
    before each rollout). A model with a layer it does not know, or whose output
    differs from Keras's on a random batch, is run by Keras instead.
    """

    def __init__(self, model: keras.Model):
        self.model = model
        self.ops = self._compile(model)
        self.params = None
        if self.ops is not None:
            self.sync()
            x = np.random.default_rng(0).normal(size=(3, *model.input_shape[1:])).astype(np.float32)
            if not np.allclose(self(x), keras.ops.convert_to_numpy(model(x)), atol=1e-4, rtol=1e-3):
                self.ops = None

    @staticmethod
    def _activation(fn):
        name = getattr(fn, "__name__", None)
        return _NP_ACTIVATIONS.get(name)

    def _compile(self, model):
        ops = []
        for layer in model.layers:
            kind = type(layer).__name__
            if kind in ("InputLayer", "Dropout"):
                continue
            if kind == "Flatten":
                ops.append(("flatten", layer, None))
            elif kind == "Dense":
                act = self._activation(layer.activation)
                if act is None:
                    return None
                ops.append(("dense", layer, act))
            elif kind == "Activation":
                act = self._activation(layer.activation)
                if act is None:
                    return None
                ops.append(("act", layer, act))
            elif kind == "BatchNormalization":
                ops.append(("bn", layer, None))
            else:
                return None
        return ops

    def sync(self):
        if self.ops is not None:
            self.params = []
            for kind, layer, _ in self.ops:
                if kind == "dense":
                    bias = layer.bias.numpy() if layer.use_bias else 0.0
                    self.params.append((layer.kernel.numpy(), bias))
                elif kind == "bn":
                    gamma = layer.gamma.numpy() if layer.scale else 1.0
                    beta = layer.beta.numpy() if layer.center else 0.0
                    scale = gamma / np.sqrt(layer.moving_variance.numpy() + layer.epsilon)
                    self.params.append((scale, beta - layer.moving_mean.numpy() * scale))
                else:
                    self.params.append(None)
        return self

    def __call__(self, x):
        x = np.asarray(x, np.float32)
        if self.ops is None:
            return keras.ops.convert_to_numpy(self.model(x))
        for (kind, _, act), p in zip(self.ops, self.params):
            if kind == "flatten":
                x = x.reshape(x.shape[0], -1)
            elif kind == "dense":
                x = act(x @ p[0] + p[1])
            elif kind == "act":
                x = act(x)
            else:
                x = x * p[0] + p[1]
        return x


class Parameter(keras.layers.Layer):
    """A free trainable vector (PPO's state-independent log std, SAC's log alpha).

    Calling it returns the vector, whatever the input (the input only places it in a graph).
    """

    def __init__(self, size: int, initial: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.size, self.initial = int(size), float(initial)
        self.value = self.add_weight(shape=(self.size,), initializer=keras.initializers.Constant(self.initial),
                                     trainable=True, name="value")
        self.built = True

    def call(self, x=None):
        return keras.ops.convert_to_tensor(self.value)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "initial": self.initial}


class AgentModel(keras.Model):
    """Holds every network of an agent, so that Keras callbacks see one model.

    ``EarlyStopping(restore_best_weights=True)``, ``ModelCheckpoint(save_weights_only=True)``
    and ``TensorBoard`` work on it as on any model; ``stop_training`` stops ``learn``.
    Calling it runs the policy network on raw observations.
    """

    def __init__(self, networks: dict, normalizer: ObsNormalizer, policy: str, optimizer=None):
        super().__init__(name="agent")
        self.normalizer = normalizer
        self.network_names = tuple(networks)
        for key, net in networks.items():
            setattr(self, key, net)
        self.policy_name = policy
        self.optimizer = optimizer
        self.built = True

    def call(self, obs):
        return getattr(self, self.policy_name)(self.normalizer(obs))


def polyak_update(target_vars, source_vars, tau):
    """``target <- tau * source + (1 - tau) * target`` for every pair (tau=1 copies)."""
    for t, s in zip(target_vars, source_vars):
        t.assign(tau * s + (1.0 - tau) * t)


def categorical_log_prob(logits, actions):
    """log pi(a|s) of integer ``actions`` under a categorical with ``logits`` (last axis)."""
    logp = tf.nn.log_softmax(logits, axis=-1)
    return tf.gather(logp, tf.cast(actions, tf.int32), axis=-1, batch_dims=len(logits.shape) - 1)


def categorical_entropy(logits):
    logp = tf.nn.log_softmax(logits, axis=-1)
    return -tf.reduce_sum(tf.exp(logp) * logp, axis=-1)


def gaussian_log_prob(mean, log_std, x):
    """Log-density of a diagonal Gaussian, summed over the last axis."""
    z = (x - mean) * tf.exp(-log_std)
    return tf.reduce_sum(-0.5 * z**2 - log_std - 0.5 * _LOG_2PI, axis=-1)


def gaussian_entropy(log_std):
    return tf.reduce_sum(log_std + 0.5 * (1.0 + _LOG_2PI), axis=-1)


def squashed_gaussian_log_prob(mean, log_std, pre_tanh):
    """log pi(a|s) of ``a = tanh(u)``, ``u ~ N(mean, exp(log_std))``.

    The change of variables subtracts ``sum log(1 - tanh(u)^2)``, computed in the
    stable form ``2 * (log 2 - u - softplus(-2u))`` (SAC paper, appendix C).
    """
    correction = 2.0 * (math.log(2.0) - pre_tanh - tf.nn.softplus(-2.0 * pre_tanh))
    return gaussian_log_prob(mean, log_std, pre_tanh) - tf.reduce_sum(correction, axis=-1)
